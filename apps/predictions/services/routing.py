"""Routing low-confidence rows to experts, serving them, and telling managers about overdue ones."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Min
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import User
from apps.accounts.roles import OrgRole
from apps.core.events import emit
from apps.core.ids import is_uuid
from apps.core.queue import enqueue
from apps.labeling import services as labeling_services
from apps.labeling.access import can
from apps.labeling.models import Project, ProjectRole, Task
from apps.labeling.selectors import data_rows_in_project
from apps.predictions.domain.routing import due_time, rows_to_route
from apps.predictions.models import ImportKind, Prediction, Prelabel
from apps.predictions.services.targets import Target

logger = logging.getLogger(__name__)
OVERDUE_BATCH = 500


def attached_projects(*, model_run_id: Any, organization_id: Any) -> list[Project]:
    """Projects that use this model run (`queue.model_run` setting): its predictions route their rows too."""
    return list(Project.objects.filter(organization_id=organization_id, settings__queue__model_run=str(model_run_id)))


def routing_enqueue(*, target: Target) -> None:
    """After an import commits, route the affected projects in the worker (idempotent, so a retry is harmless)."""
    if target.kind == ImportKind.PRELABELS:
        project_ids = [target.project.pk]  # type: ignore[union-attr]
    else:
        project_ids = [
            p.pk for p in attached_projects(model_run_id=target.owner_id, organization_id=target.organization_id)
        ]
    for project_id in project_ids:
        transaction.on_commit(
            lambda pid=str(project_id): enqueue(  # type: ignore[misc]
                "apps.predictions.tasks.route_project", pid, task_name=f"route:{pid}"
            )
        )


def project_route(*, project: Project, now: datetime | None = None) -> int:
    """Create the expert tasks the project's pre-labels and attached-run predictions call for. Returns how many
    were created (0 on a second run)."""
    routing = project.settings.get("routing", {}) or {}
    threshold = routing.get("confidence_threshold")
    if threshold is None:
        return 0
    due_hours = int(routing.get("due_hours") or 48)
    now = now or timezone.now()
    minimums: list[tuple[Any, float | None]] = list(
        Prelabel.objects.filter(project=project, confidence__lt=threshold)
        .values("data_row_id")
        .annotate(low=Min("confidence"))
        .values_list("data_row_id", "low")
    )
    run_id = (project.settings.get("queue", {}) or {}).get("model_run")
    if run_id and is_uuid(run_id):
        low = dict(
            Prediction.objects.filter(
                model_run_id=run_id, model_run__model__organization_id=project.organization_id, confidence__lt=threshold
            )
            .values("data_row_id")
            .annotate(low=Min("confidence"))
            .values_list("data_row_id", "low")
        )
        in_project = data_rows_in_project(project=project, data_row_ids=low)
        minimums += [(row, value) for row, value in low.items() if row in in_project]
    routed = rows_to_route(minimums, float(threshold))
    created = labeling_services.expert_tasks_create(
        project=project, confidences=routed, due_at=due_time(now, due_hours)
    )
    return len(created)


def expert_claim(project: Project, actor: User, now: datetime) -> Task | None:
    """The labeling queue's claim source for expert tasks: only for members who may work them."""
    if not can(actor, project, "expert"):
        return None
    return labeling_services.expert_task_lease(project=project, actor=actor, now=now)


def managers_of(project: Project) -> list[User]:
    """The project's team managers; when it has none, the organization's team managers and admins."""
    members = list(
        User.objects.filter(
            project_memberships__project=project,
            project_memberships__role=ProjectRole.TEAM_MANAGER,
            is_active=True,
        ).exclude(email="")
    )
    if members:
        return members
    return list(
        User.objects.filter(
            organization_id=project.organization_id,
            role__in=[OrgRole.TEAM_MANAGER, OrgRole.ADMIN],
            is_active=True,
        ).exclude(email="")
    )


def _notify(task: Task, recipients: list[User]) -> None:
    project = task.project
    url = reverse("predictions:project", args=[project.pk])
    due = task.due_at.isoformat() if task.due_at else "?"
    send_mail(
        subject=f"[TDP] Overdue expert task in {project.name}",
        message=(
            f"The expert task for data row {task.data_row.global_key} in project {project.name} was due at {due} "
            f"and is still {task.get_state_display().lower()}.\n"
            f"Model confidence: {task.confidence if task.confidence is not None else 'n/a'}.\n"
            f"Expert queue: {url}\n"
        ),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[u.email for u in recipients],
    )


def overdue_expert_tasks_notify(*, now: datetime | None = None) -> int:
    """Flag open expert tasks past their due time and mail the project's managers, once per task: each task is
    locked (skip locked: two workers split the work), mailed, and flagged in the same transaction, so a failed mail
    is retried on the next run and a flagged task is never mailed again. Returns how many were flagged."""
    now = now or timezone.now()
    flagged = 0
    while True:
        with transaction.atomic():
            tasks = list(
                labeling_services.expert_tasks_overdue(now=now, notified=False)
                .select_related("project", "data_row")
                .select_for_update(skip_locked=True, of=("self",))
                .order_by("due_at", "id")[:OVERDUE_BATCH]
            )
            if not tasks:
                return flagged
            recipients: dict[Any, list[User]] = {}
            for task in tasks:
                if task.project_id not in recipients:
                    recipients[task.project_id] = managers_of(task.project)
                if recipients[task.project_id]:
                    _notify(task, recipients[task.project_id])
                emit(
                    type="expert_task.overdue",
                    organization_id=task.project.organization_id,
                    project_id=task.project_id,
                    object=lambda task=task: {  # type: ignore[misc]
                        "id": str(task.pk),
                        "project": str(task.project_id),
                        "data_row": str(task.data_row_id),
                        "confidence": task.confidence,
                        "due_at": task.due_at.isoformat() if task.due_at else None,
                        "state": task.state,
                    },
                )
            flagged += labeling_services.expert_tasks_mark_notified(task_ids=[t.pk for t in tasks], now=now)
        if len(tasks) < OVERDUE_BATCH:
            return flagged


def overdue_count(project: Project) -> int:
    return labeling_services.expert_tasks_overdue(now=timezone.now()).filter(project=project).count()
