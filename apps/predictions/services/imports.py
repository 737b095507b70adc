"""Importing pre-labels (into a project) and predictions (into a model run) from NDJSON.

Per chunk of lines: parse (bad lines reported with their line number); box lines of the common shape are kept as
columns by the box path (`domain/boxes.py`), every other line goes through `parse_line`. Resolve the data rows in one
query per kind of reference (global key or id), with their size and whether they are in the project. Box lines:
every box's numbers checked at once with the validator's own checks, documents written from a template (a box the
checks doubt goes to the validator, which explains it). Other lines: the one ontology validator in bulk (tool
annotations grouped by the asset's size; classifications one by one, since a validator call treats its list as one
label). Then write the chunk with COPY: straight into the table while every uuid is new, else through a temp table
and one `INSERT … ON CONFLICT (owner, uuid) DO UPDATE … RETURNING (xmax = 0)`, so a re-import updates instead of
duplicating and the database says which rows were created. Small bodies run in the request, in one transaction;
large ones are spooled and run as a job, each chunk committed (progress in bytes).
"""

from __future__ import annotations

import contextlib
import json
import math
import re
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import orjson
import psycopg
from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import IntegrityError, connection, connections, transaction
from django.db.models import Q, QuerySet, TextField, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast, Left, Length
from django.utils import timezone

from apps.accounts.models import User
from apps.core.audit import audit_record
from apps.core.events import emit
from apps.core.ids import is_uuid, uuid7
from apps.core.jobs import job_create_and_enqueue
from apps.core.models import Job
from apps.datasets.models import DataRow
from apps.datasets.services import Readable, iter_chunks
from apps.labeling import services as labeling_services
from apps.labeling.models import Project
from apps.labeling.selectors import row_in_project
from apps.ontologies.models import OntologyVersion
from apps.ontologies.selectors import annotations_validate, compiled_version
from apps.predictions.domain.boxes import BoxLines, BoxPath
from apps.predictions.domain.lines import (
    ParsedLine,
    annotation_kind,
    derived_uuid,
    iter_line_batches,
    parse_line,
    parse_lines,
)
from apps.predictions.models import (
    ImportKind,
    ImportStatus,
    ModelRun,
    ModelRunDataRow,
    Prediction,
    PredictionImport,
    Prelabel,
)

CHUNK_LINES = 5000
STORED_ERRORS = 1000  # errors kept on the import record (the response and the job result carry more)
_URL_LIKE = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)
_PATH = re.compile(r"^annotations\[\d+\]\.?")


@dataclass
class Target:
    """Where an import goes: a project's pre-labels or a model run's predictions."""

    kind: str
    organization_id: Any
    version: OntologyVersion
    project: Project | None = None
    model_run: ModelRun | None = None

    @property
    def owner_column(self) -> str:
        return "project_id" if self.kind == ImportKind.PRELABELS else "model_run_id"

    @property
    def owner_id(self) -> Any:
        return self.project.pk if self.project is not None else self.model_run.pk  # type: ignore[union-attr]

    @property
    def model(self) -> type[Prelabel] | type[Prediction]:
        return Prelabel if self.kind == ImportKind.PRELABELS else Prediction


def prelabel_target(project: Project) -> Target:
    return Target(ImportKind.PRELABELS, project.organization_id, project.ontology_version, project=project)


def prediction_target(model_run: ModelRun) -> Target:
    return Target(
        ImportKind.PREDICTIONS, model_run.model.organization_id, model_run.ontology_version, model_run=model_run
    )


@dataclass
class Report:
    created: int = 0
    updated: int = 0
    failed: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    errors_truncated: bool = False

    def error(self, line: int, message: str) -> None:
        self.failed += 1
        if len(self.errors) < settings.TDP_IMPORT_MAX_REPORTED_ERRORS:
            self.errors.append({"line": line, "message": message})
        else:
            self.errors_truncated = True

    def as_dict(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "updated": self.updated,
            "failed": self.failed,
            "errors": sorted(self.errors, key=lambda e: e["line"]),
            "errors_truncated": self.errors_truncated,
        }


