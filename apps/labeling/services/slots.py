"""Task slots other apps ask for: a benchmark slot leased to one labeler, and the review priority of a row."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max

from apps.accounts.models import User
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
