"""The claim: one task to one labeler at a time, atomically.

Order: the caller's own live lease first, then rework sent back to the caller, then rework open to anyone, then what
registered claim sources hand out (benchmark rows, expert routing), then new work by batch priority and age (expired
leases count as new work). A labeler never gets a second slot of a data row they have labeled or hold. On PostgreSQL
candidates are locked with `FOR UPDATE SKIP LOCKED`, so concurrent claims take different rows without waiting; on
SQLite write transactions are serialized (IMMEDIATE). Claims of one labeler are serialized by a lock on their user row.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from apps.accounts.models import User
from apps.labeling import registry
from apps.labeling.domain import states
from apps.labeling.models import Label, Project, Task, TaskState


def lease_duration(project: Project) -> timedelta:
    minutes = int(project.settings.get("lease", {}).get("minutes", 30))
    return timedelta(minutes=minutes)


def _untouched_by(actor: User, queryset: QuerySet[Task]) -> QuerySet[Task]:
    """Rows the actor has not labeled and holds no other slot of."""
    labeled = Label.objects.filter(
        project_id=OuterRef("project_id"), data_row_id=OuterRef("data_row_id"), labeler=actor
    )
    holding = Task.objects.filter(
        project_id=OuterRef("project_id"), data_row_id=OuterRef("data_row_id"), assignee=actor
    ).exclude(pk=OuterRef("pk"))
    return queryset.exclude(Exists(labeled)).exclude(Exists(holding))


def _first_locked(queryset: QuerySet[Task]) -> Task | None:
    return queryset.select_for_update(skip_locked=True, of=("self",)).order_by("-priority", "created_at", "id").first()


def claimable_tasks(project: Project, actor: User) -> list[QuerySet[Task]]:
    """The candidate sets in claim order (each already excludes what the actor may not take)."""
    now = timezone.now()
    base = Task.objects.filter(project=project)
    rework_mine = base.filter(state=TaskState.IN_REWORK, rework_user=actor)
    rework_open = _untouched_by(
        actor, base.filter(state=TaskState.IN_REWORK, rework_open_at__lte=now).exclude(rework_user=actor)
    )
    new_work = _untouched_by(
        actor,
        base.filter(Q(state=TaskState.TO_LABEL) | Q(state=TaskState.IN_PROGRESS, lease_expires_at__lt=now)),
    ).exclude(kind="expert")  # expert tasks: only through their claim source
    return [rework_mine, rework_open, new_work]


@transaction.atomic
def queue_claim(*, actor: User, project: Project) -> Task | None:
    """Lease the next task to the actor (or return their live lease), or None when nothing is left for them."""
    # One claim at a time per labeler: parallel claims of one user (several tabs, a retrying client) would otherwise
    # each miss the other's uncommitted lease and take a second task, or a second slot of one consensus row. The row
    # lock is FOR NO KEY UPDATE so it does not block label inserts referencing the user (FOR KEY SHARE).
    User.objects.select_for_update(no_key=True).filter(pk=actor.pk).values_list("pk", flat=True).first()
    now = timezone.now()
    own = (
        Task.objects.filter(project=project, assignee=actor, state=TaskState.IN_PROGRESS, lease_expires_at__gt=now)
        .order_by("claimed_at")
        .first()
    )
    if own is not None:
        return own
    rework_mine, rework_open, new_work = claimable_tasks(project, actor)
    for candidates in (rework_mine, rework_open, None, new_work):
        if candidates is None:
            # Registered sources (benchmark rows, expert routing) come after rework, before new work.
            sourced = registry.claim_from_sources(project, actor, now)
            if sourced is not None:
                return sourced
            continue
        task = _first_locked(candidates)
        if task is None:
            continue
        transition = "reclaim_expired" if task.state == TaskState.IN_PROGRESS else "claim"
        task.state = states.next_state(transition, task.state)
        task.assignee = actor
        task.claimed_at = now
        task.lease_expires_at = now + lease_duration(project)
        task.save(update_fields=["state", "assignee", "claimed_at", "lease_expires_at", "updated_at"])
        return task
    return None


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