# --- rows ---------------------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Row:
    id: str
    bounds: tuple[tuple[float, float] | None, int | None]


_NO_SIZE = (math.nan, math.nan)
Found = tuple[dict[str, _Row], dict[str, _Row], set[str]]


def _resolve_rows(target: Target, keys: set[str], ids: set[str]) -> Found:
    """The rows the lines name (by global key or id) in the organization, with their bounds and, for pre-labels,
    whether each is in the project: one query per kind of reference."""
    ids = {_canonical_id(value) for value in ids} - {""}
    by_key: dict[str, _Row] = {}
    by_id: dict[str, _Row] = {}
    in_project: set[str] = set()
    if not keys and not ids:
        return by_key, by_id, in_project
    rows = DataRow.objects.filter(organization_id=target.organization_id).order_by()
    if connection.vendor == "postgresql":
        # One array parameter, not one placeholder per key; one query each (index lookups: an OR of the two would
        # scan the table).
        wanted = [
            rows.filter(**{field: RawSQL(f"SELECT unnest(%s::{kind}[])", (list(values),))})  # noqa: S611 - constant
            for field, kind, values in (("global_key__in", "text", keys), ("pk__in", "uuid", ids))
            if values
        ]
    else:
        wanted = [rows.filter(Q(global_key__in=keys) | Q(pk__in=ids))]
    for found in wanted:
        _add_rows(target, found, by_key, by_id, in_project)
    return by_key, by_id, in_project


def _add_rows(
    target: Target, found: QuerySet[DataRow], by_key: dict[str, _Row], by_id: dict[str, _Row], in_project: set[str]
) -> None:
    found = found.annotate(
        id_text=Cast("id", output_field=TextField()), text_length=Length("row_data"), head=Left("row_data", 40)
    )
    if target.project is not None:
        found = found.annotate(in_project=row_in_project(project=target.project))
    else:
        found = found.annotate(in_project=Value(True))
    columns = ("id_text", "global_key", "width", "height", "media_type", "text_length", "head", "in_project")
    for row_id, key, width, height, media_type, text_length, head, member in found.values_list(*columns):
        image_size = (float(width), float(height)) if width and height else None
        text = text_length if media_type == "text" and not _URL_LIKE.match(head or "") else None
        row = _Row(str(uuid.UUID(row_id)) if len(row_id) != 36 else row_id, (image_size, text))
        by_key[key] = row
        by_id[row.id] = row
        if member:
            in_project.add(row.id)


# --- one chunk ----------------------------------------------------------------------------------------------------


@dataclass(slots=True)
class Chunk:
    """The parsed lines of one chunk: box lines as columns (`BoxLines`), the others one by one."""

    boxes: BoxLines
    lines: list[ParsedLine]

    def references(self) -> tuple[set[str], set[str]]:
        """The global keys and the data row ids the lines name."""
        keys = {line.global_key for line in self.lines if line.global_key is not None}
        keys.update(key for key in self.boxes.keys if key is not None)
        ids = {line.row_id for line in self.lines if line.row_id is not None}
        ids.update(row_id for row_id in self.boxes.row_ids if row_id is not None)
        return keys, ids


# (line number, data row, given uuid, normalized JSON, schema_id, name, kind, confidence, is a tool annotation)
_Entry = tuple[int, str, str | None, bytes, str, str, str, float | None, bool]


