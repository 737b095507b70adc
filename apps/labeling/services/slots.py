"""Task slots other apps ask for: a benchmark slot leased to one labeler, expert slots (routed low-confidence rows,
served to experts only), and the review priority of a row."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Max, Q, QuerySet

from apps.accounts.models import User
from apps.labeling.domain import states
from apps.labeling.models import Project, Task, TaskKind, TaskState
from apps.labeling.services.queue import lease_duration

_SLOT_ATTEMPTS = 5


@transaction.atomic
def benchmark_task_lease(*, project: Project, actor: User, data_row_id: Any, batch_id: Any, now: datetime) -> Task:
    """A new slot of a benchmark row, leased to the actor. It looks like any other task to them; its label is
    scored against the row's reference and does not go to review. Concurrent labelers taking a slot of the same
    row race for the next slot number; the loser retries with the one after."""
    for _ in range(_SLOT_ATTEMPTS):
        top = Task.objects.filter(project=project, data_row_id=data_row_id).aggregate(top=Max("slot"))["top"]
        try:
            with transaction.atomic():
                return Task.objects.create(
                    project=project,
                    batch_id=batch_id,
                    data_row_id=data_row_id,
                    slot=(top or 0) + 1,
                    kind=TaskKind.BENCHMARK,
                    priority=5,
                    state=TaskState.IN_PROGRESS,
                    assignee=actor,
                    claimed_at=now,
                    lease_expires_at=now + lease_duration(project),
                )
        except IntegrityError:
            continue
    raise RuntimeError(f"Could not allocate a benchmark slot for data row {data_row_id} in {_SLOT_ATTEMPTS} tries.")


def review_priority_set(*, project: Project, data_row_id: Any, priority: int) -> int:
    """Serve this row's labels to reviewers before (priority > 0) or with the rest (0). Returns tasks changed."""
    return (
        Task.objects.filter(project=project, data_row_id=data_row_id)
        .exclude(kind=TaskKind.BENCHMARK)
        .exclude(review_priority=priority)
        .update(review_priority=priority)
    )


_EXPERT_OPEN = (TaskState.TO_LABEL, TaskState.IN_PROGRESS, TaskState.IN_REWORK)


@transaction.atomic
def expert_tasks_create(*, project: Project, confidences: dict[Any, float], due_at: datetime) -> list[Task]:
    """One expert task per given row of the project (`{data_row_id: lowest confidence}`) that has none yet: a new
    slot served only through the expert claim source, due at `due_at`. Rows not in the project are skipped. Safe to
    run twice and concurrently: the project row is locked while the rows are checked and the slots created (the
    lock does not block claims or submits, which lock task rows only)."""
    Project.objects.select_for_update(no_key=True).filter(pk=project.pk).values_list("pk", flat=True).first()
    if not confidences:
        return []
    row_ids = list(confidences)
    having = set(
        Task.objects.filter(project=project, kind=TaskKind.EXPERT, data_row_id__in=row_ids).values_list(
            "data_row_id", flat=True
        )
    )
    todo = [row_id for row_id in row_ids if row_id not in having]
    if not todo:
        return []
    tops = dict(
        Task.objects.filter(project=project, data_row_id__in=todo)
        .values("data_row_id")
        .annotate(top=Max("slot"))
        .values_list("data_row_id", "top")
    )
    batches = dict(
        Task.objects.filter(project=project, data_row_id__in=todo, slot=0).values_list("data_row_id", "batch_id")
    )
    created = [
        Task(
            project=project,
            batch_id=batches[row_id],
            data_row_id=row_id,
            slot=(tops.get(row_id) or 0) + 1,
            kind=TaskKind.EXPERT,
            priority=5,
            state=TaskState.TO_LABEL,
            due_at=due_at,
            confidence=confidences[row_id],
        )
        for row_id in todo
        if row_id in batches
    ]
    return Task.objects.bulk_create(created, batch_size=2000)


def expert_task_lease(*, project: Project, actor: User, now: datetime) -> Task | None:
    """Lease the project's next expert task (lowest confidence first, then oldest) to the actor, or None. The
    caller checks the actor may work expert tasks; runs inside the claim transaction."""
    candidates = Task.objects.filter(project=project, kind=TaskKind.EXPERT).filter(
        Q(state=TaskState.TO_LABEL) | Q(state=TaskState.IN_PROGRESS, lease_expires_at__lt=now)
    )
    task = (
        candidates.select_for_update(skip_locked=True, of=("self",))
        .order_by(F("confidence").asc(nulls_last=True), "created_at", "id")
        .first()
    )
    if task is None:
        return None
    transition = "reclaim_expired" if task.state == TaskState.IN_PROGRESS else "claim"
    task.state = states.next_state(transition, task.state)
    task.assignee = actor
    task.claimed_at = now
    task.lease_expires_at = now + lease_duration(project)
    task.save(update_fields=["state", "assignee", "claimed_at", "lease_expires_at", "updated_at"])
    return task


def expert_tasks_overdue(*, now: datetime, notified: bool | None = None) -> QuerySet[Task]:
    """Open expert tasks past their due time (`notified`: only those already flagged / not yet flagged)."""
    queryset = Task.objects.filter(kind=TaskKind.EXPERT, state__in=_EXPERT_OPEN, due_at__lt=now)
    if notified is not None:
        queryset = queryset.filter(overdue_notified_at__isnull=not notified)
    return queryset


def expert_tasks_mark_notified(*, task_ids: list[Any], now: datetime) -> int:
    """Flag overdue expert tasks as notified (only those not flagged yet). Returns how many were flagged."""
    return Task.objects.filter(pk__in=task_ids, overdue_notified_at__isnull=True).update(
        overdue_notified_at=now, updated_at=now
    )
