"""The import pipeline: parsed rows → validated rows → batched upserts by `global_key`.

PostgreSQL: one `INSERT … SELECT FROM unnest(arrays) ON CONFLICT (organization_id, global_key) DO UPDATE … WHERE
dataset matches RETURNING (xmax = 0)` statement per batch — no model instances, one round trip, and the database
says which rows were created, updated, or belong to another dataset. Other databases (the SQLite default of
`make run`): the same semantics with `bulk_create(update_conflicts=True)` after a lookup of the batch's keys.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import psycopg

try:
    import orjson
except ImportError:  # pragma: no cover - orjson is in requirements.txt
    orjson = None  # type: ignore[assignment]
from django.conf import settings
from django.db import IntegrityError, connection, connections, transaction
from django.utils import timezone

from apps.core.ids import uuid7
from apps.datasets.domain.metadata import FieldSpec, compile_specs
from apps.datasets.domain.rows import CleanRow, RowError, clean_row
from apps.datasets.domain.streams import iter_rows
from apps.datasets.models import Attachment, DataRow, Dataset, MetadataField

_report_lock = threading.Lock()


def new_row_ids(count: int) -> list[str]:
    """`count` UUIDv7 strings (same layout as `apps.core.ids.uuid7`) from one clock read and one urandom call, in
    increasing order, so a batch's rows append to the right edge of the id-ordered indexes."""
    millis = time.time_ns() // 1_000_000
    random = os.urandom(10 * count)
    base = ((millis & ((1 << 48) - 1)) << 80) | (0x7 << 76) | (0b10 << 62)
    low_mask = (1 << 62) - 1
    ids = []
    for offset in range(0, 10 * count, 10):
        value = int.from_bytes(random[offset : offset + 10], "big")
        value = base | (((value >> 62) & 0xFFF) << 64) | (value & low_mask)
        ids.append(f"{value:032x}")
    ids.sort()
    return ids


# One encoder for every row: `json.dumps(..., ensure_ascii=False)` would build a new encoder per call.
_JSON = json.JSONEncoder(ensure_ascii=False, check_circular=False, allow_nan=False, separators=(", ", ": "))


def metadata_json(metadata: dict[str, Any]) -> str:
    """The jsonb text of a row's validated metadata: orjson (several times faster), or the standard encoder for
    anything orjson would not encode the same way. Validated metadata holds strings, finite numbers within 64 bits and
    lists of strings; orjson writes NaN as null where the standard encoder refuses it, so it never gets one."""
    if orjson is not None:
        try:
            return orjson.dumps(metadata).decode()
        except orjson.JSONEncodeError:
            pass
    return _JSON.encode(metadata)


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    failed: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    errors_truncated: bool = False
    data_rows: list[dict[str, str]] = field(default_factory=list)
    keep_rows: bool = False
    videos: int = 0  # video rows among the good ones (they get probed after the import)

    def error(self, index: int, global_key: str | None, message: str) -> None:
        with _report_lock:  # the parsing thread and the writer thread both report
            self._error(index, global_key, message)

    def _error(self, index: int, global_key: str | None, message: str) -> None:
        self.failed += 1
        if len(self.errors) < settings.TDP_IMPORT_MAX_REPORTED_ERRORS:
            key = _printable(global_key) if global_key is not None else None
            self.errors.append({"index": index, "global_key": key, "message": _printable(message)})
        else:
            self.errors_truncated = True

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "created": self.created,
            "updated": self.updated,
            "failed": self.failed,
            "errors": sorted(self.errors, key=lambda e: e["index"]),
            "errors_truncated": self.errors_truncated,
        }
        if self.keep_rows:
            body["data_rows"] = self.data_rows
        return body


def _printable(text: str) -> str:
    """User text echoed in a report must survive UTF-8 encoding (lone surrogates become escapes)."""
    if text.isascii():
        return text
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def metadata_specs(organization_id: Any) -> dict[str, FieldSpec]:
    fields = MetadataField.objects.filter(organization_id=organization_id).values_list("name", "kind", "options")
    return compile_specs([(name, kind, list(options or [])) for name, kind, options in fields])