class ChunkImporter:
    """Validates and writes chunks of lines for one target, filling the report. Remembers the uuids of the whole
    file, so a uuid used twice in one file is reported (with the line that had it first)."""

    def __init__(self, target: Target, report: Report, source_import: PredictionImport | None) -> None:
        self.target = target
        self.report = report
        self.source_import_id = source_import.pk if source_import is not None else None
        self.seen: dict[str, int] = {}
        self.answered: dict[tuple[str, str], int] = {}
        self.row_ids: set[str] = set()  # rows that got an annotation (routing looks at these)
        self.writer = _Writer(target, self.source_import_id)
        self.box_path = BoxPath(compiled_version(target.version))
        self.max_bytes = settings.TDP_IMPORT_MAX_ROW_CHARS

    def parse(self, raws: list[tuple[int, bytes | None]]) -> Chunk:
        """Parse numbered raw lines (no database access); bad lines are reported."""
        boxes, others = self.box_path.take(raws)
        lines, errors = parse_lines(others, self.max_bytes)
        for number, message in errors:
            self.report.error(number, message)
        return Chunk(boxes, lines)

    def lookup(self, chunk: Chunk) -> Found:
        """The database part before validation (runs on the database thread)."""
        return _resolve_rows(self.target, *chunk.references())

    def prepare(self, chunk: Chunk, found: Found) -> list[tuple[Any, ...]]:
        """Validate the lines whose rows were found (no database access): the records to store."""
        groups: dict[Any, list[tuple[ParsedLine, _Row]]] = {}
        singles: list[tuple[ParsedLine, _Row]] = []
        entries: list[_Entry] = []
        self._prepare_boxes(chunk.boxes, found, groups, entries)
        for line in chunk.lines:
            row = self._row(line.number, line.global_key, line.row_id, found)
            if row is None:
                continue
            if line.is_tool:
                groups.setdefault(row.bounds, []).append((line, row))
            else:
                singles.append((line, row))
        version = self.target.version
        for bounds, items in groups.items():
            self._validate(version, bounds, items, entries)
        for item in singles:
            self._validate(version, item[1].bounds, [item], entries)
        entries.sort(key=_line_number)  # the first line of a duplicated uuid keeps it
        return self._records(entries)

    def _row(self, number: int, global_key: str | None, row_id: str | None, found: Found) -> _Row | None:
        by_key, by_id, in_project = found
        if global_key is not None:
            row = by_key.get(global_key)
            if row is None:
                self.report.error(number, f"Unknown global key {global_key[:100]!r}.")
                return None
        else:
            row = by_id.get(_canonical_id(row_id))
            if row is None:
                self.report.error(number, f"Unknown data row id {str(row_id)[:64]!r}.")
                return None
        if row.id not in in_project:
            self.report.error(number, "The data row is not in this project (add it in a batch first).")
            return None
        return row

    def _prepare_boxes(
        self,
        boxes: BoxLines,
        found: Found,
        groups: dict[Any, list[tuple[ParsedLine, _Row]]],
        entries: list[_Entry],
    ) -> None:
        """The box lines: rows, then every box's numbers at once; a box the checks doubt goes to the validator."""
        if not len(boxes):
            return
        indices: list[int] = []
        rows: list[_Row] = []
        widths: list[float] = []
        heights: list[float] = []
        row_of = self._row
        for i, (number, key, row_id) in enumerate(zip(boxes.numbers, boxes.keys, boxes.row_ids, strict=True)):
            row = row_of(number, key, row_id, found)
            if row is None:
                continue
            indices.append(i)
            rows.append(row)
            width, height = row.bounds[0] or _NO_SIZE
            widths.append(width)
            heights.append(height)
        if not indices:
            return
        problems = boxes.problems(indices, widths, heights).tolist()
        good = [i for i, problem in zip(indices, problems, strict=True) if not problem]
        documents = iter(boxes.documents(good))
        numbers, uuids, confidences, tools = boxes.numbers, boxes.uuids, boxes.confidences, boxes.tools
        append = entries.append
        for i, row, problem in zip(indices, rows, problems, strict=True):
            if problem:  # the validator explains it
                line = parse_line(numbers[i], boxes.raws[i], self.max_bytes)
                groups.setdefault(row.bounds, []).append((line, row))
                continue
            tool = tools[i]
            document = next(documents)
            append((numbers[i], row.id, uuids[i], document, tool.schema_id, tool.name, "bbox", confidences[i], True))

    def store(self, records: list[tuple[Any, ...]], commit: bool) -> int:
        """Write the records (runs on the database thread); returns how many were new."""
        if not records:
            return 0
        with transaction.atomic() if commit else contextlib.nullcontext():
            created = self.writer.write(records)
            if self.target.model_run is not None:
                _add_run_rows(self.target.model_run, {r[1] for r in records})
        return created

    def run(self, raws: list[tuple[int, bytes | None]]) -> None:
        """One chunk, all on this thread (tests and small callers)."""
        chunk = self.parse(raws)
        records = self.prepare(chunk, self.lookup(chunk))
        created = self.store(records, commit=False)
        self.report.created += created
        self.report.updated += len(records) - created

    def _validate(
        self,
        version: OntologyVersion,
        bounds: tuple[tuple[float, float] | None, int | None],
        items: list[tuple[ParsedLine, _Row]],
        entries: list[_Entry],
    ) -> None:
        normalized, errors = annotations_validate(
            version=version,
            annotations=[line.annotation for line, _ in items],
            image_size=bounds[0],
            text_length=bounds[1],
        )
        reported: set[int] = set()
        for error in errors:
            index = error["index"]
            if index is None or index in reported:
                continue
            reported.add(index)
            path = _PATH.sub("", error["path"])
            message = f"{path}: {error['message']}" if path else error["message"]
            self.report.error(items[index][0].number, message)
        encode = orjson.dumps  # compact, keys in insertion order (the validator's fixed order): a stable document
        for (line, row), item in zip(items, normalized, strict=True):
            if item is not None:
                entries.append(
                    (
                        line.number,
                        row.id,
                        line.uuid,
                        encode(item),
                        item["schema_id"],
                        item["name"],
                        annotation_kind(item),
                        line.confidence,
                        "tool" in item,
                    )
                )

    def _records(self, entries: list[_Entry]) -> list[tuple[Any, ...]]:
        records: list[tuple[Any, ...]] = []
        append = records.append
        seen = self.seen
        answered_in = self.answered
        row_ids = self.row_ids
        error = self.report.error
        for number, row_id, given, document, schema_id, name, kind, confidence, is_tool in entries:
            annotation_id = given or derived_uuid(row_id, document)
            first = seen.get(annotation_id)
            if first is not None:
                if given is not None:
                    error(number, f"Duplicate uuid {annotation_id}: line {first} has it too.")
                else:
                    error(number, f"Duplicate annotation: line {first} has the same one.")
                continue
            if not is_tool:
                answered = answered_in.setdefault((row_id, schema_id), number)
                if answered != number:
                    error(number, f"{name!r} is already answered for this row on line {answered}.")
                    continue
            seen[annotation_id] = number
            row_ids.add(row_id)
            append((annotation_id, row_id, schema_id, name[:200], kind, document.decode(), confidence))
        return records


