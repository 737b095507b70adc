"""Reads of the labeling app, limited to what the caller may see and prefetched."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db.models import Case, Count, Exists, F, JSONField, OuterRef, Q, QuerySet, TextField, Value, When
from django.db.models.functions import Cast

from apps.accounts.models import User
from apps.core.errors import ValidationFailed
from apps.core.ids import is_uuid
from apps.labeling.access import can, projects_visible_to, projects_where
from apps.labeling.models import Annotation, Label, Project, Task, TaskState
from apps.ontologies.models import Feature

OVERVIEW_KEYS = ("to_label", "in_progress", "in_review", "in_rework", "done", "skipped")


def project_overview(*, project: Project) -> dict[str, int]:
    counts = dict.fromkeys(OVERVIEW_KEYS, 0)
    for row in Task.objects.filter(project=project).values("state").annotate(n=Count("id")):
        counts[row["state"]] = row["n"]
    counts["open_issues"] = _open_issues(project)
    return counts


def _open_issues(project: Project) -> int:
    """Open issues of the project, counted by the issues app through `registry` (0 without it)."""
    from apps.labeling.registry import open_issue_count

    return open_issue_count(project)


def my_projects(*, actor: User) -> QuerySet[Project]:
    return (
        projects_visible_to(actor)
        .filter(archived=False)
        .annotate(
            open_tasks=Count("tasks", filter=Q(tasks__state__in=[TaskState.TO_LABEL, TaskState.IN_REWORK])),
        )
        .order_by("name")
    )


def labels_of_project(
    *, actor: User, project: Project, labeler: str | None = None, data_row: str | None = None, status: str | None = None
) -> QuerySet[Label]:
    queryset = Label.objects.filter(project=project, is_current=True).select_related("labeler", "task", "data_row")
    if not can(actor, project, "view_work"):
        queryset = queryset.filter(labeler=actor)
    for name, value in (("labeler", labeler), ("data_row", data_row)):
        if value is not None and not is_uuid(value):
            raise ValidationFailed(f"{name} must be an id.", details={name: ["Not a UUID."]})
    if labeler:
        queryset = queryset.filter(labeler__pk=labeler)
    if data_row:
        queryset = queryset.filter(data_row__pk=data_row)
    if status:
        if status not in TaskState.values:
            raise ValidationFailed("Unknown status.", details={"status": [f"One of: {', '.join(TaskState.values)}."]})
        queryset = queryset.filter(task__state=status)
    return queryset


def label_history(*, label: Label) -> list[Label]:
    """Every revision of the label's task, oldest first."""
    return list(Label.objects.filter(task_id=label.task_id).select_related("labeler").order_by("revision"))


def feature_annotations_visible_to(*, actor: User, feature: Feature) -> QuerySet[Annotation]:
    visible = projects_where(actor, "view_work").values("pk")
    return (
        Annotation.objects.filter(schema_id=feature.schema_id, project__in=visible, label__is_current=True)
        .select_related("label", "label__labeler")
        .order_by("-created_at", "-id")
    )


def serialize_annotation_rows(rows: Any) -> list[dict[str, Any]]:
    return [
        {
            "id": row.id,
            "label": str(row.label_id),
            "project": str(row.project_id),
            "data_row": str(row.data_row_id),
            "schema_id": str(row.schema_id),
            "name": row.name,
            "kind": row.kind,
            "geometry": row.geometry,
            "answer": row.answer,
            "confidence": row.confidence,
            "labeler": row.label.labeler.username,
            "created_at": row.created_at.isoformat(),
        }
        for row in rows
    ]


# --- bulk reads for exports (a page of data rows at a time) ------------------------------------------------------


def _project_rows(
    *,
    project: Project,
    states: Sequence[str] = (),
    batch_ids: Sequence[str] = (),
    global_keys: Sequence[str] = (),
    metadata: dict[str, Any] | None = None,
    labeler_ids: Sequence[str] = (),
    label_created_from: datetime | None = None,
    label_created_to: datetime | None = None,
) -> QuerySet[Task]:
    """One task per data row of the project (slot 0: every row has it), filtered. Label filters keep rows that have
    at least one current label matching them."""
    queryset = Task.objects.filter(project=project, slot=0)
    if states:
        queryset = queryset.filter(state__in=states)
    if batch_ids:
        queryset = queryset.filter(batch_id__in=batch_ids)
    if global_keys:
        queryset = queryset.filter(data_row__global_key__in=global_keys)
    if metadata:
        queryset = queryset.filter(data_row__metadata__contains=metadata)
    if labeler_ids or label_created_from or label_created_to:
        labels = Label.objects.filter(project=project, data_row_id=OuterRef("data_row_id"), is_current=True)
        if labeler_ids:
            labels = labels.filter(labeler_id__in=labeler_ids)
        if label_created_from:
            labels = labels.filter(created_at__gte=label_created_from)
        if label_created_to:
            labels = labels.filter(created_at__lt=label_created_to)
        queryset = queryset.filter(Exists(labels))
    return queryset


