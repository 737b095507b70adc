"""Starting, running (resumably), retrying and downloading exports."""

from __future__ import annotations

import base64
import json
import re
import tempfile
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import timedelta
from typing import IO, Any

from django.conf import settings
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.core.audit import audit_record
from apps.core.errors import Conflict, ValidationFailed
from apps.core.events import emit
from apps.core.jobs import job_create_and_enqueue
from apps.core.public_url import absolute_url
from apps.exports.domain import coco, png_masks, voc, yolo
from apps.exports.domain.documents import Category, categories, shapes_and_answers
from apps.exports.domain.filters import ExportFilters
from apps.exports.domain.ndjson import LineEncoder, annotation_count
from apps.exports.domain.paths import file_stem
from apps.exports.models import Export, ExportFormat, ExportStatus
from apps.exports.selectors import (
    RowQuery,
    coco_sql_pages,
    coco_sql_usable,
    filters_or_400,
    label_documents,
    ndjson_page_lines,
    ndjson_sql_pages,
    ndjson_sql_usable,
)
from apps.labeling.models import Project

CHUNK_ROWS: int | None = None  # None: settings.TDP_EXPORT_CHUNK_ROWS
SKIPPED_KEPT = 100
IMAGE_ROW_FIELDS = ("id", "global_key", "external_id", "row_data", "width", "height")
STALE_AFTER = timedelta(minutes=15)
ProgressCallback = Callable[[int, int], None]

EXTENSIONS = {"ndjson": "ndjson", "coco": "json", "yolo": "zip", "voc": "zip", "masks": "zip"}
CONTENT_TYPES = {
    "ndjson": "application/x-ndjson",
    "coco": "application/json",
    "yolo": "application/zip",
    "voc": "application/zip",
    "masks": "application/zip",
}


def download_url(export: Export) -> str:
    """Absolute when the request being served (or `TDP_PUBLIC_URL`, for jobs run by the worker) says where the site
    is; a path otherwise (an admin shell)."""
    return absolute_url(f"/api/v1/exports/{export.pk}/download")


def export_result(export: Export) -> dict[str, Any]:
    return {
        "export": str(export.pk),
        "format": export.format,
        "rows": export.row_count,
        "annotations": export.annotation_count,
        "skipped": export.skipped_count,
        "skipped_rows": export.skipped,
        "file_name": export.file_name.rsplit("/", 1)[-1],
        "size": export.file_size,
        "download_url": download_url(export),
    }


# --- starting ----------------------------------------------------------------------------------------------------


@transaction.atomic
def export_create(*, actor: User, project: Project, fmt: str, filters: Any) -> Export:
    """Validate the request and start a background export (the caller checked `view_work` on the project)."""
    if fmt not in ExportFormat.values:
        raise ValidationFailed("Unknown format.", details={"format": [f"One of: {', '.join(ExportFormat.values)}."]})
    parsed = filters_or_400(filters)
    RowQuery.build(project, parsed)  # metadata filters checked against the schema now, not in the worker
    export = Export.objects.create(
        organization_id=project.organization_id,
        project=project,
        format=fmt,
        filters=parsed.as_dict(),
        created_by=actor,
    )
    _enqueue(actor, export)
    audit_record(
        action="export.created",
        actor=actor,
        organization=project.organization,
        target=export,
        extra={"project": str(project.pk), "format": fmt, "filters": export.filters},
    )
    return export


def _enqueue(actor: User, export: Export) -> None:
    job = job_create_and_enqueue(
        user=actor, kind="export", func="apps.exports.tasks.export_job", params={"export": str(export.pk)}
    )
    job.progress_total = export.rows_total
    job.save(update_fields=["progress_total"])
    export.job = job
    export.save(update_fields=["job", "updated_at"])


@transaction.atomic
def export_retry(*, actor: User, export: Export) -> Export:
    """Run an export again from its checkpoint (after a failure or a worker that died). A finished export is
    returned as it is: its file is already complete."""
    export = (
        Export.objects.select_for_update(of=("self",)).select_related("job", "project__organization").get(pk=export.pk)
    )
    if export.status == ExportStatus.SUCCEEDED:
        return export
    if export.status in (ExportStatus.QUEUED, ExportStatus.RUNNING):
        last_seen = export.job.updated_at if export.job is not None else export.updated_at
        if last_seen > timezone.now() - STALE_AFTER:
            raise Conflict("This export is still running.", code="export_running", details={"status": export.status})
    export.status = ExportStatus.QUEUED
    export.error = ""
    export.save(update_fields=["status", "error", "updated_at"])
    _enqueue(actor, export)
    audit_record(
        action="export.retried",
        actor=actor,
        organization=export.project.organization,
        target=export,
        extra={"chunks_written": export.chunks_written},
    )
    return export