def _line_number(entry: _Entry) -> int:
    return entry[0]


def _canonical_id(value: str | None) -> str:
    return str(uuid.UUID(value)) if value is not None and is_uuid(value) else ""


def _add_run_rows(model_run: ModelRun, row_ids: set[str]) -> None:
    ModelRunDataRow.objects.bulk_create(
        [ModelRunDataRow(model_run=model_run, data_row_id=row_id) for row_id in row_ids],
        ignore_conflicts=True,
        batch_size=5000,
    )


# --- writing ------------------------------------------------------------------------------------------------------

_TEMP_TABLE = "tdp_prediction_rows"
_TEMP_TABLE_SQL = f"""
    CREATE TEMP TABLE IF NOT EXISTS {_TEMP_TABLE} (
        uuid uuid, data_row_id uuid, schema_id uuid, name text, kind text, annotation jsonb, confidence float8
    ) ON COMMIT DELETE ROWS
"""
_COLUMNS = "uuid, data_row_id, schema_id, name, kind, annotation, confidence"


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_escape(value: str) -> str:
    """A value in PostgreSQL's COPY text format."""
    return value.translate(_COPY_ESCAPES)


def copy_text(records: list[tuple[Any, ...]], *, prefix: str, suffix: str) -> str:
    """The records (uuid, row, schema_id, name, kind, json, confidence) as COPY text lines, built as one string:
    several times cheaper than formatting 50,000 x 7 values through the driver. Ids and kinds are safe as they are;
    JSON text from orjson has no raw control characters, only backslashes to double; names are escaped."""
    names: dict[str, str] = {}
    lines: list[str] = []
    append = lines.append
    for annotation_id, row_id, schema_id, name, kind, document, confidence in records:
        escaped = names.get(name)
        if escaped is None:
            escaped = names[name] = _copy_escape(name)
        if "\\" in document:
            document = document.replace("\\", "\\\\")
        value = "\\N" if confidence is None else repr(confidence)
        append(f"{prefix}{annotation_id}\t{row_id}\t{schema_id}\t{escaped}\t{kind}\t{document}\t{value}{suffix}")
    return "".join(lines)


