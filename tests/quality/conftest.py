"""Quality fixtures: the labeling fixtures, a consensus project with three labelers, and label builders."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from apps.labeling import services
from tests.labeling.conftest import make_rows, members, ontology, project_factory  # noqa: F401


@pytest.fixture
def labelers(org, make_user):
    return [make_user(role="labeler", organization=org, username=f"q-labeler-{i}") for i in range(3)]


@pytest.fixture
def manager(org, make_user):
    return make_user(role="labeler", organization=org, username="q-manager")


@pytest.fixture
def consensus_project(project_factory, org_admin, labelers, manager):  # noqa: F811
    project = project_factory(
        name="Consensus",
        quality={"consensus_coverage": 1.0, "consensus_labelers": 3, "consensus_threshold": 0.9},
        review={"sample_rate": 0.0},
    )
    for user in labelers:
        services.project_member_set(actor=org_admin, project=project, user=user, role="labeler")
    services.project_member_set(actor=org_admin, project=project, user=manager, role="team_manager")
    return project


def weather(answer: str) -> list[dict]:
    return [{"name": "weather", "answer": {"name": answer}}]


def boxes(*rects: tuple[float, float, float, float], kind: str = "police") -> list[dict]:
    """Vehicle boxes (left, top, width, height), each with the required `kind` answer."""
    return [
        {
            "name": "vehicle",
            "bbox": {"left": left, "top": top, "width": width, "height": height},
            "classifications": [{"name": "kind", "answer": {"name": kind}}],
        }
        for left, top, width, height in rects
    ]


def add_batch(project, actor, rows, name="b1", **extra):
    return services.batch_create(
        actor=actor, project=project, name=name, data_row_ids=[str(r.id) for r in rows], **extra
    )


@pytest.fixture(autouse=True)
def scoring_runs_at_once(monkeypatch):
    """Tests run inside one transaction that never commits, so on-commit hooks would never fire: run the scoring
    hook at once (django-q2 is synchronous in tests). `test_worker.py` covers the real path: commit, then a real
    qcluster process."""
    from apps.quality.services import scoring

    monkeypatch.setattr(scoring, "transaction", SimpleNamespace(on_commit=lambda func, *args, **kwargs: func()))
