"""The claim: one task to one labeler at a time, atomically.

Order: the caller's own live lease first, then rework sent back to the caller, then rework open to anyone, then what
registered claim sources hand out (benchmark rows, expert routing), then new work by batch priority, queue rank
(the active learning order, precomputed) and age (expired
leases count as new work). A labeler never gets a second slot of a data row they have labeled or hold. On PostgreSQL
candidates are locked with `FOR UPDATE SKIP LOCKED`, so concurrent claims take different rows without waiting; on
SQLite write transactions are serialized (IMMEDIATE). Claims of one labeler are serialized by a lock on their user row.

The order is read off an index so a claim stops at the first free candidate whatever the queue's length: on
PostgreSQL the partial index `task_claimable`; on SQLite, which cannot use that partial index nor order by an index
with NULLS LAST, the expression index `task_claim_order_sqlite` (migration 0011) with queued and expired-lease
candidates asked for separately (a claim over 5,000 queued tasks took 10+ ms of sorting before).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import BooleanField, Case, Exists, ExpressionWrapper, F, OuterRef, Q, QuerySet, Value, When
from django.utils import timezone

from apps.accounts.models import User
from apps.core.compiled import CompiledQuery, SlotKind
from apps.core.row_writes import row_update
from apps.datasets.models import DataRow
from apps.labeling import registry
from apps.labeling.domain import states
from apps.labeling.models import Label, Project, Task, TaskState


def lease_duration(project: Project) -> timedelta:
    minutes = int(project.settings.get("lease", {}).get("minutes", 30))
    return timedelta(minutes=minutes)


def leases_per_labeler(project: Project) -> int:
    return int(project.settings.get("lease", {}).get("max_per_labeler", 4))


def _untouched_q(actor_id: uuid.UUID) -> Q:
    """Rows the actor has not labeled and holds no other slot of (as a condition, to combine with others)."""
    labeled = Label.objects.filter(
        project_id=OuterRef("project_id"), data_row_id=OuterRef("data_row_id"), labeler_id=actor_id
    )
    holding = Task.objects.filter(
        project_id=OuterRef("project_id"), data_row_id=OuterRef("data_row_id"), assignee_id=actor_id
    ).exclude(pk=OuterRef("pk"))
    return ~Exists(labeled) & ~Exists(holding)


def _new_work_q(now: datetime) -> Q:
    """New work: queued, or leased with the lease run out."""
    return Q(state=TaskState.TO_LABEL) | Q(state=TaskState.IN_PROGRESS, lease_expires_at__lt=now)


# --- the claim's statements, compiled once per thread (see `compiled.py`) -----------------------------------------


def _locked_first(queryset: QuerySet[Task], *order: Any) -> QuerySet[Task]:
    """The first candidate nobody else holds, locked."""
    locked = queryset.select_for_update(skip_locked=True, of=("self",))
    rank = F("queue_rank").asc(nulls_last=True)  # active learning order, precomputed (`queue_rank_set`)
    return locked.order_by(*order, "-priority", rank, "created_at", "id")[:1]


def _claim_details(*, data_row_id: uuid.UUID, task_id: uuid.UUID) -> QuerySet[DataRow]:
    """The claimed task's data row, and whether the task has a current label and the row attachments: the claim
    answer shows them, and most claims are fresh rows with neither (no further query then). A statement of its own:
    as subqueries of the claim statement PostgreSQL would plan them for every candidate row (and hash whole tables)."""
    return DataRow.objects.filter(pk=data_row_id).annotate(
        has_attachments=Exists(DataRow.objects.filter(pk=OuterRef("pk"), attachments__isnull=False)),
        has_current_label=Exists(Label.objects.filter(task_id=task_id, is_current=True)),
    )[:1]


def _own_leases(*, project_id: uuid.UUID, actor_id: uuid.UUID, now: datetime) -> QuerySet[Task]:
    """The actor's live leases in the project, oldest first (at most `MAX_LEASES_PER_LABELER`: the setting's bound)."""
    own = Task.objects.filter(
        project_id=project_id, assignee_id=actor_id, state=TaskState.IN_PROGRESS, lease_expires_at__gt=now
    )
    return own.order_by("claimed_at", "id")[:MAX_LEASES_PER_LABELER]


MAX_LEASES_PER_LABELER = 32  # the bound of the `lease.max_per_labeler` setting


def _held_lease(leases: list[Task], lease_key: str, limit: int) -> Task | None:
    """The lease a claim returns instead of new work: the one held under the claim's key (any, oldest first, for a
    claim that names no key), else the oldest once the labeler holds `limit` leases."""
    if not lease_key:
        return leases[0] if leases else None
    for lease in leases:
        if lease.lease_key == lease_key:
            return lease
    return leases[0] if len(leases) >= limit else None


def _rework(*, project_id: uuid.UUID, actor_id: uuid.UUID, now: datetime) -> QuerySet[Task]:
    """Rework sent back to the actor, then rework open to anyone: one statement (most projects have none at all)."""
    mine = Q(rework_user_id=actor_id)
    # Expert tasks in rework go back to their expert only: opening them to anyone would hand them to labelers.
    open_to_all = Q(rework_open_at__lte=now) & ~Q(rework_user_id=actor_id) & ~Q(kind="expert") & _untouched_q(actor_id)
    candidates = Task.objects.filter(mine | open_to_all, project_id=project_id, state=TaskState.IN_REWORK)
    return _locked_first(candidates, Case(When(mine, then=Value(0)), default=Value(1)))


def _new_work(*, project_id: uuid.UUID, actor_id: uuid.UUID, now: datetime) -> QuerySet[Task]:
    candidates = Task.objects.filter(_new_work_q(now), _untouched_q(actor_id), project_id=project_id)
    return _locked_first(candidates.exclude(kind="expert"))  # expert tasks: only through their claim source


def _sqlite_first(state: Q, *, project_id: uuid.UUID, actor_id: uuid.UUID) -> QuerySet[Task]:
    """SQLite: the first candidate in queue order, walked along `task_claim_order_sqlite` (`queue_rank IS NULL`
    then `queue_rank` is NULLS LAST in an order an index can give)."""
    candidates = Task.objects.filter(state, _untouched_q(actor_id), project_id=project_id).exclude(kind="expert")
    unranked = ExpressionWrapper(Q(queue_rank__isnull=True), output_field=BooleanField())
    return candidates.alias(unranked=unranked).order_by("-priority", "unranked", "queue_rank", "created_at", "id")[:1]


def _queued_work_sqlite(*, project_id: uuid.UUID, actor_id: uuid.UUID) -> QuerySet[Task]:
    return _sqlite_first(Q(state=TaskState.TO_LABEL), project_id=project_id, actor_id=actor_id)


def _expired_work_sqlite(*, project_id: uuid.UUID, actor_id: uuid.UUID, now: datetime) -> QuerySet[Task]:
    """SQLite: the first task whose lease ran out (few: at most one per labeler), in queue order."""
    expired = Q(state=TaskState.IN_PROGRESS, lease_expires_at__lt=now)
    return _sqlite_first(expired, project_id=project_id, actor_id=actor_id)


def _queue_key(task: Task) -> tuple[Any, ...]:
    return (-task.priority, task.queue_rank is None, task.queue_rank or 0, task.created_at, task.pk)


def _first_new_work(*, project_id: uuid.UUID, actor_id: uuid.UUID, now: datetime) -> Task | None:
    if connection.vendor != "sqlite":
        return NEW_WORK.first(project_id=project_id, actor_id=actor_id, now=now)  # queued and expired together
    queued = QUEUED_WORK_SQLITE.first(project_id=project_id, actor_id=actor_id)
    expired = EXPIRED_WORK_SQLITE.first(project_id=project_id, actor_id=actor_id, now=now)
    return min((task for task in (queued, expired) if task is not None), key=_queue_key, default=None)


_SLOTS: dict[str, SlotKind] = {"project_id": "uuid", "actor_id": "uuid", "now": "datetime"}
OWN_LEASES = CompiledQuery(_own_leases, **_SLOTS)
REWORK = CompiledQuery(_rework, **_SLOTS)
NEW_WORK = CompiledQuery(_new_work, **_SLOTS)
QUEUED_WORK_SQLITE = CompiledQuery(_queued_work_sqlite, project_id="uuid", actor_id="uuid")
EXPIRED_WORK_SQLITE = CompiledQuery(_expired_work_sqlite, **_SLOTS)
CLAIM_DETAILS = CompiledQuery(_claim_details, data_row_id="uuid", task_id="uuid")


def _with_details(task: Task, project: Project) -> Task:
    task.project = project  # the caller's project object: whoever reads `task.project` next needs no query
    details = CLAIM_DETAILS.first(data_row_id=task.data_row_id, task_id=task.pk)
    if details is not None:
        task.data_row = details
        task.has_current_label = details.has_current_label  # type: ignore[attr-defined]
        task.has_attachments = details.has_attachments  # type: ignore[attr-defined]
    return task


def _lock_user(*, actor_id: uuid.UUID) -> QuerySet[User]:
    return User.objects.select_for_update(no_key=True).filter(pk=actor_id).only("pk").order_by()[:1]


LOCK_USER = CompiledQuery(_lock_user, actor_id="uuid")


@transaction.atomic
def queue_claim(*, actor: User, project: Project, lease_key: str = "") -> Task | None:
    """Lease the next task to the actor (or return their live lease), or None when nothing is left for them.

    `lease_key` names the client claiming (a script's worker, a browser tab): each key holds its own lease, up to the
    project's `lease.max_per_labeler`, so several clients of one labeler work on different tasks instead of racing
    to submit one; a claim without a key returns the labeler's oldest live lease, as does one past the limit.

    The task comes with its data row, and `has_current_label` / `has_attachments` tell the caller whether reading
    the current label or the attachments can find anything (tasks from registered sources may lack them: then
    assume they can)."""
    # One claim at a time per labeler: parallel claims of one user (several tabs, a retrying client) would otherwise
    # each miss the other's uncommitted lease and take a second task, or a second slot of one consensus row. The row
    # lock is FOR NO KEY UPDATE so it does not block label inserts referencing the user (FOR KEY SHARE).
    LOCK_USER.first(actor_id=actor.pk)
    now = timezone.now()
    slots = {"project_id": project.pk, "actor_id": actor.pk, "now": now}
    task = _held_lease(OWN_LEASES.all(**slots), lease_key, leases_per_labeler(project))
    if task is not None:
        return _with_details(task, project)
    task = REWORK.first(**slots)
    if task is None:
        # Registered sources (benchmark rows, expert routing) come after rework, before new work.
        sourced = registry.claim_from_sources(project, actor, now)
        if sourced is not None:
            sourced.project = project
            if sourced.lease_key != (lease_key or None):
                sourced.lease_key = lease_key or None
                row_update(sourced, ["lease_key"])
            return sourced
        task = _first_new_work(project_id=project.pk, actor_id=actor.pk, now=now)
        if task is None:
            return None
    transition = "reclaim_expired" if task.state == TaskState.IN_PROGRESS else "claim"
    task.state = states.next_state(transition, task.state)
    task.assignee = actor
    task.claimed_at = now
    task.lease_expires_at = now + lease_duration(project)
    task.lease_key = lease_key or None
    row_update(task, ["state", "assignee", "claimed_at", "lease_expires_at", "lease_key", "updated_at"])
    return _with_details(task, project)


@transaction.atomic
def leases_release_expired(*, project: Project | None = None) -> int:
    """Put tasks whose lease ran out back in the queue (claims also take them; this keeps the overview honest)."""
    queryset = Task.objects.filter(state=TaskState.IN_PROGRESS, lease_expires_at__lt=timezone.now())
    if project is not None:
        queryset = queryset.filter(project=project)
    reworks = queryset.filter(rework_user__isnull=False).update(
        state=TaskState.IN_REWORK, assignee=None, lease_expires_at=None, claimed_at=None
    )
    fresh = queryset.filter(rework_user__isnull=True).update(
        state=TaskState.TO_LABEL, assignee=None, lease_expires_at=None, claimed_at=None
    )
    return reworks + fresh