def _hex(value: Any) -> str:
    """A UUID (or its text) as SQLite stores it: 32 lowercase hex digits."""
    return value.hex if isinstance(value, uuid.UUID) else str(value).replace("-", "").lower()


class _Writer:
    def __init__(self, target: Target, source_import_id: Any) -> None:
        self.target = target
        self.table = target.model._meta.db_table
        self.source_import_id = source_import_id
        self.optimistic = True

    def write(self, records: list[tuple[Any, ...]]) -> int:
        """Store the records (uuid, row, schema_id, name, kind, json, confidence); returns how many were new."""
        if connection.vendor == "sqlite":
            return self._write_sqlite(records)
        if connection.vendor != "postgresql":
            return self._write_generic(records)
        if self.optimistic:
            try:
                self._copy_new(records)
                return len(records)
            except (IntegrityError, psycopg.IntegrityError):  # some uuids exist: upsert this chunk and the next
                self.optimistic = False
        created = self._upsert(records)
        self.optimistic = created == len(records)
        return created

    def _copy_new(self, records: list[tuple[Any, ...]]) -> None:
        owner = str(self.target.owner_id)
        source = str(self.source_import_id) if self.source_import_id else "\\N"
        # created_at and updated_at: their database default, the transaction's time.
        sql = f"COPY {self.table} ({self.target.owner_column}, {_COLUMNS}, source_import_id) FROM STDIN"
        text = copy_text(records, prefix=f"{owner}\t", suffix=f"\t{source}\n")
        with transaction.atomic(), connection.cursor() as cursor:
            raw = cursor.cursor  # the driver cursor: COPY, and no debug logging of big statements
            with raw.copy(sql) as copy:
                copy.write(text)

    def _upsert(self, records: list[tuple[Any, ...]]) -> int:
        """Existing uuids: COPY to a temp table, one set-based upsert. An annotation whose content is unchanged is
        not rewritten (no new tuple, index entries or WAL for a no-op re-import) and counts as updated; the rows
        the statement returns are the inserted ones (xmax = 0) and the changed ones."""
        now = timezone.now()
        owner = self.target.owner_column
        upsert = f"""
            INSERT INTO {self.table} AS p ({owner}, {_COLUMNS}, source_import_id, created_at, updated_at)
            SELECT %s, {_COLUMNS}, %s, %s, %s FROM {_TEMP_TABLE}
            ON CONFLICT ({owner}, uuid) DO UPDATE SET
                data_row_id = EXCLUDED.data_row_id, schema_id = EXCLUDED.schema_id, name = EXCLUDED.name,
                kind = EXCLUDED.kind, annotation = EXCLUDED.annotation, confidence = EXCLUDED.confidence,
                source_import_id = EXCLUDED.source_import_id, updated_at = EXCLUDED.updated_at
            WHERE (p.data_row_id, p.schema_id, p.name, p.kind, p.annotation, p.confidence)
                  IS DISTINCT FROM (EXCLUDED.data_row_id, EXCLUDED.schema_id, EXCLUDED.name, EXCLUDED.kind,
                                    EXCLUDED.annotation, EXCLUDED.confidence)
            RETURNING (p.xmax = 0)
        """  # noqa: S608 - table and column names are constants of this module and the models
        with transaction.atomic(), connection.cursor() as cursor:
            raw = cursor.cursor
            raw.execute(_TEMP_TABLE_SQL)
            with raw.copy(f"COPY {_TEMP_TABLE} ({_COLUMNS}) FROM STDIN") as copy:
                copy.write(copy_text(records, prefix="", suffix="\n"))
            raw.execute(upsert, [self.target.owner_id, self.source_import_id, now, now])
            created = sum(1 for (inserted,) in raw.fetchall() if inserted)
            raw.execute(f"TRUNCATE {_TEMP_TABLE}")
        return created

    def _write_sqlite(self, records: list[tuple[Any, ...]]) -> int:
        """SQLite: the chunk's existing uuids in one lookup, then one `executemany` INSERT of the new annotations and
        one `executemany` UPDATE of the changed ones (an unchanged annotation is not rewritten, as on PostgreSQL), in
        one transaction, without model instances."""
        table, owner = self.table, self.target.owner_column
        owner_hex, source = _hex(self.target.owner_id), _hex(self.source_import_id) if self.source_import_id else None
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        rows = [
            (_hex(u), _hex(row), _hex(schema), name, kind, doc, conf)
            for u, row, schema, name, kind, doc, conf in records
        ]
        with transaction.atomic(), connection.cursor() as cursor:
            raw = cursor.cursor  # the driver cursor: `?` placeholders, no per-statement wrapper
            existing: set[str] = set()
            uuids = [r[0] for r in rows]
            for start in range(0, len(uuids), 30_000):  # under SQLite's limit of 32,766 bound values
                part = uuids[start : start + 30_000]
                marks = ", ".join("?" * len(part))
                raw.execute(f"SELECT uuid FROM {table} WHERE {owner} = ? AND uuid IN ({marks})", [owner_hex, *part])  # noqa: S608
                existing.update(u for (u,) in raw.fetchall())
            new = [(owner_hex, *r, source, now, now) for r in rows if r[0] not in existing]
            if new:
                raw.executemany(
                    f"INSERT INTO {table} ({owner}, {_COLUMNS}, source_import_id, created_at, updated_at) "  # noqa: S608
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    new,
                )
            changed = [(*r[1:], source, now, owner_hex, r[0], *r[1:]) for r in rows if r[0] in existing]
            if changed:
                raw.executemany(
                    f"UPDATE {table} SET data_row_id = ?, schema_id = ?, name = ?, kind = ?, annotation = ?, "  # noqa: S608
                    f"confidence = ?, source_import_id = ?, updated_at = ? WHERE {owner} = ? AND uuid = ? AND NOT "
                    "(data_row_id IS ? AND schema_id IS ? AND name IS ? AND kind IS ? AND annotation IS ? "
                    "AND confidence IS ?)",
                    changed,
                )
        return len(new)

    def _write_generic(self, records: list[tuple[Any, ...]]) -> int:
        model = self.target.model
        owner = self.target.owner_column
        existing = {
            str(u)
            for u in model.objects.filter(
                **{owner: self.target.owner_id, "uuid__in": [r[0] for r in records]}
            ).values_list("uuid", flat=True)
        }
        now = timezone.now()
        objects: list[Any] = [
            model(
                **{owner: self.target.owner_id},
                uuid=u,
                data_row_id=row_id,
                schema_id=schema_id,
                name=name,
                kind=kind,
                annotation=json.loads(document),
                confidence=confidence,
                source_import_id=self.source_import_id,
                created_at=now,
                updated_at=now,
            )
            for u, row_id, schema_id, name, kind, document, confidence in records
        ]
        model.objects.bulk_create(  # type: ignore[attr-defined]
            objects,
            update_conflicts=True,
            unique_fields=[owner.removesuffix("_id"), "uuid"],
            update_fields=[
                "data_row",
                "schema_id",
                "name",
                "kind",
                "annotation",
                "confidence",
                "source_import",
                "updated_at",
            ],
        )
        return sum(1 for r in records if r[0] not in existing)


