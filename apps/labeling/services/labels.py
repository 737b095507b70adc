"""Submitting, editing and skipping: labels are validated by the ontology validator and stored with their rows."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from apps.accounts.models import User
from apps.core.audit import audit_record
from apps.core.compiled import CompiledQuery, prepared_cursor
from apps.core.domain.numbers import is_finite_number
from apps.core.errors import Conflict, PayloadTooLarge, ValidationFailed
from apps.core.row_writes import row_insert, row_update
from apps.datasets.models import DataRow
from apps.labeling import registry
from apps.labeling.domain import states
from apps.labeling.domain.annotation_rows import annotation_rows
from apps.labeling.models import Annotation, Draft, Label, LabelSource, Project, Task, TaskKind, TaskState
from apps.labeling.services.events import label_emit, tasks_done_emit
from apps.labeling.services.video_labels import is_video_document, validate_video_label_document, video_rows
from apps.ontologies.models import OntologyVersion
from apps.ontologies.selectors import annotations_validate

_URL_LIKE = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)
MAX_SECONDS = 24 * 3600.0


def asset_bounds(data_row: DataRow) -> tuple[tuple[float, float] | None, int | None]:
    """(image size, text length) known for the asset, used to keep geometry inside it."""
    image_size = (float(data_row.width), float(data_row.height)) if data_row.width and data_row.height else None
    text_length = None
    if data_row.media_type == "text" and not _URL_LIKE.match(data_row.row_data):
        text_length = len(data_row.row_data)
    return image_size, text_length


def validate_label_document(*, version: OntologyVersion, data_row: DataRow, annotations: Any) -> list[dict[str, Any]]:
    """The normalized document, or 400 with every error (path + message); 413 beyond
    `TDP_MAX_ANNOTATIONS_PER_LABEL` top-level annotations."""
    if data_row.media_type == "video":
        return validate_video_label_document(version=version, data_row=data_row, annotations=annotations)
    limit = settings.TDP_MAX_ANNOTATIONS_PER_LABEL
    if type(annotations) is list and len(annotations) > limit:
        raise PayloadTooLarge(
            f"A label holds at most {limit} annotations; this one has {len(annotations)}.",
            code="too_many_annotations",
            details={"annotations": [f"At most {limit}."], "limit": limit},
        )
    image_size, text_length = asset_bounds(data_row)
    normalized, errors = annotations_validate(
        version=version, annotations=annotations, image_size=image_size, text_length=text_length, complete=True
    )
    if not errors:
        errors = registry.label_check_errors(data_row, normalized)
    if errors:
        raise ValidationFailed(
            f"The label has {len(errors)} invalid annotation(s).",
            code="invalid_annotations",
            details={"annotations": errors},
        )
    return [item for item in normalized if item is not None]


PRELABEL_KEY = "prelabel"


def split_prelabel_references(annotations: Any) -> tuple[Any, list[str | None]]:
    """Take the `prelabel` reference (the id of the model pre-label an annotation started from, sent by the label
    page) off each top-level annotation, before validation. Returns the annotations without it and the references
    aligned with them. What a reference is worth is decided server-side by whoever listens (`label_provenance`)."""
    if type(annotations) is not list:
        return annotations, []
    cleaned: list[Any] = []
    references: list[str | None] = []
    for item in annotations:
        if type(item) is dict and PRELABEL_KEY in item:
            reference = item[PRELABEL_KEY]
            item = {k: v for k, v in item.items() if k != PRELABEL_KEY}
            references.append(reference if isinstance(reference, str) and len(reference) <= 64 else None)
        else:
            references.append(None)
        cleaned.append(item)
    return cleaned, references


def _seconds(value: Any) -> float | None:
    if value is None:
        return None
    if not is_finite_number(value) or value < 0:
        raise ValidationFailed("Invalid seconds_spent.", details={"seconds_spent": ["A number of seconds from 0."]})
    return min(float(value), MAX_SECONDS)


# PostgreSQL: a label's rows in one statement, ids drawn from the table's sequence inside it, so nested answers can
# point at their parents without one round trip per nesting level (and without building a model per row).
_INSERT_ROWS_SQL = """
    INSERT INTO labeling_annotation (id, created_at, label_id, project_id, data_row_id, index, parent_id, schema_id,
                                     name, kind, x, y, width, height, geometry, answer, confidence, area)
    SELECT ids.id[r.n], %s, %s, %s, %s, r.index, ids.id[r.parent + 1], r.schema_id::uuid, r.name, r.kind,
           r.x, r.y, r.width, r.height, r.geometry::jsonb, r.answer::jsonb, r.confidence, r.area
    FROM unnest(%s::integer[], %s::integer[], %s::text[], %s::text[], %s::text[], %s::float8[], %s::float8[],
                %s::float8[], %s::float8[], %s::text[], %s::text[], %s::float8[], %s::float8[])
         WITH ORDINALITY
         AS r(index, parent, schema_id, name, kind, x, y, width, height, geometry, answer, confidence, area, n),
         (SELECT array_agg(nextval(pg_get_serial_sequence('labeling_annotation', 'id')) ORDER BY g) AS id
          FROM generate_series(1, %s) AS g) AS ids
