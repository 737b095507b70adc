"""The whole file, pipelined: this thread parses and validates, a database thread looks rows up and writes."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from django.conf import settings
from django.db import connection, connections

from apps.predictions.domain.lines import iter_line_batches
from apps.predictions.models import PredictionImport
from apps.predictions.services.imports.chunks import Chunk, ChunkImporter
from apps.predictions.services.imports.report import Report
from apps.predictions.services.targets import Target

CHUNK_LINES = 5000


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