# --- the import ---------------------------------------------------------------------------------------------------


class DatabaseThread:
    """Runs database work on one second thread sharing this thread's connection (Django's thread sharing, as the
    datasets importer does), in submission order, so PostgreSQL looks rows up and COPYs chunk N while this thread
    parses and validates chunk N+1. While it is open, the calling thread must not touch the database itself."""

    def __init__(self) -> None:
        self.alias = connection.alias
        self.shared = connections[self.alias]
        self.shared.inc_thread_sharing()
        self.executor = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="tdp-prediction-db", initializer=self._init
        )

    def _init(self) -> None:
        connections[self.alias] = self.shared

    def submit(self, func: Callable[..., Any], *args: Any) -> Future[Any]:
        return self.executor.submit(func, *args)

    def close(self) -> None:
        self.executor.shutdown(wait=True)
        self.shared.dec_thread_sharing()


def run_import(
    *,
    target: Target,
    chunks: Iterable[bytes],
    source_import: PredictionImport | None = None,
    commit_each_chunk: bool = False,
    on_chunk: Callable[[int], None] | None = None,
) -> tuple[Report, set[str]]:
    """Parse, validate and store every line. Returns the report and the data rows that got annotations.

    Pipelined: this thread parses and validates; a database thread looks up each chunk's rows (queued as soon as the
    chunk is parsed) and writes the previous chunk's records meanwhile. Writes are checked in order at the end (and
    the first failure is raised)."""
    report = Report()
    importer = ChunkImporter(target, report, source_import)
    max_bytes = settings.TDP_IMPORT_MAX_ROW_CHARS
    counted = _Counting(chunks)
    database = DatabaseThread()
    writes: list[tuple[int, Future[int]]] = []
    progress_lock = threading.Lock()

    def store(records: list[tuple[Any, ...]], bytes_read: int) -> int:
        created = importer.store(records, commit_each_chunk)
        if on_chunk is not None:
            with progress_lock:
                on_chunk(bytes_read)
        return created

    def process(chunk: Chunk, found: Future[Any], bytes_read: int) -> None:
        records = importer.prepare(chunk, found.result())
        writes.append((len(records), database.submit(store, records, bytes_read)))

    try:
        pending: tuple[Chunk, Future[Any], int] | None = None
        for raws in iter_line_batches(counted, max_bytes, CHUNK_LINES):
            chunk = importer.parse(raws)
            current = (chunk, database.submit(importer.lookup, chunk), counted.bytes_read)
            if pending is not None:
                process(*pending)
            pending = current
            for _, future in writes:  # a failed write stops the import early
                if future.done() and future.exception() is not None:
                    future.result()
        if pending is not None:
            process(*pending)
        for count, future in writes:
            created = future.result()
            report.created += created
            report.updated += count - created
    finally:
        database.close()
    return report, importer.row_ids