"""


def _by_depth(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows ordered top-level first, then each nesting level (the order ids were always given in), with `parent`
    renumbered to positions in the new order."""
    depth: list[int] = []
    for row in rows:
        depth.append(0 if row["parent"] is None else depth[row["parent"]] + 1)
    order = sorted(range(len(rows)), key=lambda i: (depth[i], i))
    position = {old: new for new, old in enumerate(order)}
    return [{**rows[i], "parent": None if rows[i]["parent"] is None else position[rows[i]["parent"]]} for i in order]


def _float_or_none(value: Any) -> float | None:
    return None if value is None else float(value)


def _json_or_none(value: Any) -> str | None:
    return None if value is None else json.dumps(value)


def _store_rows_postgresql(label: Label, rows: list[dict[str, Any]]) -> None:
    rows = _by_depth(rows)
    columns: dict[str, list[Any]] = {key: [] for key in ("x", "y", "width", "height", "confidence", "area")}
    for row in rows:
        for key, values in columns.items():
            values.append(_float_or_none(row.get(key)))
    params: list[Any] = [
        label.created_at,
        label.pk,
        label.project_id,
        label.data_row_id,
        [row["index"] for row in rows],
        [row["parent"] for row in rows],
        [str(row["schema_id"]) for row in rows],
        [row["name"][:200] for row in rows],
        [row["kind"] for row in rows],
        columns["x"],
        columns["y"],
        columns["width"],
        columns["height"],
        [_json_or_none(row.get("geometry")) for row in rows],
        [_json_or_none(row.get("answer")) for row in rows],
        columns["confidence"],
        columns["area"],
        len(rows),
    ]
    with prepared_cursor(connection) as cursor:  # the same statement on every submit: planned once per connection
        cursor.execute(_INSERT_ROWS_SQL, params)


