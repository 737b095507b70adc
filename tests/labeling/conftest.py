"""Fixtures for labeling: an ontology, a dataset of image rows, a project with one member per project role."""

from __future__ import annotations

import json

import pytest

from apps.datasets.models import DataRow, Dataset
from apps.labeling import services
from apps.ontologies import services as ontology_services
from apps.ontologies.demo import VEHICLES


@pytest.fixture
def ontology(org, org_admin):
    return ontology_services.ontology_create(
        organization=org,
        name="vehicles",
        tools=VEHICLES["tools"],
        classifications=[{"name": "weather", "type": "radio", "options": [{"value": "sunny"}, {"value": "rain"}]}],
        actor=org_admin,
    )


@pytest.fixture
def make_rows(org):
    def make(n: int, prefix: str = "img", width: int = 640, height: int = 480, organization=None) -> list[DataRow]:
        owner = organization or org
        dataset = Dataset.objects.create(organization=owner, name=f"{prefix}-dataset")
        return DataRow.objects.bulk_create(
            DataRow(
                organization=owner,
                dataset=dataset,
                global_key=f"{prefix}-{i}",
                row_data=f"https://example.com/{prefix}-{i}.jpg",
                width=width,
                height=height,
            )
            for i in range(n)
        )

    return make


@pytest.fixture
def project_factory(org_admin, ontology):
    def make(name: str = "Vehicles", **settings):
        return services.project_create(
            actor=org_admin, name=name, ontology=ontology, instructions="Box every vehicle.", settings=settings
        )

    return make


@pytest.fixture
def project(project_factory):
    return project_factory(review={"sample_rate": 0.0})


@pytest.fixture
def members(project, org, org_admin, make_user):
    """One user per project role in `project` (plus an org labeler who is not a member)."""
    people = {}
    for role in ("labeler", "reviewer", "team_manager", "expert", "admin"):
        user = make_user(role="labeler" if role != "reviewer" else "reviewer", organization=org, username=f"p-{role}")
        services.project_member_set(actor=org_admin, project=project, user=user, role=role)
        people[role] = user
    people["outsider"] = make_user(role="labeler", organization=org, username="not-a-member")
    return people


def good_label() -> list[dict]:
    return [
        {
            "name": "vehicle",
            "bbox": {"top": 10, "left": 20, "height": 50, "width": 80},
            "classifications": [
                {
                    "name": "kind",
                    "answer": {
                        "name": "ambulance",
                        "classifications": [{"name": "lights_on", "answer": {"name": "yes"}}],
                    },
                }
            ],
        },
        {"name": "weather", "answer": {"name": "sunny"}},
    ]


def as_json(data) -> str:
    return json.dumps(data)