class _Counting:
    def __init__(self, chunks: Iterable[bytes]) -> None:
        self.chunks = chunks
        self.bytes_read = 0

    def __iter__(self) -> Any:
        for chunk in self.chunks:
            self.bytes_read += len(chunk)
            yield chunk


def _finish(record: PredictionImport, report: Report, *, error: str = "") -> None:
    result = report.as_dict()
    record.created = report.created
    record.updated = report.updated
    record.failed = report.failed
    record.errors = result["errors"][:STORED_ERRORS]
    record.errors_truncated = report.errors_truncated or len(result["errors"]) > STORED_ERRORS
    record.status = ImportStatus.FAILED if error else ImportStatus.SUCCEEDED
    record.error = error
    record.finished_at = timezone.now()
    record.save()
    emit(
        type="prediction_import.finished",
        organization_id=record.organization_id,
        project_id=record.project_id,
        object=lambda: {
            "id": str(record.pk),
            "kind": record.kind,
            "project": str(record.project_id) if record.project_id else None,
            "model_run": str(record.model_run_id) if record.model_run_id else None,
            "status": record.status,
            "created": record.created,
            "updated": record.updated,
            "failed": record.failed,
            "error": record.error or None,
            "finished_at": record.finished_at.isoformat() if record.finished_at else None,
        },
    )


