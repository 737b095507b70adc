"""The labeled projects the export benchmarks measure (`benchmark export`, `benchmark defaults`): built once per size
by bulk insert in a benchmark organization, and reused."""

from __future__ import annotations

import secrets
import time
from typing import Any

from django.db import connection

from apps.accounts import services as account_services
from apps.accounts.models import Organization, User
from apps.datasets.models import DataRow
from apps.labeling.benchmarks import queued_project
from apps.labeling.models import Label, Project, Task, TaskState
from apps.labeling.services.labels import validate_label_document

ORG_NAME = "Export benchmark"
ADMIN = "export-bench-admin"
CHUNK = 5000


def _box(i: int) -> dict[str, Any]:
    return {
        "name": "vehicle",
        "bbox": {"top": 10 + i * 20, "left": 20 + i * 30, "height": 50, "width": 80},
        "classifications": [{"name": "kind", "answer": {"name": "police" if i % 2 else "ambulance"}}],
    }


def _organization() -> tuple[Organization, User]:
    organization = Organization.objects.filter(name=ORG_NAME).first()
    if organization is None:
        created = account_services.organization_create(
            name=ORG_NAME, admin={"username": ADMIN, "password": secrets.token_urlsafe(24)}, actor=None
        )
        return created.organization, created.admin
    return organization, User.objects.get(username=ADMIN)


def _project(organization: Organization, admin: User, size: int) -> tuple[Project, float, bool]:
    """The project of `size` labeled rows, reused when a complete one exists."""
    name = f"Export benchmark {size}"
    existing = Project.objects.filter(organization=organization, name=name).first()
    if existing is not None and Label.objects.filter(project=existing).count() == size:
        return existing, 0.0, True
    started = time.perf_counter()
    project = queued_project(
        organization, admin, name=name, size=size, key_prefix="eb", instructions="Export benchmark."
    )
    sample = DataRow.objects.filter(tasks__project=project).order_by("id").first()
    assert sample is not None
    document = validate_label_document(
        version=project.ontology_version, data_row=sample, annotations=[_box(i) for i in range(5)]
    )
    tasks = Task.objects.filter(project=project).values_list("id", "data_row_id").order_by("data_row_id")
    pending: list[Label] = []
    for task_id, row_id in tasks.iterator(chunk_size=CHUNK):
        pending.append(
            Label(
                task_id=task_id,
                project=project,
                data_row_id=row_id,
                labeler=admin,
                ontology_version_id=project.ontology_version_id,
                annotations=document,
                seconds_spent=30.0,
            )
        )
        if len(pending) >= CHUNK:
            Label.objects.bulk_create(pending)
            pending = []
    if pending:
        Label.objects.bulk_create(pending)
    Task.objects.filter(project=project).update(state=TaskState.DONE, labeled_by=admin)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return project, time.perf_counter() - started, False
