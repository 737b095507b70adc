"""Reads of the labeling app, limited to what the caller may see and prefetched."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db.models import Case, Count, Exists, OuterRef, Q, QuerySet, TextField, Value, When
from django.db.models.functions import Coalesce

from apps.accounts.models import User
from apps.core.counting import Count as CountFigure
from apps.core.counting import bounded_count
from apps.core.errors import ValidationFailed
from apps.core.ids import is_uuid
from apps.core.json_sql import JSONText, UuidText
from apps.labeling.access import can, projects_visible_to, projects_where
from apps.labeling.models import Annotation, Draft, Label, Project, Task, TaskKind, TaskState
from apps.ontologies.models import Feature

OVERVIEW_KEYS = ("to_label", "in_progress", "in_review", "in_rework", "done", "skipped", "awaiting_consensus")


def project_overview(*, project: Project) -> dict[str, Any]:
    """Task counts per state (a consensus row has one task per labeler slot, an expert task is one more) and, under
    `rows`, the data rows: `total` in the project, `done` (every labeling task of the row done), `open`."""
    counts: dict[str, Any] = dict.fromkeys(OVERVIEW_KEYS, 0)
    for row in Task.objects.filter(project=project).values("state").annotate(n=Count("id")):
        counts[row["state"]] = row["n"]
    counts["open_issues"] = _open_issues(project)
    counts.update(_extra_counts(project))
    counts["rows"] = _row_counts(project)
    return counts


def _row_counts(project: Project) -> dict[str, int]:
    per_row = (
        Task.objects.filter(project=project)
        .exclude(kind=TaskKind.EXPERT)
        .values("data_row_id")
        .annotate(undone=Count("id", filter=~Q(state=TaskState.DONE)))
        .order_by()
    )
    totals = per_row.aggregate(total=Count("data_row_id"), done=Count("data_row_id", filter=Q(undone=0)))
    total, done = int(totals["total"] or 0), int(totals["done"] or 0)
    return {"total": total, "done": done, "open": total - done}


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
    return projects_visible_to(actor).filter(archived=False).order_by("name")


def open_task_count(*, project: Project, limit: int = 1_000) -> CountFigure:
    """Tasks to label or in rework: exact up to `limit`, else the database's estimate (the page says "about"). A
    million-task project is not counted on every home page load."""
    open_tasks = Task.objects.filter(project=project, state__in=[TaskState.TO_LABEL, TaskState.IN_REWORK])
    return bounded_count(open_tasks, limit)


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


_TEXT: TextField[Any, Any] = TextField()

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
    *,
    project: Project,
    after: Any = None,
    limit: int = 1000,
    as_json: bool = False,
    only: Sequence[str] | None = None,
    **filters: Any,
) -> list[dict[str, Any]]:
    """The next `limit` data rows of the project after the id `after`, in id order (keyset pagination: each page is
    one indexed query whatever the offset), with the row, its dataset and its slot-0 task and batch. `as_json` adds
    `row_json` (the data row object) and `workflow_json` (state, priority, batch) as JSON text from the database;
    `only` limits the plain fields to those names of `ROW_PAGE_FIELDS`."""
    queryset = _project_rows(project=project, **filters)
    if after is not None:
        queryset = queryset.filter(data_row_id__gt=after)
    fields = {name: ROW_PAGE_FIELDS[name] for name in only} if only else dict(ROW_PAGE_FIELDS)
    if as_json:
        row = JSONText(
            id="data_row_id",
            global_key="data_row__global_key",
            external_id="data_row__external_id",
            row_data="data_row__row_data",
            media_type="data_row__media_type",
            width="data_row__width",
            height="data_row__height",
            dataset=JSONText(id="data_row__dataset_id", name="data_row__dataset__name", nested=True),
            created_at="data_row__created_at",
            metadata="data_row__metadata",
        )
        workflow = JSONText(
            state="state",
            priority="priority",
            batch=JSONText(id="batch_id", name="batch__name", priority="batch__priority", nested=True),
        )
        queryset = queryset.annotate(row_json=row, workflow_json=workflow, id_text=UuidText("data_row_id"))
        # Only what the line needs: parsing timestamps and metadata here would be wasted work.
        fields = {"id": "id_text", "id_text": "id_text", "row_json": "row_json", "workflow_json": "workflow_json"}
    names = list(fields)
    values = queryset.order_by("data_row_id").values_list(*fields.values())[:limit]
    return [dict(zip(names, row, strict=True)) for row in values]


def project_rows_count(*, project: Project, **filters: Any) -> int:
    return _project_rows(project=project, **filters).count()


def _row_scope(field: str, data_row_ids: Sequence[Any], id_range: tuple[Any, Any] | None) -> Q:
    """Rows of a page: an id range when the page holds every project row inside it (an indexed range scan, no
    2000-value IN list), else the ids themselves."""
    if id_range is not None:
        return Q(**{f"{field}__gte": id_range[0], f"{field}__lte": id_range[1]})
    return Q(**{f"{field}__in": list(data_row_ids)})


def current_label_documents_of_rows(
    *, project: Project, data_row_ids: Sequence[Any], id_range: tuple[Any, Any] | None = None
) -> list[dict[str, Any]]:
    """The current label of every task of the rows, with its parsed annotation document, in one query."""
    fields = ("id", "data_row_id", "labeler_id", "created_at", "task__slot", "task__state", "annotations")
    rows = (
        Label.objects.filter(_row_scope("data_row_id", data_row_ids, id_range), project=project, is_current=True)
        .order_by("data_row_id", "task__slot")
        .values_list(*fields)
    )
    return [dict(zip(fields, row, strict=True)) for row in rows]


def label_texts_of_rows(
    *, project: Project, data_row_ids: Sequence[Any], id_range: tuple[Any, Any] | None = None
) -> list[tuple[Any, ...]]:
    """Every revision of every label of the rows in one query, as JSON text built by the database (exports copy it
    through without parsing): `(id, task_id, data_row_id, labeler_id, task_state, created_at, revision, seconds,
    current_json | None, history_json)` ordered by row, task and revision. `current_json` is the whole current
    label with its annotation document; `history_json` the revision's entry in the history."""
    labeler = JSONText(id="labeler_id", username="labeler__username", nested=True)
    current = JSONText(
        id="id",
        task="task_id",
        slot="task__slot",
        task_kind="task__kind",
        task_state="task__state",
        revision="revision",
        labeler=labeler,
        ontology_version=JSONText(id="ontology_version_id", number="ontology_version__number", nested=True),
        created_at="created_at",
        updated_at="updated_at",
        seconds_spent="seconds_spent",
        server_seconds="server_seconds",
        annotations="annotations",
    )
    history = JSONText(
        id="id",
        revision="revision",
        labeler=labeler,
        created_at="created_at",
        seconds_spent="seconds_spent",
        server_seconds="server_seconds",
    )
    return list(
        Label.objects.filter(_row_scope("data_row_id", data_row_ids, id_range), project=project)
        .annotate(
            id_text=UuidText("id"),
            task_text=UuidText("task_id"),
            row_text=UuidText("data_row_id"),
            labeler_text=UuidText("labeler_id"),
            seconds=Coalesce("seconds_spent", "server_seconds"),
            current_json=Case(When(is_current=True, then=current), default=Value(None), output_field=_TEXT),
            history_json=history,
        )
        .order_by("data_row_id", "task_id", "revision")
        .values_list(
            "id_text",
            "task_text",
            "row_text",
            "labeler_text",
            "task__state",
            "created_at",
            "revision",
            "seconds",
            "current_json",
            "history_json",
        )
    )


