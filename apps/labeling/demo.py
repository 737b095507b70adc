"""Demo project: the demo image rows queued against the vehicles ontology, demo users as members (idempotent)."""

from __future__ import annotations

from apps.accounts.models import Organization, User
from apps.datasets.models import DataRow
from apps.labeling import services
from apps.labeling.models import Project
from apps.ontologies.models import Ontology

PROJECT_NAME = "Demo: vehicles"
MEMBERS = {
    "demo-labeler": "labeler",
    "demo-reviewer": "reviewer",
    "demo-manager": "team_manager",
    "demo-expert": "expert",
    "demo-admin": "admin",
}
INSTRUCTIONS = (
    "Draw a box around every vehicle and say what kind it is.\n"
    "For ambulances, say whether the lights are on. Answer the weather question for every image."
)


def load(organization: Organization) -> None:
    if Project.objects.filter(organization=organization, name=PROJECT_NAME).exists():
        return
    ontology = Ontology.objects.filter(organization=organization, name="vehicles").first()
    admin = User.objects.filter(organization=organization, role="admin").order_by("date_joined").first()
    if ontology is None or admin is None:
        return
    project = services.project_create(
        actor=admin,
        name=PROJECT_NAME,
        ontology=ontology,
        media_type="image",
        instructions=INSTRUCTIONS,
        settings={"review": {"sample_rate": 0.5}},
    )
    for username, role in MEMBERS.items():
        user = User.objects.filter(organization=organization, username=username).first()
        if user is not None:
            services.project_member_set(actor=admin, project=project, user=user, role=role)
    rows = list(
        DataRow.objects.filter(organization=organization, media_type="image")
        .order_by("created_at")[:200]
        .values_list("id", flat=True)
    )
    if rows:
        services.batch_create(
            actor=admin, project=project, name="demo batch", data_row_ids=[str(r) for r in rows], priority=3
        )
