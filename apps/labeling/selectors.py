"""Reads of the labeling app, limited to what the caller may see and prefetched."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from apps.accounts.models import User
from apps.core.errors import ValidationFailed
from apps.core.ids import is_uuid
from apps.labeling.access import can, projects_visible_to, projects_where
from apps.labeling.models import Annotation, Label, Project, Task, TaskKind, TaskState
from apps.ontologies.models import Feature

OVERVIEW_KEYS = ("to_label", "in_progress", "in_review", "in_rework", "done", "skipped", "awaiting_consensus")


def project_overview(*, project: Project) -> dict[str, int]:
    counts = dict.fromkeys(OVERVIEW_KEYS, 0)
    for row in Task.objects.filter(project=project).values("state").annotate(n=Count("id")):
        counts[row["state"]] = row["n"]
    counts["open_issues"] = _open_issues(project)
    counts.update(_extra_counts(project))
    return counts


def _extra_counts(project: Project) -> dict[str, int]:
    """Counters later apps add through `registry` (e.g. `overdue_expert_tasks`)."""
    from apps.labeling.registry import overview_counts

    return overview_counts(project)


def _open_issues(project: Project) -> int:
    """Open issues of the project, counted by the issues app through `registry` (0 without it)."""
    from apps.labeling.registry import open_issue_count

    return open_issue_count(project)


def data_rows_in_project(*, project: Project, data_row_ids: Any) -> set[Any]:
    """Which of these data rows are in the project (have a task in it)."""
    ids = list(data_row_ids)
    if not ids:
        return set()
    return set(Task.objects.filter(project=project, data_row_id__in=ids, slot=0).values_list("data_row_id", flat=True))


def row_in_project(*, project: Project) -> Exists:
    """For annotating data row querysets: whether the row (`OuterRef("pk")`) is in the project."""
    return Exists(Task.objects.filter(project=project, data_row_id=OuterRef("pk"), slot=0))


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


def done_labels(*, project: Project, data_row_ids: Any = None) -> QuerySet[Label]:
    """Current labels of the project's `done` tasks (benchmark tasks left out), one row's slots in slot order: the
    ground truth other apps (diagnostics) read. `data_row_ids`: limit to these rows."""
    queryset = (
        Label.objects.filter(project=project, is_current=True, task__state=TaskState.DONE)
        .exclude(task__kind=TaskKind.BENCHMARK)
        .order_by("data_row_id", "task__slot", "id")
    )
    if data_row_ids is not None:
        queryset = queryset.filter(data_row_id__in=data_row_ids)
    return queryset