def export_stream_record(*, actor: User, project: Project, filters: ExportFilters) -> None:
    """Audit a direct NDJSON stream (it writes nothing else)."""
    audit_record(
        action="export.created",
        actor=actor,
        organization=project.organization,
        target=project,
        extra={"project": str(project.pk), "format": "ndjson", "stream": True, "filters": filters.as_dict()},
    )


def export_download_record(*, actor: User, export: Export) -> None:
    audit_record(
        action="export.downloaded",
        actor=actor,
        organization=export.project.organization,
        target=export,
        extra={"project": str(export.project_id), "format": export.format},
    )


# --- writing -----------------------------------------------------------------------------------------------------


class _Chunk:
    """What one page of rows produced: the part file's text, the page's size and last data row id (the checkpoint)
    and the counters it adds."""

    def __init__(self, page: Sequence[Mapping[str, Any]] = ()) -> None:
        self.text = ""
        self.rows = len(page)
        self.last_id: Any = page[-1]["id"] if page else None
        self.annotations = 0
        self.skipped: list[dict[str, Any]] = []


def _safe_name(value: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", value).strip("-._")[:60] or "project"


def _base(export: Export) -> str:
    return f"exports/{export.organization_id}/{export.pk}"


def _render_chunk(
    export: Export, query: RowQuery, page: Sequence[Mapping[str, Any]], *, built: _Chunk | None = None
) -> _Chunk:
    """What a page writes: `built` when the database already wrote it (NDJSON and COCO on PostgreSQL), else the
    Python writer's text for the page's rows."""
    if built is not None:
        return built
    chunk = _Chunk(page)
    if export.format == ExportFormat.NDJSON:
        chunk.text = "".join(ndjson_page_lines(query, page, LineEncoder()))
        chunk.annotations = annotation_count(chunk.text)
        return chunk
    documents = label_documents(query, page)
    tree = query.project.ontology_version.tree
    if export.format == ExportFormat.COCO:
        cats = {c.schema_id: c for c in categories(tree)}
        images: list[dict[str, Any]] = []
        annotations: list[str] = []
        next_annotation = export.annotation_count + 1
        for offset, row in enumerate(page):
            image_id = export.row_count + offset + 1
            answers: dict[str, Any] = {}
            for label_id, document in documents.get(str(row["id"]), []):
                shapes, label_answers = shapes_and_answers([document])
                answers.update(label_answers)
                for shape in shapes:
                    category = cats.get(shape.schema_id)
                    if category is None:
                        continue
                    annotations.append(
                        coco.annotation_json(
                            annotation_id=next_annotation,
                            image_id=image_id,
                            shape=shape,
                            category=category,
                            label_id=label_id,
                        )
                    )
                    next_annotation += 1
            images.append(coco.image(image_id=image_id, row=row, answers=answers))
        chunk.annotations = len(annotations)
        chunk.text = coco.join(images) + "\n" + ",".join(annotations)
        return chunk
    entries: list[str] = []
    if export.format == ExportFormat.MASKS:
        return _mask_chunk(chunk, page, documents, {c.schema_id: c for c in categories(tree)})
    if export.format == ExportFormat.YOLO:
        boxes = categories(tree, tools=("bbox",))
        class_index = {c.schema_id: i for i, c in enumerate(boxes)}
        for row in page:
            if not row["width"] or not row["height"]:
                chunk.skipped.append({"data_row": str(row["id"]), "global_key": row["global_key"], "reason": "size"})
                continue
            shapes, _ = shapes_and_answers(doc for _, doc in documents.get(str(row["id"]), []))
            text = yolo.label_text(shapes, width=row["width"], height=row["height"], class_index=class_index)
            chunk.annotations += text.count("\n")
            entries.append(json.dumps([f"labels/{file_stem(row['global_key'], str(row['id']))}.txt", text]))
    else:
        known = {c.schema_id for c in categories(tree)}
        for row in page:
            shapes, _ = shapes_and_answers(doc for _, doc in documents.get(str(row["id"]), []))
            stem = file_stem(row["global_key"], str(row["id"]))
            xml = voc.annotation_xml(filename=row["global_key"], row=row, shapes=shapes, known=known)
            chunk.annotations += sum(1 for s in shapes if s.schema_id in known)
            entries.append(json.dumps([f"Annotations/{stem}.xml", xml]))
    chunk.text = "".join(entry + "\n" for entry in entries)
    return chunk


def _mask_chunk(chunk: _Chunk, page: Any, documents: dict[str, Any], cats: dict[str, Category]) -> _Chunk:
    """PNG masks: a class-index and an instance-index PNG and a JSON legend per image (`domain.png_masks`), each file
    a line `[path, base64, "base64"]` of the part."""
    entries: list[str] = []
    for row in page:
        if not row["width"] or not row["height"]:
            chunk.skipped.append({"data_row": str(row["id"]), "global_key": row["global_key"], "reason": "size"})
            continue
        shapes = [
            (label_id, shape)
            for label_id, document in documents.get(str(row["id"]), [])
            for shape in shapes_and_answers([document])[0]
        ]
        stem = file_stem(row["global_key"], str(row["id"]))
        files, count = png_masks.image_files(stem=stem, row=row, shapes=shapes, categories=cats)
        chunk.annotations += count
        entries.extend(json.dumps([path, base64.b64encode(data).decode(), "base64"]) for path, data in files)
    chunk.text = "".join(entry + "\n" for entry in entries)
    return chunk


def _save(name: str, content: IO[bytes] | bytes) -> str:
    if default_storage.exists(name):
        default_storage.delete(name)
    if isinstance(content, bytes):
        return default_storage.save(name, ContentFile(content))
    return default_storage.save(name, File(content, name=name.rsplit("/", 1)[-1]))


def _read_lines(name: str) -> Iterator[str]:
    with default_storage.open(name, "rb") as handle:
        for line in handle:
            yield line.decode()


def _assemble(export: Export, project: Project, out: IO[bytes]) -> None:
    parts: list[str] = list(export.part_names)
    if export.format == ExportFormat.NDJSON:
        for name in parts:
            with default_storage.open(name, "rb") as handle:
                while block := handle.read(1 << 20):
                    out.write(block)
        return
    if export.format == ExportFormat.COCO:
        info = {
            "description": f"TDP export of project {project.name}",
            "project": str(project.pk),
            "ontology_version": project.ontology_version.number,
            "export": str(export.pk),
            "date_created": timezone.now().isoformat(),
        }
        out.write(coco.header(info=info, categories=categories(project.ontology_version.tree)).encode())
        for which in (0, 1):
            first = True
            for name in parts:
                lines = _read_lines(name)
                piece = next(lines, "").rstrip("\n")
                if which == 1:
                    piece = next(lines, "").rstrip("\n")
                if piece:
                    if not first:
                        out.write(b",")
                    out.write(piece.encode())
                    first = False
            out.write((coco.middle() if which == 0 else coco.footer()).encode())
        return
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        if export.format == ExportFormat.YOLO:
            names = yolo.class_names(categories(project.ontology_version.tree, tools=("bbox",)))
            archive.writestr("data.yaml", yolo.data_yaml(names))
        if export.format == ExportFormat.MASKS:
            masks_legend = png_masks.legend(categories(project.ontology_version.tree))
            archive.writestr("legend.json", json.dumps(masks_legend, ensure_ascii=False, indent=1))
        if export.skipped_count:
            archive.writestr("skipped.json", json.dumps({"count": export.skipped_count, "rows": export.skipped}))
        for name in parts:
            for line in _read_lines(name):
                path, content, *encoding = json.loads(line)
                archive.writestr(path, base64.b64decode(content) if encoding == ["base64"] else content)


def _advance(export: Export, *, part: str, chunk: _Chunk) -> Export:
    """Record a written page (compare-and-set on the chunk count: a second worker on the same export stops)."""
    skipped = (export.skipped + chunk.skipped)[:SKIPPED_KEPT]
    values = {
        "after_data_row": chunk.last_id,
        "chunks_written": export.chunks_written + 1,
        "part_names": [*export.part_names, part],
        "row_count": export.row_count + chunk.rows - len(chunk.skipped),
        "annotation_count": export.annotation_count + chunk.annotations,
        "skipped_count": export.skipped_count + len(chunk.skipped),
        "skipped": skipped,
        "updated_at": timezone.now(),
    }
    updated = Export.objects.filter(pk=export.pk, chunks_written=export.chunks_written).update(**values)
    if not updated:
        raise Conflict("Another worker is writing this export.", code="export_running")
    for key, value in values.items():
        setattr(export, key, value)
    return export


def _chunks(export: Export, query: RowQuery, page_size: int) -> Iterator[_Chunk]:
    """The pages still to write, each rendered. On PostgreSQL, NDJSON lines and COCO pages are built by the database
    (`apps.exports.sql`, `apps.exports.coco_sql`); the Python writers serve the other formats and databases."""
    if export.format == ExportFormat.NDJSON and ndjson_sql_usable(query):
        for sql_page in ndjson_sql_pages(query, after=export.after_data_row, page_size=page_size):
            chunk = _Chunk()
            chunk.text, chunk.rows, chunk.last_id = sql_page.text, len(sql_page.ids), sql_page.ids[-1]
            chunk.annotations = annotation_count(chunk.text)
            yield _render_chunk(export, query, (), built=chunk)
        return
    if export.format == ExportFormat.COCO and coco_sql_usable(query):

        def numbering() -> tuple[int, int]:
            """Image and annotation ids continue from the counters recorded so far (read as each page is queried)."""
            return export.row_count + 1, export.annotation_count + 1

        for coco_page in coco_sql_pages(query, after=export.after_data_row, page_size=page_size, numbering=numbering):
            chunk = _Chunk()
            chunk.text = coco_page.images + "\n" + coco_page.annotations
            chunk.rows, chunk.last_id, chunk.annotations = coco_page.rows, coco_page.last_id, coco_page.annotation_count
            yield _render_chunk(export, query, (), built=chunk)
        return
    for page in query.pages(
        after=export.after_data_row,
        page_size=page_size,
        as_json=export.format == ExportFormat.NDJSON,
        only=None if export.format == ExportFormat.NDJSON else IMAGE_ROW_FIELDS,
    ):
        yield _render_chunk(export, query, page)


def export_run(
    *, export_id: Any, on_progress: ProgressCallback | None = None, chunk_rows: int | None = None
) -> dict[str, Any]:
    """Write the export, continuing from its checkpoint. Safe to run again at any point: pages already recorded are
    not written twice, and a finished export returns its existing file."""
    export = Export.objects.select_related("project__ontology_version", "project__organization").get(pk=export_id)
    if export.status == ExportStatus.SUCCEEDED:
        return export_result(export)
    project = export.project
    query = RowQuery.build(project, filters_or_400(export.filters))
    if export.chunks_written == 0:
        export.rows_total = query.count()
    export.status = ExportStatus.RUNNING
    export.error = ""
    export.save(update_fields=["status", "error", "rows_total", "updated_at"])
    try:
        done = export.row_count + export.skipped_count
        if on_progress:
            on_progress(done, export.rows_total)
        for chunk in _chunks(export, query, chunk_rows or CHUNK_ROWS or settings.TDP_EXPORT_CHUNK_ROWS):
            part = _save(f"{_base(export)}/parts/{export.chunks_written:06d}.part", chunk.text.encode())
            export = _advance(export, part=part, chunk=chunk)
            done += chunk.rows
            if on_progress:
                on_progress(done, max(export.rows_total, done))
        _finish(export, project)
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"[:2000]
        Export.objects.filter(pk=export.pk).update(status=ExportStatus.FAILED, error=error, updated_at=timezone.now())
        _announce(export, "export.failed", {"error": error})
        raise
    _announce(export, "export.succeeded", export_result(export))
    return export_result(export)


def _announce(export: Export, event: str, extra: dict[str, Any]) -> None:
    """The `export.*` webhook events (`apps.core.events`): the export's id, project and format plus `extra`."""
    emit(
        type=event,
        organization_id=export.project.organization_id,
        project_id=export.project_id,
        object=lambda: {"id": str(export.pk), "project": str(export.project_id), "format": export.format, **extra},
    )


def _finish(export: Export, project: Project) -> None:
    final = f"{_base(export)}/{_safe_name(project.name)}-{export.format}.{EXTENSIONS[export.format]}"
    with tempfile.TemporaryFile() as spool:
        _assemble(export, project, spool)
        size = spool.tell()
        spool.seek(0)
        stored = _save(final, spool)
    parts = list(export.part_names)
    export.file_name = stored
    export.file_size = size
    export.status = ExportStatus.SUCCEEDED
    export.finished_at = timezone.now()
    export.part_names = []
    export.save(update_fields=["file_name", "file_size", "status", "finished_at", "part_names", "updated_at"])
    for name in parts:
        default_storage.delete(name)
    audit_record(
        action="export.finished",
        actor=export.created_by,
        organization=project.organization,
        target=export,
        extra={"rows": export.row_count, "format": export.format},
    )
