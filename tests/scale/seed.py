"""Data for the scale tests, written through the real services into the stack's database."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from django.utils import timezone
from django_q.models import Schedule

from apps.accounts import services as account_services
from apps.accounts.models import User
from apps.accounts.roles import OrgRole
from apps.datasets.models import DataRow, Dataset
from apps.labeling import services as labeling_services
from apps.labeling.models import Project
from apps.ontologies import services as ontology_services
from apps.ontologies.demo import VEHICLES

PASSWORD = "a-Strong-scale-pass-123"
CATCH_UP_FUNCS = ("apps.quality.tasks.score_catch_up", "apps.core.tasks.requeue_stalled_jobs")


@dataclass
class Seeded:
    project: Project
    admin: User
    admin_token: str
    labelers: list[tuple[User, str]] = field(default_factory=list)
    reviewers: list[tuple[User, str]] = field(default_factory=list)
    dataset: Dataset | None = None


def token(user: User) -> str:
    return account_services.api_token_create(user=user).key


def seed_project(
    *,
    rows: int,
    labelers: int,
    reviewers: int = 0,
    consensus: int = 0,
    review_rate: float = 0.0,
    batch_rows: int | None = None,
) -> Seeded:
    """An organization with a project on the vehicles ontology (plus a `weather` radio), `rows` image rows in a
    batch (`batch_rows` of them), the labelers and reviewers as project members, each with an API token."""
    tag = uuid.uuid4().hex[:8]
    org = account_services.organization_create(
        name=f"Scale {tag}", admin={"username": f"scale-{tag}-admin", "password": PASSWORD}, actor=None
    ).organization
    admin = User.objects.get(organization=org, role=OrgRole.ADMIN)
    ontology = ontology_services.ontology_create(
        organization=org,
        name="vehicles",
        tools=VEHICLES["tools"],
        classifications=[{"name": "weather", "type": "radio", "options": [{"value": "sunny"}, {"value": "rain"}]}],
        actor=admin,
    )
    settings: dict = {"review": {"sample_rate": review_rate}}
    if consensus:
        settings["quality"] = {"consensus_coverage": 1.0, "consensus_labelers": consensus, "consensus_threshold": 0.9}
    project = labeling_services.project_create(
        actor=admin, name=f"Scale {tag}", ontology=ontology, instructions="Weather.", settings=settings
    )
    dataset = Dataset.objects.create(organization=org, name=f"scale-{tag}")
    made = DataRow.objects.bulk_create(
        DataRow(
            organization=org,
            dataset=dataset,
            global_key=f"{tag}-{i}",
            row_data=f"https://example.com/{tag}-{i}.jpg",
            width=640,
            height=480,
        )
        for i in range(rows)
    )
    in_batch = made[: batch_rows if batch_rows is not None else rows]
    if in_batch:
        labeling_services.batch_create(
            actor=admin, project=project, name="b1", data_row_ids=[str(r.id) for r in in_batch]
        )
    seeded = Seeded(project=project, admin=admin, admin_token=token(admin), dataset=dataset)
    for i in range(labelers):
        user = account_services.user_create(
            organization=org, username=f"scale-{tag}-l{i}", password=PASSWORD, role=OrgRole.LABELER
        )
        labeling_services.project_member_set(actor=admin, project=project, user=user, role="labeler")
        seeded.labelers.append((user, token(user)))
    for i in range(reviewers):
        user = account_services.user_create(
            organization=org, username=f"scale-{tag}-r{i}", password=PASSWORD, role=OrgRole.REVIEWER
        )
        labeling_services.project_member_set(actor=admin, project=project, user=user, role="reviewer")
        seeded.reviewers.append((user, token(user)))
    return seeded


def schedules_due(funcs: tuple[str, ...] = CATCH_UP_FUNCS) -> None:
    """Make the catch-up schedules (created by migrations; a flushed test database may have lost them) exist, run
    every minute, and be due now: the next scheduler tick of a cluster runs them."""
    for func in funcs:
        Schedule.objects.filter(func=func).delete()
        Schedule.objects.create(
            name=f"scale: {func}",
            func=func,
            schedule_type=Schedule.MINUTES,
            minutes=1,
            repeats=-1,
            next_run=timezone.now() - timedelta(seconds=1),
        )


def weather(answer: str) -> list[dict]:
    return [{"name": "weather", "answer": {"name": answer}}]
