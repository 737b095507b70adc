"""Every write of the issues app: open, comment, resolve, reopen; mentions become inbox entries and emails."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.core.audit import audit_record
from apps.core.domain.numbers import is_finite_number
from apps.core.errors import Conflict, ValidationFailed
from apps.core.events import emit
from apps.core.queue import enqueue_on_commit
from apps.datasets.models import VideoAsset, VideoStatus
from apps.issues.access import may_participate
from apps.issues.domain import pins
from apps.issues.models import Comment, Issue, IssueStatus, Mention
from apps.issues.selectors import issue_thread, serialize_issue
from apps.labeling import selectors as labeling_selectors
from apps.labeling.access import can
from apps.labeling.models import Label, Project, Task
from apps.ontologies.domain.video_validation import TRACK_ID

MAX_TEXT = 10_000
# `@name` not preceded by a word character (so e-mail addresses are not mentions); Django usernames allow . @ + -
MENTION = re.compile(r"(?<![\w@])@([\w.@+-]{1,150})")


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_TEXT:
        raise ValidationFailed("Text is required.", details={"text": [f"1 to {MAX_TEXT} characters."]})
    return value.strip()


def _position(position: Any, task_or_row: Any) -> tuple[float | None, float | None]:
    if position is None:
        return None, None
    if not isinstance(position, dict) or set(position) != {"x", "y"}:
        raise ValidationFailed("Invalid position.", details={"position": ['{"x": number, "y": number} or null.']})
    x, y = position["x"], position["y"]
    for value in (x, y):
        if not is_finite_number(value) or value < 0:
            raise ValidationFailed("Invalid position.", details={"position": ["Coordinates are numbers from 0."]})
    width, height = task_or_row.width, task_or_row.height
    if width and height and (x > width or y > height):
        raise ValidationFailed(
            "The position is outside the image.", details={"position": [f"Inside {width}×{height} pixels."]}
        )
    return float(x), float(y)


def video_pin(*, data_row: Any, label: Label | None, frame: Any, track_id: Any) -> tuple[int | None, str]:
    """(frame, track id) of an issue on a video: the frame inside the probed frame count, the track one of the label's
    tracks (any well-formed id before a label exists)."""
    if frame is None and track_id in (None, ""):
        return None, ""
    if data_row.media_type != "video":
        raise ValidationFailed(
            "Only issues on a video take a frame or a track.", details={"frame": ["This data row is not a video."]}
        )
    if frame is not None:
        if isinstance(frame, bool) or not isinstance(frame, int) or frame < 0:
            raise ValidationFailed("Invalid frame.", details={"frame": ["A frame index (an integer from 0)."]})
        count = VideoAsset.objects.filter(pk=data_row.pk, status=VideoStatus.READY).values_list(
            "frame_count", flat=True
        )
        frames = count.first()
        if frames is None:
            raise Conflict("The video is not probed yet: its frames are unknown.", code="video_pending")
        if frame >= frames:
            raise ValidationFailed(
                "The frame is outside the video.",
                details={"frame": [f"The video has {frames} frames (0..{frames - 1})."]},
            )
    if track_id in (None, ""):
        return frame, ""
    if not isinstance(track_id, str) or not TRACK_ID.match(track_id):
        raise ValidationFailed("Invalid track id.", details={"track_id": ["1 to 64 letters, digits, or _ . : -"]})
    if label is not None:
        tracks = {item.get("track_id") for item in label.annotations or [] if isinstance(item, dict)}
        if track_id not in tracks:
            raise ValidationFailed(
                "No such track in the label.", details={"track_id": [f"The label has no track {track_id!r}."]}
            )
    return frame, track_id


@dataclass(frozen=True)
class ObjectPin:
    index: int | None = None
    schema_id: str | None = None
    name: str = ""
    geometry: dict[str, Any] | None = None


def _tool_schema_ids(project: Project) -> dict[str, str]:
    tree = project.ontology_version.tree if project.ontology_version_id else {}
    return {str(t.get("name")): str(t.get("schema_id")) for t in (tree or {}).get("tools", []) if isinstance(t, dict)}


def _object_pin(*, actor: User, project: Project, task: Task | None, label: Label | None, annotation: Any) -> ObjectPin:
    """The object an issue is pinned on: `annotation` is its index in the label (or `{"index", "schema_id"}`, which
    also checks that the object there is of that feature). Before any label exists, the index is into the actor's
    own draft of the task (the work they see on the label page). Its geometry is kept for the crop."""
    if annotation is None:
        return ObjectPin()
    try:
        index, expected = pins.parse_object_ref(annotation)
    except pins.PinError as exc:
        raise ValidationFailed("Invalid annotation.", details={"annotation": [str(exc)]}) from None
    if label is not None:
        document: Any = label.annotations
    else:
        draft = labeling_selectors.draft_of(actor=actor, task=task) if task is not None else None
        document = draft.annotations if draft is not None else []
    if not isinstance(document, list) or not 0 <= index < len(document):
        where = "label" if label is not None else "saved draft"
        raise ValidationFailed(
            f"No object {index} in the {where}.",
            code="no_such_object",
            details={"annotation": [f"An index from 0 to {len(document) - 1}." if document else f"No {where}."]},
        )
    item = document[index]
    if not isinstance(item, dict):
        raise ValidationFailed("Not an object.", code="no_such_object", details={"annotation": ["Not an object."]})
    name = str(item.get("name", ""))[:200]
    schema_id = item.get("schema_id") or _tool_schema_ids(project).get(name)
    schema_id = str(schema_id) if schema_id else None
    if expected is not None and expected != schema_id:
        raise ValidationFailed(
            f"Object {index} is a {name or 'different object'}, not the one named.",
            code="object_mismatch",
            details={"annotation": [f"The object at {index} has schema_id {schema_id}."]},
        )
    return ObjectPin(index=index, schema_id=schema_id, name=name, geometry=pins.object_geometry(item))


def mentioned_users(*, issue: Issue, text: str, author: User) -> list[User]:
    """Users named `@username` in the text who may open this issue (`apps.issues.access`: the project's reviewers
    and managers, the issue's author, whoever labeled or holds its task). Anyone else named gets nothing: the
    inbox entry and the e-mail carry the text, which they may not read."""
    names = {name.rstrip(".") for name in MENTION.findall(text)}
    if not names:
        return []
    project = issue.project
    candidates = User.objects.filter(
        organization_id=project.organization_id, username__in=names, is_active=True
    ).exclude(pk=author.pk)
    return [
        user for user in candidates if can(user, project, "view") and may_participate(user, project, issue.task, issue)
    ]


def _mention(*, issue: Issue, comment: Comment | None, author: User, text: str) -> list[Mention]:
    mentions = []
    for user in mentioned_users(issue=issue, text=text, author=author):
        mention, created = Mention.objects.get_or_create(
            user=user, issue=issue, comment=comment, defaults={"mentioned_by": author}
        )
        if created:
            mentions.append(mention)
    for mention in mentions:
        mention_id = str(mention.pk)
        enqueue_on_commit("apps.issues.tasks.send_mention_email", mention_id)
    return mentions


def _payload(issue: Issue) -> dict[str, Any]:
    """The issue as the API shows it (with its thread), for `issue.*` events."""
    return serialize_issue(issue_thread(issue_id=issue.pk))


@transaction.atomic
def issue_create(
    *,
    actor: User,
    project: Project,
    task: Task | None,
    label: Label | None,
    data_row: Any,
    text: Any,
    position: Any = None,
    text_offset: Any = None,
    annotation: Any = None,
    frame: Any = None,
    track_id: Any = None,
) -> Issue:
    body = _text(text)
    x, y = _position(position, data_row)
    if text_offset is not None and (
        isinstance(text_offset, bool) or not isinstance(text_offset, int) or text_offset < 0
    ):
        raise ValidationFailed("Invalid text offset.", details={"text_offset": ["A character offset from 0."]})
    if label is None and task is not None:
        label = Label.objects.filter(task=task, is_current=True).first()
    pin = _object_pin(actor=actor, project=project, task=task, label=label, annotation=annotation)
    frame, track_id = video_pin(data_row=data_row, label=label, frame=frame, track_id=track_id)
    issue = Issue.objects.create(
        organization_id=project.organization_id,
        project=project,
        data_row_id=data_row.pk,
        task=task,
        label=label,
        created_by=actor,
        text=body,
        x=x,
        y=y,
        text_offset=text_offset,
        annotation_index=pin.index,
        feature_schema_id=pin.schema_id,
        feature_name=pin.name,
        annotation_geometry=pin.geometry,
        frame=frame,
        track_id=track_id,
    )
    _mention(issue=issue, comment=None, author=actor, text=body)
    audit_record(
        action="issue.created",
        actor=actor,
        organization=project.organization,
        target=issue,
        extra={"task": str(task.pk) if task else None, "label": str(label.pk) if label else None},
    )
    emit(
        type="issue.created",
        organization_id=project.organization_id,
        project_id=project.pk,
        object=lambda: _payload(issue),
    )
    return issue


@transaction.atomic
def comment_create(*, actor: User, issue: Issue, text: Any) -> Comment:
    body = _text(text)
    comment = Comment.objects.create(issue=issue, author=actor, text=body)
    Issue.objects.filter(pk=issue.pk).update(updated_at=timezone.now())
    _mention(issue=issue, comment=comment, author=actor, text=body)
    audit_record(
        action="issue.commented",
        actor=actor,
        organization=issue.project.organization,
        target=issue,
        extra={"comment": str(comment.pk)},
    )
    return comment


@transaction.atomic
def issue_resolve(*, actor: User, issue: Issue) -> Issue:
    issue = Issue.objects.select_for_update().select_related("project", "created_by").get(pk=issue.pk)
    if issue.status != IssueStatus.OPEN:
        raise Conflict("This issue is already resolved.", code="already_resolved")
    issue.status = IssueStatus.RESOLVED
    issue.resolved_by = actor
    issue.resolved_at = timezone.now()
    issue.save(update_fields=["status", "resolved_by", "resolved_at", "updated_at"])
    audit_record(action="issue.resolved", actor=actor, organization=issue.project.organization, target=issue)
    emit(
        type="issue.resolved",
        organization_id=issue.organization_id,
        project_id=issue.project_id,
        object=lambda: _payload(issue),
    )
    return issue


@transaction.atomic
def issue_reopen(*, actor: User, issue: Issue) -> Issue:
    issue = Issue.objects.select_for_update().select_related("project", "created_by").get(pk=issue.pk)
    if issue.status != IssueStatus.RESOLVED:
        raise Conflict("This issue is open.", code="already_open")
    issue.status = IssueStatus.OPEN
    issue.resolved_by = None
    issue.resolved_at = None
    issue.save(update_fields=["status", "resolved_by", "resolved_at", "updated_at"])
    audit_record(action="issue.reopened", actor=actor, organization=issue.project.organization, target=issue)
    return issue


@transaction.atomic
def mentions_mark_read(*, actor: User, ids: list[Any] | None = None) -> int:
    queryset = Mention.objects.filter(user=actor, read_at__isnull=True)
    if ids is not None:
        queryset = queryset.filter(pk__in=ids)
    return queryset.update(read_at=timezone.now())