def upload_prefix(organization_id: Any) -> str:
    return f"upload://uploads/{organization_id}/"


def _key_of(raw: Any) -> str | None:
    if isinstance(raw, dict):
        key = raw.get("global_key")
        return key[:255] if isinstance(key, str) else None
    return None


_TEMP_TABLE = "tdp_import_rows"
_TEMP_TABLE_SQL = f"""
    CREATE TEMP TABLE IF NOT EXISTS {_TEMP_TABLE} (
        id uuid, global_key text, external_id text, row_data text, media_type text, width integer,
        height integer, metadata jsonb
    ) ON COMMIT DELETE ROWS
"""
_COPY_SQL = (
    f"COPY {_TEMP_TABLE} (id, global_key, external_id, row_data, media_type, width, height, metadata) FROM STDIN"
)

_LOOKUP_SQL = (
    "SELECT id, global_key FROM {table} WHERE organization_id = %s AND dataset_id = %s AND global_key = ANY(%b)"
)
_INSERT_COPY_SQL = (
    "COPY {table} (id, organization_id, dataset_id, global_key, external_id, row_data, media_type, width, height, "
    "metadata, created_at, updated_at) FROM STDIN"
)


_SQLITE_LOOKUP_KEYS = 30_000  # under SQLite's default limit of 32,766 bound values per statement
_SQLITE_INSERT = (
    "INSERT INTO {table} (id, organization_id, dataset_id, global_key, external_id, row_data, media_type, width, "
    "height, metadata, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_SQLITE_UPDATE = (
    "UPDATE {table} SET external_id = ?, row_data = ?, media_type = ?, width = ?, height = ?, metadata = ?, "
    "updated_at = ? WHERE id = ? AND NOT (external_id IS ? AND row_data IS ? AND media_type IS ? AND width IS ? "
    "AND height IS ? AND metadata IS ?)"
)