def task_texts_of_rows(
    *, project: Project, data_row_ids: Sequence[Any], id_range: tuple[Any, Any] | None = None
) -> list[tuple[str, str]]:
    """Every task (queue slot) of the rows as `(data_row_id, json)`, by row and slot, in one query."""
    task = JSONText(id="id", slot="slot", kind="kind", state="state", labeled_by="labeled_by_id", done_at="done_at")
    return list(
        Task.objects.filter(_row_scope("data_row_id", data_row_ids, id_range), project=project)
        .annotate(row_text=UuidText("data_row_id"), task_json=task)
        .order_by("data_row_id", "slot")
        .values_list("row_text", "task_json")
    )


def current_label_ids_of_rows(
    *, project: Project, data_row_ids: Sequence[Any], id_range: tuple[Any, Any] | None = None
) -> dict[Any, Any]:
    """`{label_id: data_row_id}` of the current labels of the rows (every task slot), in one query."""
    return dict(
        Label.objects.filter(
            _row_scope("data_row_id", data_row_ids, id_range), project=project, is_current=True
        ).values_list("id", "data_row_id")
    )


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


RANKED_STATES = (TaskState.TO_LABEL, TaskState.IN_PROGRESS, TaskState.IN_REWORK)


def ranked_queue_rows(*, project: Project) -> list[Any]:
    """The data rows of the project's open tasks the queue order ranks (expert slots have their own order)."""
    rows = (
        Task.objects.filter(project=project, state__in=RANKED_STATES)
        .exclude(kind=TaskKind.EXPERT)
        .order_by("data_row_id")
        .values_list("data_row_id", flat=True)
        .distinct()
    )
    return list(rows)