def _record(actor: User | None, target: Target, size: int) -> PredictionImport:
    return PredictionImport.objects.create(
        organization_id=target.organization_id,
        kind=target.kind,
        project=target.project,
        model_run=target.model_run,
        created_by=actor,
        bytes=size,
    )


def _audit(actor: User | None, target: Target, record: PredictionImport, result: dict[str, Any]) -> None:
    audit_record(
        action=f"{target.kind}.imported",
        actor=actor,
        organization=(target.project or target.model_run.model).organization,  # type: ignore[union-attr]
        target=target.project or target.model_run,
        extra={k: result[k] for k in ("created", "updated", "failed")} | {"import": str(record.pk)},
    )


def _after_import(target: Target) -> None:
    from apps.predictions.services.queue_order import queue_order_after_import
    from apps.predictions.services.routing import routing_enqueue

    if target.kind == ImportKind.PRELABELS:
        labeling_services.project_mark(project_id=target.project.pk, has_prelabels=True)  # type: ignore[union-attr]
    routing_enqueue(target=target)
    if target.model_run is not None:
        queue_order_after_import(model_run=target.model_run)


@transaction.atomic
def annotations_import(*, actor: User, target: Target, chunks: Iterable[bytes], size: int) -> dict[str, Any]:
    """A small body, in the request and one transaction: every good line stored, every bad one reported."""
    record = _record(actor, target, size)
    report, _ = run_import(target=target, chunks=chunks, source_import=record)
    _finish(record, report)
    result = report.as_dict()
    _audit(actor, target, record, result)
    _after_import(target)
    return result | {"import": str(record.pk)}


def annotations_import_enqueue(*, actor: User, target: Target, stream: Readable) -> Job:
    """A large body: spooled to storage (bounded memory), imported by a job."""
    name = f"imports/{target.organization_id}/{uuid7()}.ndjson"
    size = 0
    with tempfile.TemporaryFile() as spool:
        for chunk in iter_chunks(stream, limit=settings.TDP_MAX_IMPORT_BYTES):
            spool.write(chunk)
            size += len(chunk)
        spool.seek(0)
        stored = default_storage.save(name, File(spool, name=name.rsplit("/", 1)[-1]))
    with transaction.atomic():
        record = _record(actor, target, size)
        job = job_create_and_enqueue(
            user=actor,
            kind=f"{target.kind}_import",
            func="apps.predictions.tasks.annotations_import_job",
            params={"import": str(record.pk), "storage_name": stored, "bytes": size},
        )
        job.progress_total = size
        job.save(update_fields=["progress_total"])
        record.job = job
        record.save(update_fields=["job", "updated_at"])
    return job


def annotations_import_from_storage(*, job: Job, on_progress: Callable[[int], None] | None = None) -> dict[str, Any]:
    """The job body: import the spooled file chunk by chunk (each chunk commits), then delete it."""
    record = PredictionImport.objects.select_related("project", "model_run__model").get(pk=job.params["import"])
    target = prelabel_target(record.project) if record.project is not None else prediction_target(record.model_run)  # type: ignore[arg-type]
    storage_name = job.params["storage_name"]
    try:
        with default_storage.open(storage_name, "rb") as handle:
            report, _ = run_import(
                target=target,
                chunks=iter_chunks(handle, limit=settings.TDP_MAX_IMPORT_BYTES),
                source_import=record,
                commit_each_chunk=True,
                on_chunk=on_progress,
            )
    except Exception as exc:
        _finish(record, Report(), error=f"{type(exc).__name__}: {exc}")
        raise
    finally:
        default_storage.delete(storage_name)
    _finish(record, report)
    result = report.as_dict()
    _audit(job.created_by, target, record, result)
    _after_import(target)
    return result | {"import": str(record.pk)}