class RowWriter:
    """Writes batches of clean rows for one dataset and fills the report."""

    def __init__(self, dataset: Dataset, report: ImportReport) -> None:
        self.dataset = dataset
        self.report = report
        self.table = DataRow._meta.db_table
        self.clear_attachments = Attachment.objects.filter(data_row__dataset_id=dataset.pk).exists()
        self.optimistic = True

    def write(self, batch: list[CleanRow]) -> None:
        if not batch:
            return
        if connection.vendor == "postgresql":
            results = self._write_postgresql(batch)
        elif connection.vendor == "sqlite":
            results = self._write_sqlite(batch)
        else:
            results = self._write_generic(batch)
        written: dict[str, tuple[uuid.UUID, bool]] = {}
        for row_id, key, inserted in results:
            written[key] = (row_id, inserted)
        new_attachments: list[Attachment] = []
        updated_ids: list[uuid.UUID] = []
        for row in batch:
            hit = written.get(row.global_key)
            if hit is None:
                self.report.error(row.index, row.global_key, "global_key is used by a data row of another dataset")
                continue
            row_id, inserted = hit
            if inserted:
                self.report.created += 1
            else:
                self.report.updated += 1
                updated_ids.append(row_id)
            if self.report.keep_rows:
                self.report.data_rows.append(
                    {"id": str(row_id), "global_key": row.global_key, "row_data": row.row_data}
                )
            for kind, value, name in row.attachments:
                new_attachments.append(Attachment(data_row_id=row_id, type=kind, value=value, name=name))
        if updated_ids and self.clear_attachments:
            Attachment.objects.filter(data_row_id__in=updated_ids).delete()
        if new_attachments:
            Attachment.objects.bulk_create(new_attachments, batch_size=2000)
            self.clear_attachments = True

    def _write_postgresql(self, batch: list[CleanRow]) -> list[tuple[Any, str, bool]]:
        """Optimistic path: COPY the batch straight into the table (psycopg's C row writer, no per-row statement,
        no speculative insertion). A unique violation — some keys exist already — rolls the batch's savepoint back
        and the set-based upsert does it instead; batches stay on the upsert path until one is all new again."""
        if self.optimistic:
            # Constant values pre-rendered as text: COPY then formats only strings and ints (psycopg's C path).
            org_id, dataset_id = str(self.dataset.organization_id), str(self.dataset.pk)
            now = timezone.now().isoformat()
            dumps = metadata_json
            ids = new_row_ids(len(batch))
            try:
                with transaction.atomic(), connection.cursor() as cursor:
                    raw = cursor.cursor  # the driver cursor: COPY, and no debug logging of big statements
                    # Check the dataset FK per batch, while the other thread parses the next one, instead of
                    # 100,000s of deferred checks in one serial burst at COMMIT.
                    raw.execute("SET CONSTRAINTS ALL IMMEDIATE")
                    with raw.copy(_INSERT_COPY_SQL.format(table=self.table)) as copy:
                        for row_id, r in zip(ids, batch, strict=True):
                            copy.write_row(
                                (
                                    row_id,
                                    org_id,
                                    dataset_id,
                                    r.global_key,
                                    r.external_id,
                                    r.row_data,
                                    r.media_type,
                                    r.width,
                                    r.height,
                                    dumps(r.metadata),
                                    now,
                                    now,
                                )
                            )
                return [(row_id, r.global_key, True) for row_id, r in zip(ids, batch, strict=True)]
            except (IntegrityError, psycopg.IntegrityError):  # the driver cursor raises psycopg's own error
                self.optimistic = False
        results = self._upsert_postgresql(batch)
        self.optimistic = all(inserted for _, _, inserted in results) and len(results) == len(batch)
        return results

    def _upsert_postgresql(self, batch: list[CleanRow]) -> list[tuple[uuid.UUID, str, bool]]:
        """Batches with existing keys: COPY to a temp table, one set-based upsert. A row whose values are all
        unchanged is not rewritten (no new tuple, index entries or WAL for a no-op re-import) but still counts as
        updated; rows the upsert did not return are looked up to tell those from keys of another dataset."""
        now = timezone.now()
        upsert = f"""
            INSERT INTO {self.table} AS d (id, organization_id, dataset_id, global_key, external_id, row_data,
                                           media_type, width, height, metadata, created_at, updated_at)
            SELECT t.id, %s, %s, t.global_key, t.external_id, t.row_data, t.media_type, t.width, t.height,
                   t.metadata, %s, %s
            FROM {_TEMP_TABLE} t
            ON CONFLICT (organization_id, global_key) DO UPDATE SET
                external_id = EXCLUDED.external_id, row_data = EXCLUDED.row_data, media_type = EXCLUDED.media_type,
                width = EXCLUDED.width, height = EXCLUDED.height, metadata = EXCLUDED.metadata,
                updated_at = EXCLUDED.updated_at
            WHERE d.dataset_id = EXCLUDED.dataset_id
              AND (d.external_id, d.row_data, d.media_type, d.width, d.height, d.metadata)
                  IS DISTINCT FROM (EXCLUDED.external_id, EXCLUDED.row_data, EXCLUDED.media_type, EXCLUDED.width,
                                    EXCLUDED.height, EXCLUDED.metadata)
            RETURNING d.id, d.global_key, (d.xmax = 0)
        """  # noqa: S608 - table names are constants of this module and the model, every value is a parameter
        dumps = metadata_json
        with transaction.atomic(), connection.cursor() as cursor:
            raw = cursor.cursor  # the driver cursor: COPY, and no debug logging of 5,000-row statements
            raw.execute(_TEMP_TABLE_SQL)
            ids = new_row_ids(len(batch))
            with raw.copy(_COPY_SQL) as copy:
                for row_id, r in zip(ids, batch, strict=True):
                    copy.write_row(
                        (
                            row_id,
                            r.global_key,
                            r.external_id,
                            r.row_data,
                            r.media_type,
                            r.width,
                            r.height,
                            dumps(r.metadata),
                        )
                    )
            raw.execute(upsert, [self.dataset.organization_id, self.dataset.pk, now, now])
            results = [(row[0], row[1], bool(row[2])) for row in raw.fetchall()]
            raw.execute(f"TRUNCATE {_TEMP_TABLE}")
            if len(results) < len(batch):
                returned = {key for _, key, _ in results}
                missing = [r.global_key for r in batch if r.global_key not in returned]
                raw.execute(
                    _LOOKUP_SQL.format(table=self.table), [self.dataset.organization_id, self.dataset.pk, missing]
                )
                results += [(row[0], row[1], False) for row in raw.fetchall()]  # unchanged rows of this dataset
        return results

    def _write_sqlite(self, batch: list[CleanRow]) -> list[tuple[Any, str, bool]]:
        """SQLite: the batch's existing keys in one lookup, then one `executemany` INSERT of the new rows and one
        `executemany` UPDATE of the existing rows of this dataset (statements compiled once, rows bound in C, no
        model instances), in one transaction. As on PostgreSQL, an existing row whose values are all unchanged is
        not rewritten (its `updated_at` stays) but counts as updated; keys of another dataset are left out."""
        org_hex, dataset_hex = self.dataset.organization_id.hex, self.dataset.pk.hex
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        dumps = metadata_json
        results: list[tuple[Any, str, bool]] = []
        inserts: list[tuple[Any, ...]] = []
        updates: list[tuple[Any, ...]] = []
        with transaction.atomic(), connection.cursor() as cursor:
            raw = cursor.cursor  # the driver cursor: `?` placeholders, no per-statement wrapper
            existing: dict[str, tuple[str, str]] = {}
            keys = list({r.global_key for r in batch})
            for start in range(0, len(keys), _SQLITE_LOOKUP_KEYS):
                part = keys[start : start + _SQLITE_LOOKUP_KEYS]
                raw.execute(
                    f"SELECT global_key, dataset_id, id FROM {self.table} "  # noqa: S608 - the model's table
                    f"WHERE organization_id = ? AND global_key IN ({', '.join('?' * len(part))})",
                    [org_hex, *part],
                )
                existing.update((key, (dataset_id, row_id)) for key, dataset_id, row_id in raw.fetchall())
            new_ids = iter(new_row_ids(len(batch)))
            for r in batch:
                found = existing.get(r.global_key)
                values = (r.external_id, r.row_data, r.media_type, r.width, r.height, dumps(r.metadata))
                if found is None:
                    row_id = next(new_ids)  # 32 hex digits: how SQLite stores a UUID
                    existing[r.global_key] = (dataset_hex, row_id)  # a repeated key updates this new row
                    inserts.append((row_id, org_hex, dataset_hex, r.global_key, *values, now, now))
                    results.append((row_id, r.global_key, True))
                elif found[0] == dataset_hex:
                    updates.append((*values, now, found[1], *values))
                    results.append((found[1], r.global_key, False))
            if inserts:
                raw.executemany(_SQLITE_INSERT.format(table=self.table), inserts)
            if updates:
                raw.executemany(_SQLITE_UPDATE.format(table=self.table), updates)
        return results

    def _write_generic(self, batch: list[CleanRow]) -> list[tuple[uuid.UUID, str, bool]]:
        keys = [r.global_key for r in batch]
        existing = {
            key: (dataset_id, row_id)
            for key, dataset_id, row_id in DataRow.objects.filter(
                organization_id=self.dataset.organization_id, global_key__in=keys
            ).values_list("global_key", "dataset_id", "id")
        }
        objects = []
        results = []
        for row in batch:
            found = existing.get(row.global_key)
            if found is not None and found[0] != self.dataset.pk:
                continue
            row_id = found[1] if found else uuid7()
            results.append((row_id, row.global_key, found is None))
            objects.append(
                DataRow(
                    id=row_id,
                    organization_id=self.dataset.organization_id,
                    dataset_id=self.dataset.pk,
                    global_key=row.global_key,
                    external_id=row.external_id,
                    row_data=row.row_data,
                    media_type=row.media_type,
                    width=row.width,
                    height=row.height,
                    metadata=row.metadata,
                )
            )
        DataRow.objects.bulk_create(
            objects,
            update_conflicts=True,
            unique_fields=["organization", "global_key"],
            update_fields=["external_id", "row_data", "media_type", "width", "height", "metadata", "updated_at"],
        )
        return results