def labeled_row_ids(*, project: Project) -> list[Any]:
    """Rows of the project with a current label (submitted, in review or done): what is already labeled."""
    rows = Label.objects.filter(project=project, is_current=True).order_by("data_row_id")
    return list(rows.values_list("data_row_id", flat=True).distinct())


# --- the label page: drafts, progress, previous task ------------------------------------------------------------


def draft_of(*, actor: User, task: Task) -> Draft | None:
    """The actor's own draft of the task (nobody reads another's)."""
    return Draft.objects.filter(task_id=task.pk, user_id=actor.pk).first()


def drafts_of_organization(*, organization_id: Any) -> QuerySet[Draft]:
    return Draft.objects.filter(project__organization_id=organization_id).select_related("user", "project", "task")


_OPEN = (TaskState.TO_LABEL, TaskState.IN_PROGRESS, TaskState.IN_REWORK)


def label_progress(*, actor: User, task: Task) -> dict[str, int]:
    """ "3 of 120 in this batch · 117 left for you": the task's place in its batch (tasks no longer open, plus this
    one), the batch size, and the open tasks of the project the actor could still be handed (this one included).
    Two aggregate queries on indexed columns, whatever the project's size."""
    batch = Task.objects.filter(batch_id=task.batch_id).aggregate(
        total=Count("id"), closed=Count("id", filter=~Q(state__in=_OPEN))
    )
    mine = Label.objects.filter(project_id=OuterRef("project_id"), data_row_id=OuterRef("data_row_id"), labeler=actor)
    holding = Task.objects.filter(
        project_id=OuterRef("project_id"), data_row_id=OuterRef("data_row_id"), assignee=actor
    ).exclude(pk=OuterRef("pk"))
    left = (
        Task.objects.filter(project_id=task.project_id, state__in=_OPEN)
        .filter(Q(assignee__isnull=True) | Q(assignee=actor) | Q(state=TaskState.TO_LABEL))
        .filter(~Exists(mine), ~Exists(holding))
        .count()
    )
    position = min(batch["closed"] + 1, batch["total"])
    return {"position": position, "batch_total": batch["total"], "left_for_you": left}


def my_last_label(*, actor: User, project_id: Any, exclude_task: Any = None) -> Label | None:
    """The actor's most recent current label in the project (the "previous task" of the label page)."""
    queryset = Label.objects.filter(project_id=project_id, labeler=actor, is_current=True).select_related("task")
    if exclude_task is not None:
        queryset = queryset.exclude(task_id=exclude_task)
    return queryset.order_by("-created_at", "-id").first()