_SQLITE_NEXT_ID = (
    "SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'labeling_annotation'), 0), "
    "COALESCE((SELECT MAX(id) FROM labeling_annotation), 0)) + 1"
)
_SQLITE_INSERT_ROWS = (
    "INSERT INTO labeling_annotation (id, created_at, label_id, project_id, data_row_id, [index], parent_id, "
    "schema_id, name, kind, x, y, width, height, geometry, answer, confidence, area) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def _store_rows_sqlite(label: Label, rows: list[dict[str, Any]]) -> None:
    """The PostgreSQL statement's twin: ids given here in depth order (parents before their children, as the
    sequence gives them there), every row in one `executemany`. The caller's write transaction holds SQLite's one
    write lock, so the ids after the table's highest (AUTOINCREMENT: ever used) cannot be taken meanwhile."""
    rows = _by_depth(rows)
    created = connection.ops.adapt_datetimefield_value(label.created_at)
    owner = (created, label.pk.hex, label.project_id.hex, label.data_row_id.hex)
    with connection.cursor() as cursor:
        raw = cursor.cursor  # the driver cursor: `?` placeholders
        raw.execute(_SQLITE_NEXT_ID)
        first = int(raw.fetchone()[0])
        raw.executemany(
            _SQLITE_INSERT_ROWS,
            [
                (
                    first + n,
                    *owner,
                    row["index"],
                    None if row["parent"] is None else first + row["parent"],
                    str(row["schema_id"]).replace("-", ""),
                    row["name"][:200],
                    row["kind"],
                    _float_or_none(row.get("x")),
                    _float_or_none(row.get("y")),
                    _float_or_none(row.get("width")),
                    _float_or_none(row.get("height")),
                    _json_or_none(row.get("geometry")),
                    _json_or_none(row.get("answer")),
                    _float_or_none(row.get("confidence")),
                    _float_or_none(row.get("area")),
                )
                for n, row in enumerate(rows)
            ],
        )


def _store_rows(label: Label, document: list[dict[str, Any]]) -> None:
    rows = video_rows(label.data_row_id, document) if is_video_document(document) else annotation_rows(document)
    if not rows:
        return
    if connection.vendor == "postgresql":
        _store_rows_postgresql(label, rows)
        return
    if connection.vendor == "sqlite" and connection.in_atomic_block:
        _store_rows_sqlite(label, rows)
        return
    objects: list[Annotation] = []
    for row in rows:
        objects.append(
            Annotation(
                label=label,
                project_id=label.project_id,
                data_row_id=label.data_row_id,
                index=row["index"],
                schema_id=row["schema_id"],
                name=row["name"][:200],
                kind=row["kind"],
                x=row.get("x"),
                y=row.get("y"),
                width=row.get("width"),
                height=row.get("height"),
                geometry=row.get("geometry"),
                answer=row.get("answer"),
                confidence=row.get("confidence"),
                area=row.get("area"),
            )
        )
    # Parents first (they come first in `rows`), so children can point at saved ids.
    Annotation.objects.bulk_create([o for o, r in zip(objects, rows, strict=True) if r["parent"] is None])
    for obj, row in zip(objects, rows, strict=True):
        if row["parent"] is not None:
            obj.parent = objects[row["parent"]]
    pending = [o for o, r in zip(objects, rows, strict=True) if r["parent"] is not None]
    while pending:
        ready = [o for o in pending if o.parent is not None and o.parent.pk is not None]
        Annotation.objects.bulk_create(ready)
        pending = [o for o in pending if o.pk is None]


def _task_for_submit(*, task_id: uuid.UUID) -> QuerySet[Task]:
    # Lock the task row only (`of=self`): without it the joined project and data row are locked FOR UPDATE too, and
    # every submit of the project waits for the one before it (their label inserts need FOR KEY SHARE on the project).
    tasks = Task.objects.select_for_update(of=("self",))
    return tasks.select_related("project__ontology_version", "project__organization", "data_row").filter(pk=task_id)


def _current_label_locked(*, task_id: uuid.UUID) -> QuerySet[Label]:
    return Label.objects.select_for_update().filter(task_id=task_id, is_current=True).order_by("pk")[:1]


def _row_slots_for_submit(*, project_id: uuid.UUID, data_row_id: uuid.UUID) -> QuerySet[Task]:
    """Every slot of a consensus row, locked in slot order (task rows only, as `_task_for_submit`)."""
    tasks = Task.objects.select_for_update(of=("self",))
    related = tasks.select_related("project__ontology_version", "project__organization", "data_row")
    return related.filter(project_id=project_id, data_row_id=data_row_id).order_by("slot")


# Every submit runs these: compiled once per thread (see `apps.core.compiled`).
TASK_FOR_SUBMIT = CompiledQuery(_task_for_submit, task_id="uuid")
ROW_SLOTS_FOR_SUBMIT = CompiledQuery(_row_slots_for_submit, project_id="uuid", data_row_id="uuid")
CURRENT_LABEL_LOCKED = CompiledQuery(_current_label_locked, task_id="uuid")


def _new_revision(
    *,
    task: Task,
    labeler: User,
    document: list[dict[str, Any]],
    seconds_spent: float | None,
    server_seconds: float | None,
) -> Label:
    current = CURRENT_LABEL_LOCKED.first(task_id=task.pk)
    if current is not None:
        Label.objects.filter(pk=current.pk).update(is_current=False)
    label = Label(
        task=task,
        project_id=task.project_id,
        data_row_id=task.data_row_id,
        labeler=labeler,
        ontology_version_id=task.project.ontology_version_id,
        annotations=document,
        revision=(current.revision + 1) if current else 1,
        previous=current,
        seconds_spent=seconds_spent,
        server_seconds=server_seconds,
        source=LabelSource.EXPERT if task.kind == TaskKind.EXPERT else LabelSource.LABELER,
    )
    row_insert(label)
    _store_rows(label, document)
    registry.label_submitted(label, task)
    return label


def _drop_draft(*, task: Task, actor: User) -> None:
    """The submitted label replaces the labeler's draft of the task (one indexed DELETE, no cascade)."""
    Draft.objects.filter(task_id=task.pk, user_id=actor.pk).delete()


@transaction.atomic
def label_revision_create(
    *, task: Task, author: User, annotations: Any, seconds_spent: Any = None, server_seconds: float | None = None
) -> Label:
    """A new current revision of the task's label written by `author` (e.g. a reviewer's correction). The caller
    holds the task row lock and has checked the state; this validates the document and stores it with its rows."""
    seconds = _seconds(seconds_spent)
    current = Label.objects.filter(task=task, is_current=True).select_related("ontology_version").first()
    version = current.ontology_version if current is not None else task.project.ontology_version
    document = validate_label_document(version=version, data_row=task.data_row, annotations=annotations)
    label = _new_revision(
        task=task, labeler=author, document=document, seconds_spent=seconds, server_seconds=server_seconds
    )
    label_emit("label.created" if label.revision == 1 else "label.updated", task.project, label)
    return label


_OPEN_STATES = (TaskState.TO_LABEL, TaskState.IN_PROGRESS, TaskState.IN_REWORK)


def _lock_slots(task: Task) -> tuple[Task, list[Task]]:
    """Lock the task row for a submit or skip: a consensus task locks every slot of its row, always in slot order
    (so two last submits of a row cannot deadlock, and exactly one of them sees the row complete). Only task rows are
    locked (`of=self`): locking the joined project would serialize every submit of the project."""
    if task.kind != TaskKind.CONSENSUS:
        locked = TASK_FOR_SUBMIT.first(task_id=task.pk)
        if locked is None:
            raise Task.DoesNotExist()
        return locked, [locked]
    slots = ROW_SLOTS_FOR_SUBMIT.all(project_id=task.project_id, data_row_id=task.data_row_id)
    own = next(t for t in slots if t.pk == task.pk)
    return own, slots


def _consensus_complete(task: Task, slots: list[Task]) -> bool:
    return not any(t.state in _OPEN_STATES for t in slots if t.pk != task.pk)


def _release_awaiting(project: Project, slots: list[Task], needs_review: bool, now: Any) -> list[Task]:
    """All labels of a consensus row are in: the waiting slots move on to review (or done) together."""
    transition = "consensus_complete_review" if needs_review else "consensus_complete_done"
    released = []
    for slot in slots:
        if slot.state == TaskState.AWAITING_CONSENSUS:
            slot.state = states.next_state(transition, slot.state)
            slot.done_at = None if needs_review else now
            row_update(slot, ["state", "done_at", "updated_at"])
            released.append(slot)
    return released


def _needs_review(project: Project, task: Task, slots: list[Task]) -> bool:
    """Benchmark tasks are scored, not reviewed. A consensus row is sampled as a whole (by its first slot)."""
    if task.kind == TaskKind.BENCHMARK:
        return False
    sample_rate = float(project.settings.get("review", {}).get("sample_rate", 1.0))
    return states.review_sampled(str(slots[0].pk), sample_rate)


@transaction.atomic
def label_submit(*, actor: User, task: Task, annotations: Any, seconds_spent: Any = None) -> Label:
    """Store the labeler's answer for a task they hold. A lease taken over by someone else is a 409. A consensus
    slot waits (`awaiting_consensus`) until every slot of its row is in; then the row goes to review or done."""
    seconds = _seconds(seconds_spent)
    task, slots = _lock_slots(task)
    if task.assignee_id != actor.pk or task.state != TaskState.IN_PROGRESS:
        raise Conflict(
            "This task is no longer leased to you (the lease expired and it was taken, or it was already submitted). "
            "Your annotations were not stored; claim the next task to continue.",
            code="lease_lost",
            details={"state": task.state},
        )
    project: Project = task.project
    annotations, references = split_prelabel_references(annotations)
    document = validate_label_document(
        version=project.ontology_version, data_row=task.data_row, annotations=annotations
    )
    now = timezone.now()
    server_seconds = (now - task.claimed_at).total_seconds() if task.claimed_at else None
    label = _new_revision(
        task=task, labeler=actor, document=document, seconds_spent=seconds, server_seconds=server_seconds
    )
    registry.label_provenance(label, task, references)
    _drop_draft(task=task, actor=actor)
    needs_review = _needs_review(project, task, slots)
    waiting = task.kind == TaskKind.CONSENSUS and not _consensus_complete(task, slots)
    transition = "submit_await_consensus" if waiting else "submit_for_review" if needs_review else "submit_done"
    task.state = states.next_state(transition, task.state)
    task.labeled_by = actor
    task.assignee = None
    task.lease_expires_at = None
    task.rework_user = None
    task.rework_open_at = None
    task.done_at = now if task.state == TaskState.DONE else None
    row_update(
        task,
        [
            "state",
            "labeled_by",
            "assignee",
            "lease_expires_at",
            "rework_user",
            "rework_open_at",
            "done_at",
            "updated_at",
        ],
    )
    released = (
        _release_awaiting(project, slots, needs_review, now) if task.kind == TaskKind.CONSENSUS and not waiting else []
    )
    audit_record(
        action="label.created",
        actor=actor,
        organization=project.organization,
        target=label,
        extra={"task": str(task.pk), "revision": label.revision, "state": task.state},
    )
    label_emit("label.created", project, label)
    tasks_done_emit(project, [task, *released])
    return label


@transaction.atomic
def label_edit(*, actor: User, label: Label, annotations: Any, seconds_spent: Any = None) -> Label:
    """The labeler corrects their label before review: a new revision; the old one stays in the history."""
    seconds = _seconds(seconds_spent)
    task = Task.objects.select_for_update(of=("self",)).select_related("project", "data_row").get(pk=label.task_id)
    label = Label.objects.get(pk=label.pk)
    if label.labeler_id != actor.pk:
        raise Conflict("Only the labeler may edit a label before review.", code="not_your_label")
    if not label.is_current:
        raise Conflict("A newer revision of this label exists; edit that one.", code="stale_revision")
    try:
        states.next_state("edit_awaiting" if task.state == TaskState.AWAITING_CONSENSUS else "edit", task.state)
    except states.TransitionError as exc:
        message = f"This label can no longer be edited by its labeler: {exc}"
        raise Conflict(message, code="invalid_state", details={"state": task.state}) from None
    annotations, _ = split_prelabel_references(annotations)
    document = validate_label_document(version=label.ontology_version, data_row=task.data_row, annotations=annotations)
    new = _new_revision(task=task, labeler=actor, document=document, seconds_spent=seconds, server_seconds=None)
    _drop_draft(task=task, actor=actor)
    audit_record(
        action="label.updated",
        actor=actor,
        organization=task.project.organization,
        target=new,
        extra={"revision": new.revision, "previous": str(label.pk)},
    )
    label_emit("label.updated", task.project, new)
    return new


@transaction.atomic
def task_skip(*, actor: User, task: Task, reason: Any) -> Task:
    if not isinstance(reason, str) or not reason.strip() or len(reason) > 2000:
        raise ValidationFailed("A reason is required.", details={"reason": ["Say why (1 to 2000 characters)."]})
    task, slots = _lock_slots(task)
    if task.assignee_id != actor.pk or task.state != TaskState.IN_PROGRESS:
        raise Conflict("This task is not leased to you.", code="lease_lost", details={"state": task.state})
    task.state = states.next_state("skip", task.state)
    task.skip_reason = reason.strip()
    task.assignee = None
    task.lease_expires_at = None
    task.labeled_by = actor
    task.save()
    audit_record(
        action="task.skipped",
        actor=actor,
        target=task,
        extra={"reason": task.skip_reason[:200]},
    )
    if task.kind == TaskKind.CONSENSUS and _consensus_complete(task, slots):
        # The skipped slot was the last one open: the labels already in must not wait forever.
        released = _release_awaiting(task.project, slots, _needs_review(task.project, task, slots), timezone.now())
        tasks_done_emit(task.project, released)
    return task


@transaction.atomic
def label_import(*, actor: User, project: Project, data_row: DataRow, annotations: Any, source: str) -> Label:
    """Store imported annotations (e.g. ground truth) as the current label of the row's task in the project, which
    is then done. A row not in the project is a 400; a task someone is labeling right now is a 409."""
    task = (
        Task.objects.select_for_update(of=("self",))
        .select_related("project", "data_row")
        .filter(project=project, data_row=data_row, slot=0)
        .first()
    )
    if task is None:
        raise ValidationFailed(
            "The data row is not in this project.", code="not_in_project", details={"data_row": [str(data_row.pk)]}
        )
    if task.state == TaskState.IN_PROGRESS:
        raise Conflict("Someone is labeling this data row right now.", code="task_in_progress")
    label = label_revision_create(task=task, author=actor, annotations=annotations)
    now = timezone.now()
    task.state = TaskState.DONE
    task.labeled_by = actor
    task.assignee = None
    task.lease_expires_at = None
    task.rework_user = None
    task.rework_open_at = None
    task.done_at = now
    task.save()
    audit_record(
        action="label.imported",
        actor=actor,
        organization=project.organization,
        target=label,
        extra={"task": str(task.pk), "revision": label.revision, "source": source[:100]},
    )
    tasks_done_emit(project, [task])
    return label