class CountingChunks:
    """Wraps a chunk iterator, counting bytes (progress of background imports)."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self.chunks = chunks
        self.bytes_read = 0

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.chunks:
            self.bytes_read += len(chunk)
            yield chunk


class PipelinedWriter:
    """Runs `RowWriter.write` in a second thread on the *same* database connection (Django's thread sharing), so
    PostgreSQL inserts batch N while this thread parses and validates batch N+1. At most two batches are in
    flight; the parsing thread never touches the database while the writer runs."""

    _DONE: Any = object()

    def __init__(self, writer: RowWriter, on_batch: Callable[[int], None] | None) -> None:
        self.writer = writer
        self.on_batch = on_batch
        self.queue: queue.Queue[Any] = queue.Queue(maxsize=1)
        self.error: BaseException | None = None
        self.alias = connection.alias
        self.shared = connections[self.alias]
        self.shared.inc_thread_sharing()
        self.thread = threading.Thread(target=self._run, name="tdp-import-writer", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        connections[self.alias] = self.shared  # this thread's `connection` is the request's connection
        while True:
            item = self.queue.get()
            if item is self._DONE:
                return
            if self.error is not None:
                continue  # drain: the parsing thread will see the error
            batch, bytes_read = item
            try:
                self.writer.write(batch)
                if self.on_batch is not None:
                    self.on_batch(bytes_read)
            except BaseException as exc:  # re-raised in the parsing thread by `put`/`close`
                self.error = exc

    def put(self, batch: list[CleanRow], bytes_read: int) -> None:
        if self.error is not None:
            raise self.error
        self.queue.put((batch, bytes_read))

    def close(self) -> None:
        """Wait for the writes in flight; re-raise a writer error. Always call it (try/finally)."""
        if self.thread.is_alive():
            self.queue.put(self._DONE)
            self.thread.join()
        self.shared.dec_thread_sharing()
        if self.error is not None:
            raise self.error


def run_import(
    *,
    dataset: Dataset,
    fmt: str,
    chunks: Iterable[bytes],
    report: ImportReport | None = None,
    on_batch: Callable[[int], None] | None = None,
) -> ImportReport:
    """Parse, validate and upsert every row. Structural errors raise `BodyError`; the caller owns the transaction."""
    report = report or ImportReport()
    specs = metadata_specs(dataset.organization_id)
    prefix = upload_prefix(dataset.organization_id)
    writer = RowWriter(dataset, report)
    batch_size = settings.TDP_IMPORT_BATCH_SIZE
    from_text = fmt == "csv"
    counted = CountingChunks(chunks)
    seen: dict[int, int] = {}  # hash(global_key) → first index: duplicates inside one body are reported
    batch: list[CleanRow] = []
    pipeline = PipelinedWriter(writer, on_batch)
    closed = False
    try:
        for index, raw in iter_rows(fmt, counted, settings.TDP_IMPORT_MAX_ROW_CHARS):
            if isinstance(raw, RowError):
                report.error(index, None, str(raw))
                continue
            try:
                row = clean_row(index, raw, specs, prefix, from_text=from_text)
            except RowError as exc:
                report.error(index, _key_of(raw), str(exc))
                continue
            if row.media_type == "video":
                report.videos += 1
            key_hash = hash(row.global_key)
            first = seen.get(key_hash)
            if first is not None:
                report.error(index, row.global_key, f"duplicate global_key: row {first} of this import has it too")
                continue
            seen[key_hash] = index
            batch.append(row)
            if len(batch) >= batch_size:
                pipeline.put(batch, counted.bytes_read)
                batch = []
        pipeline.put(batch, counted.bytes_read)
        closed = True
        pipeline.close()
    finally:
        if not closed:
            pipeline.error = pipeline.error or RuntimeError("import aborted")  # stop writing queued batches
            with contextlib.suppress(BaseException):  # the parsing error that got us here is the one to report
                pipeline.close()
    return report


def check_structure(*, fmt: str, chunks: Iterable[bytes]) -> int:
    """Parse a whole body without writing (background imports check it before the first batch): row count."""
    count = 0
    for _ in iter_rows(fmt, chunks, settings.TDP_IMPORT_MAX_ROW_CHARS):
        count += 1
    return count
