"""Every write of the review app: leasing labels to reviewers and recording their decisions.

A claim gives the caller their own live review lease first, else the oldest `in_review` task of the highest batch
priority that nobody else is reviewing and that the caller did not label. Candidate rows are locked with
`FOR UPDATE SKIP LOCKED`, so concurrent reviewers take different tasks without waiting.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from apps.accounts.models import User
from apps.core.audit import audit_record
from apps.core.domain.numbers import is_finite_number
from apps.core.errors import Conflict, PermissionDenied, ValidationFailed
from apps.core.events import emit
from apps.issues.selectors import open_issue_count_for_task
from apps.labeling.domain import states
from apps.labeling.domain.states import TransitionError
from apps.labeling.models import Label, Project, Task, TaskState
from apps.labeling.services import label_revision_create, validate_label_document
from apps.labeling.services.events import tasks_done_emit
from apps.labeling.services.queue import lease_duration
from apps.review.models import Review, ReviewDecision, ReviewLease
from apps.review.selectors import serialize_review

MAX_FEEDBACK = 10_000
MAX_SECONDS = 24 * 3600.0
_CLAIM_ATTEMPTS = 5


def _reviewable(project: Project, actor: User, now: Any) -> Any:
    live_other = ReviewLease.objects.filter(task_id=OuterRef("pk"), expires_at__gt=now).exclude(reviewer=actor)
    own_work = Label.objects.filter(task_id=OuterRef("pk"), labeler=actor)
    return (
        Task.objects.filter(project=project, state=TaskState.IN_REVIEW)
        .exclude(labeled_by=actor)
        .exclude(Exists(own_work))
        .exclude(Exists(live_other))
    )


@transaction.atomic
def review_claim(*, actor: User, project: Project) -> Task | None:
    """Lease the next label to review to the actor (or return their live lease), or None when nothing is left."""
    now = timezone.now()
    own = (
        ReviewLease.objects.filter(project=project, reviewer=actor, expires_at__gt=now, task__state=TaskState.IN_REVIEW)
        .select_related("task")
        .order_by("claimed_at")
        .first()
    )
    if own is not None:
        return own.task
    tried: list[Any] = []
    for _ in range(_CLAIM_ATTEMPTS):
        task = (
            _reviewable(project, actor, now)
            .exclude(pk__in=tried)
            .select_for_update(skip_locked=True, of=("self",))
            .order_by("-review_priority", "-priority", "created_at", "id")
            .first()
        )
        if task is None:
            return None
        # Re-read the lease under the row lock: a claim that committed after our snapshot wins.
        lease = ReviewLease.objects.select_for_update().filter(task=task).first()
        if lease is not None and lease.reviewer_id != actor.pk and lease.expires_at > timezone.now():
            tried.append(task.pk)
            continue
        expires = now + lease_duration(project)
        ReviewLease.objects.update_or_create(
            task=task, defaults={"project": project, "reviewer": actor, "claimed_at": now, "expires_at": expires}
        )
        audit_record(action="review.claimed", actor=actor, organization=project.organization, target=task, extra={})
        return task
    return None


def _seconds(value: Any) -> float | None:
    if value is None:
        return None
    if not is_finite_number(value) or value < 0:
        raise ValidationFailed("Invalid seconds_spent.", details={"seconds_spent": ["A number of seconds from 0."]})
    return min(float(value), MAX_SECONDS)


def _feedback(value: Any, *, required: bool) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str) or len(value) > MAX_FEEDBACK:
        raise ValidationFailed("Invalid feedback.", details={"feedback": [f"Text of at most {MAX_FEEDBACK} chars."]})
    value = value.strip()
    if required and not value:
        raise ValidationFailed(
            "Feedback is required to reject a label.",
            code="feedback_required",
            details={"feedback": ["Tell the labeler what to fix."]},
        )
    return value


@transaction.atomic
def review_decide(
    *,
    actor: User,
    label: Label,
    decision: str,
    feedback: Any = None,
    annotations: Any = None,
    seconds_spent: Any = None,
    override_open_issues: bool = False,
) -> Review:
    """Approve (optionally with the reviewer's correction as a new revision) or reject with feedback."""
    if decision not in ReviewDecision.values:
        raise ValidationFailed("Unknown decision.", details={"decision": ["approve or reject."]})
    text = _feedback(feedback, required=decision == ReviewDecision.REJECT)
    seconds = _seconds(seconds_spent)
    if annotations is not None and decision != ReviewDecision.APPROVE:
        raise ValidationFailed(
            "Corrections come with an approval.", details={"annotations": ["Only with decision approve."]}
        )
    task = Task.objects.select_for_update().select_related("project", "data_row").get(pk=label.task_id)
    project: Project = task.project
    label = Label.objects.get(pk=label.pk)
    if not label.is_current:
        raise Conflict("A newer revision of this label exists; review that one.", code="stale_revision")
    if label.labeler_id == actor.pk or task.labeled_by_id == actor.pk:
        raise PermissionDenied("You may not review your own label.", code="own_label")
    now = timezone.now()
    lease = ReviewLease.objects.select_for_update().filter(task=task).first()
    if lease is not None and lease.reviewer_id != actor.pk and lease.expires_at > now:
        raise Conflict("Another reviewer is reviewing this label right now.", code="review_leased")
    server_seconds = (
        min((now - lease.claimed_at).total_seconds(), MAX_SECONDS)
        if lease is not None and lease.reviewer_id == actor.pk
        else None
    )
    try:
        if annotations is not None:
            states.next_state("edit", task.state)
        target = states.next_state("approve" if decision == ReviewDecision.APPROVE else "reject", task.state)
    except TransitionError as exc:
        raise Conflict(str(exc), code="invalid_state", details={"state": task.state}) from None

    if annotations is not None:
        document = validate_label_document(
            version=label.ontology_version, data_row=task.data_row, annotations=annotations
        )
        if document == label.annotations:
            annotations = None  # opened for editing but unchanged: a plain approval, no new revision

    overridden = 0
    if decision == ReviewDecision.APPROVE:
        open_issues = open_issue_count_for_task(task)
        if open_issues:
            allowed = bool(project.settings.get("review", {}).get("allow_approve_with_open_issues", False))
            if not (allowed and override_open_issues):
                raise Conflict(
                    f"This label has {open_issues} open issue(s): resolve them before approving"
                    + (" or approve with override_open_issues." if allowed else "."),
                    code="open_issues",
                    details={"open_issues": open_issues, "override_allowed": allowed},
                )
            overridden = open_issues

    result_label: Label | None = None
    if annotations is not None:
        result_label = label_revision_create(
            task=task, author=actor, annotations=annotations, seconds_spent=seconds, server_seconds=server_seconds
        )
    task.state = target
    task.assignee = None
    task.lease_expires_at = None
    if decision == ReviewDecision.APPROVE:
        task.done_at = now
        task.rework_user = None
        task.rework_open_at = None
    else:
        wait = int(project.settings.get("review", {}).get("rework_wait_hours", 24))
        task.done_at = None
        task.rework_user_id = task.labeled_by_id or label.labeler_id
        task.rework_open_at = now + timedelta(hours=wait)
    task.save()
    if lease is not None:
        lease.delete()
    review = Review.objects.create(
        project=project,
        task=task,
        label=label,
        result_label=result_label,
        reviewer=actor,
        decision=decision,
        edited=result_label is not None,
        feedback=text,
        overrode_open_issues=overridden,
        seconds_spent=seconds,
        server_seconds=server_seconds,
    )
    action = "label.rejected" if decision == ReviewDecision.REJECT else "label.approved"
    audit_record(
        action=action,
        actor=actor,
        organization=project.organization,
        target=label,
        extra={
            "review": str(review.pk),
            "task": str(task.pk),
            "edited": review.edited,
            "result_label": str(result_label.pk) if result_label else None,
            "overrode_open_issues": overridden,
            "state": task.state,
        },
    )
    event = "review.approved" if decision == ReviewDecision.APPROVE else "review.rejected"
    emit(
        type=event,
        organization_id=project.organization_id,
        project_id=project.pk,
        object=lambda: serialize_review(review),
    )
    tasks_done_emit(project, [task])
    return review


@transaction.atomic
def review_release(*, actor: User, task: Task) -> None:
    """Give a review lease back (the reviewer stops without deciding)."""
    released, _ = ReviewLease.objects.filter(task=task, reviewer=actor).delete()
    if released:
        audit_record(action="review.released", actor=actor, target=task)
