"""Reads of the issues app, limited to what the caller may see and prefetched."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet

from apps.accounts.models import User
from apps.core.errors import ValidationFailed
from apps.core.ids import is_uuid
from apps.issues.access import issues_visible_to
from apps.issues.models import Comment, Issue, IssueStatus, Mention
from apps.labeling.models import Project, Task


def _with_thread(queryset: QuerySet[Issue]) -> QuerySet[Issue]:
    return queryset.select_related("created_by", "resolved_by", "label__labeler", "data_row").prefetch_related(
        Prefetch("comments", queryset=Comment.objects.select_related("author").order_by("created_at", "id"))
    )


def issue_thread(*, issue_id: Any) -> Issue:
    """One issue with its comments and people (the caller has checked access)."""
    return _with_thread(Issue.objects.filter(pk=issue_id)).get()


def open_issue_count(project: Project) -> int:
    return Issue.objects.filter(project=project, status=IssueStatus.OPEN).count()


def open_issue_count_for_task(task: Task) -> int:
    return Issue.objects.filter(task=task, status=IssueStatus.OPEN).count()


def open_issue_counts_by_task(*, actor: User, project: Project) -> list[dict[str, Any]]:
    """Tasks with open issues (that the actor may see), most open issues first."""
    rows = (
        issues_visible_to(actor, project)
        .filter(status=IssueStatus.OPEN, task__isnull=False)
        .values("task_id", "data_row_id", "data_row__global_key", "task__state")
        .annotate(open_issues=Count("id"))
        .order_by("-open_issues", "data_row__global_key")
    )
    return [
        {
            "task": str(row["task_id"]),
            "data_row": str(row["data_row_id"]),
            "global_key": row["data_row__global_key"],
            "state": row["task__state"],
            "open_issues": row["open_issues"],
        }
        for row in rows
    ]


def issues_of_task(*, task: Task) -> QuerySet[Issue]:
    return _with_thread(Issue.objects.filter(task=task)).order_by("created_at", "id")


def issues_of_project(
    *,
    actor: User,
    project: Project,
    status: str | None = None,
    feature: str | None = None,
    labeler: str | None = None,
    data_row: str | None = None,
) -> QuerySet[Issue]:
    queryset = _with_thread(issues_visible_to(actor, project))
    if status:
        if status not in IssueStatus.values:
            raise ValidationFailed("Unknown status.", details={"status": ["open or resolved."]})
        queryset = queryset.filter(status=status)
    for name, value in (("labeler", labeler), ("data_row", data_row)):
        if value and not is_uuid(value):
            raise ValidationFailed(f"{name} must be an id.", details={name: ["Not a UUID."]})
    if feature:
        queryset = (
            queryset.filter(feature_schema_id=feature) if is_uuid(feature) else queryset.filter(feature_name=feature)
        )
    if labeler:
        queryset = queryset.filter(Q(label__labeler_id=labeler) | Q(task__labeled_by_id=labeler))
    if data_row:
        queryset = queryset.filter(data_row__pk=data_row)
    return queryset


def inbox_of(*, actor: User) -> QuerySet[Mention]:
    return Mention.objects.filter(user=actor).select_related(
        "issue", "issue__project", "issue__data_row", "comment", "mentioned_by"
    )


def has_crop(issue: Issue) -> bool:
    """Whether the issue page can show a crop: an image stored here (uploads) with a pin (a point or an object)."""
    pinned = issue.x is not None or issue.annotation_geometry is not None
    row = issue.data_row
    return pinned and row.media_type == "image" and row.row_data.startswith("upload://")


def serialize_issue(issue: Issue, *, pin: bool = True) -> dict[str, Any]:
    """The issue as the API shows it. `pin=False` leaves out the pinned object and the crop (exports keep their
    documented shape, and do not load the data row per issue)."""
    body: dict[str, Any] = {
        "id": str(issue.id),
        "project": str(issue.project_id),
        "data_row": str(issue.data_row_id),
        "task": str(issue.task_id) if issue.task_id else None,
        "label": str(issue.label_id) if issue.label_id else None,
        "text": issue.text,
        "position": {"x": issue.x, "y": issue.y} if issue.x is not None and issue.y is not None else None,
        "text_offset": issue.text_offset,
        "annotation": issue.annotation_index,
        "feature": {"schema_id": str(issue.feature_schema_id), "name": issue.feature_name}
        if issue.feature_schema_id
        else None,
        "status": issue.status,
        "created_by": {"id": str(issue.created_by_id), "username": issue.created_by.username},
        "resolved_by": {"id": str(issue.resolved_by_id), "username": issue.resolved_by.username}
        if issue.resolved_by_id and issue.resolved_by
        else None,
        "resolved_at": issue.resolved_at.isoformat() if issue.resolved_at else None,
        "created_at": issue.created_at.isoformat(),
        "comments": [serialize_comment(c) for c in issue.comments.all()],
    }
    if pin:
        body["object"] = (
            {
                "index": issue.annotation_index,
                "schema_id": str(issue.feature_schema_id) if issue.feature_schema_id else None,
                "name": issue.feature_name,
                "geometry": issue.annotation_geometry,
            }
            if issue.annotation_index is not None
            else None
        )
        body["crop_url"] = f"/issues/{issue.id}/crop.png" if has_crop(issue) else None
        body["frame"] = issue.frame
        body["track_id"] = issue.track_id or None
    return body


def serialize_comment(comment: Comment) -> dict[str, Any]:
    return {
        "id": str(comment.id),
        "author": {"id": str(comment.author_id), "username": comment.author.username},
        "text": comment.text,
        "created_at": comment.created_at.isoformat(),
    }


def issues_of_rows(
    *, project: Project, data_row_ids: Sequence[Any], id_range: tuple[Any, Any] | None = None
) -> dict[str, list[dict[str, Any]]]:
    """Issues of the rows with their comment threads, in two queries: `{data_row_id: [issue, ...]}` (exports).
    `id_range` (first, last) replaces the id list when every project row in that range is wanted."""
    if id_range is not None:
        scope = Q(data_row_id__gte=id_range[0], data_row_id__lte=id_range[1])
    else:
        scope = Q(data_row_id__in=list(data_row_ids))
    issues = (
        _with_thread(Issue.objects.filter(scope, project=project))
        .select_related(None)
        .select_related("created_by", "resolved_by")
        .order_by("created_at", "id")
    )
    found: dict[str, list[dict[str, Any]]] = {}
    for issue in issues:
        found.setdefault(str(issue.data_row_id), []).append(serialize_issue(issue, pin=False))
    return found
