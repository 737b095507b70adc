"""Drafts: a labeler's unsubmitted work on a task, kept on the server so a crash, a reload, an expired lease that
the same labeler claims again, or another device never loses it. Checked loosely (shape and size), never as a label:
the label validator runs on submit, and a half-drawn polygon must still be saveable."""

from __future__ import annotations

import json
import math
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction

from apps.accounts.models import User
from apps.core.errors import Conflict, PayloadTooLarge, PermissionDenied, ValidationFailed
from apps.labeling.domain import states
from apps.labeling.models import Draft, Label, Task, TaskState

MAX_DRAFT_BYTES = 2 * 1024 * 1024


def may_keep_draft(*, actor: User, task: Task) -> bool:
    """A draft is kept for the task one holds, or for one's own current label that can still be edited (the
    "previous task" path)."""
    if task.assignee_id == actor.pk and task.state == TaskState.IN_PROGRESS:
        return True
    if task.state not in states.TRANSITIONS["edit"][0] | states.TRANSITIONS["edit_awaiting"][0]:
        return False
    return Label.objects.filter(task=task, is_current=True, labeler=actor).exists()


def _seconds(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        raise ValidationFailed("Invalid seconds_spent.", details={"seconds_spent": ["A number of seconds from 0."]})
    return min(float(value), 24 * 3600.0)


def _checked_document(annotations: Any) -> tuple[list[Any], int]:
    if type(annotations) is not list:
        raise ValidationFailed(
            "A draft holds the label's annotation list.", details={"annotations": ["A list of annotation objects."]}
        )
    limit = settings.TDP_MAX_ANNOTATIONS_PER_LABEL
    if len(annotations) > limit:
        raise PayloadTooLarge(
            f"A draft holds at most {limit} annotations; this one has {len(annotations)}.",
            code="too_many_annotations",
            details={"annotations": [f"At most {limit}."], "limit": limit},
        )
    bad = [index for index, item in enumerate(annotations) if type(item) is not dict]
    if bad:
        raise ValidationFailed(
            "Every annotation of a draft is an object.",
            details={"annotations": [{"path": f"[{index}]", "message": "Not an object."} for index in bad[:20]]},
        )
    size = len(json.dumps(annotations, separators=(",", ":")).encode())
    if size > MAX_DRAFT_BYTES:
        raise PayloadTooLarge(
            f"A draft is at most {MAX_DRAFT_BYTES} bytes; this one has {size}.", code="draft_too_large"
        )
    return annotations, size


@transaction.atomic
def draft_save(
    *,
    actor: User,
    task: Task,
    annotations: Any,
    revision: int | None = None,
    client_saved_at: datetime | None = None,
    seconds_spent: Any = None,
) -> Draft:
    """Create or replace the actor's draft of the task. A `revision` lower than the stored one is a 409 (another
    window or device saved newer work; the client shows it instead of overwriting it)."""
    if not may_keep_draft(actor=actor, task=task):
        raise PermissionDenied("You can keep a draft only of a task you are labeling or of your own unreviewed label.")
    document, size = _checked_document(annotations)
    draft = Draft.objects.select_for_update().filter(task=task, user=actor).first()
    if draft is None:
        draft = Draft(task=task, user=actor, project_id=task.project_id)
    elif revision is not None and revision < draft.revision:
        raise Conflict(
            "A newer draft of this task was saved from another window or device.",
            code="stale_draft",
            details={"revision": draft.revision, "saved_at": draft.updated_at.isoformat()},
        )
    draft.annotations = document
    draft.size_bytes = size
    draft.revision = revision if revision is not None else draft.revision + 1
    draft.client_saved_at = client_saved_at
    draft.seconds_spent = _seconds(seconds_spent)
    draft.save()
    return draft


def draft_delete(*, actor: User, task: Task) -> int:
    """Delete the actor's draft of the task (if any); how many were deleted."""
    deleted, _ = Draft.objects.filter(task_id=task.pk, user_id=actor.pk).delete()
    return deleted