ROW_PAGE_FIELDS = {
    "id": "data_row_id",
    "global_key": "data_row__global_key",
    "external_id": "data_row__external_id",
    "row_data": "data_row__row_data",
    "media_type": "data_row__media_type",
    "width": "data_row__width",
    "height": "data_row__height",
    "metadata": "data_row__metadata",
    "created_at": "data_row__created_at",
    "dataset_id": "data_row__dataset_id",
    "dataset_name": "data_row__dataset__name",
    "task_id": "id",
    "state": "state",
    "priority": "priority",
    "batch_id": "batch_id",
    "batch_name": "batch__name",
    "batch_priority": "batch__priority",
}


def project_rows_page(
    *, project: Project, after: Any = None, limit: int = 1000, **filters: Any
) -> list[dict[str, Any]]:
    """The next `limit` data rows of the project after the id `after`, in id order (keyset pagination: each page is
    one indexed query whatever the offset), with the row, its dataset and its slot-0 task and batch."""
    queryset = _project_rows(project=project, **filters)
    if after is not None:
        queryset = queryset.filter(data_row_id__gt=after)
    names = list(ROW_PAGE_FIELDS)
    values = queryset.order_by("data_row_id").values_list(*ROW_PAGE_FIELDS.values())[:limit]
    return [dict(zip(names, row, strict=True)) for row in values]


def project_rows_count(*, project: Project, **filters: Any) -> int:
    return _project_rows(project=project, **filters).count()


def tasks_of_rows(*, project: Project, data_row_ids: Sequence[Any]) -> dict[str, list[dict[str, Any]]]:
    """Every task (queue slot) of the rows in one query: `{data_row_id: [task, ...]}` by slot."""
    found: dict[str, list[dict[str, Any]]] = {}
    rows = (
        Task.objects.filter(project=project, data_row_id__in=data_row_ids)
        .order_by("data_row_id", "slot")
        .values_list("data_row_id", "id", "slot", "kind", "state", "labeled_by_id", "done_at", "skip_reason")
    )
    for row_id, task_id, slot, kind, state, labeled_by, done_at, skip_reason in rows:
        found.setdefault(str(row_id), []).append(
            {
                "id": str(task_id),
                "slot": slot,
                "kind": kind,
                "state": state,
                "labeled_by": str(labeled_by) if labeled_by else None,
                "done_at": done_at,
                "skip_reason": skip_reason or None,
            }
        )
    return found


def labels_of_rows(
    *, project: Project, data_row_ids: Sequence[Any], document_as_text: bool = False
) -> list[dict[str, Any]]:
    """Every revision of every label of the rows in one query, by task and revision. The annotation document comes
    with current revisions only: parsed, or (`document_as_text`) as the database's JSON text, for writers that copy
    it through without parsing."""
    if document_as_text:
        document: Any = Case(When(is_current=True, then=Cast("annotations", TextField())), default=Value(None))
    else:
        document = Case(When(is_current=True, then=F("annotations")), default=Value(None, output_field=JSONField()))
    fields = (
        "id",
        "task_id",
        "data_row_id",
        "labeler_id",
        "labeler__username",
        "ontology_version_id",
        "ontology_version__number",
        "revision",
        "previous_id",
        "is_current",
        "seconds_spent",
        "server_seconds",
        "created_at",
        "updated_at",
        "task__slot",
        "task__kind",
        "task__state",
        "document",
    )
    rows = (
        Label.objects.filter(project=project, data_row_id__in=data_row_ids)
        .annotate(document=document)
        .order_by("data_row_id", "task_id", "revision")
        .values_list(*fields)
    )
    return [dict(zip(fields, row, strict=True)) for row in rows]
