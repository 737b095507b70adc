"""Running the NDJSON page queries of `apps.exports.sql`: one page after the other (keyset on the data row id) or,
outside a transaction, several at once on their own connections between boundaries found in advance
(`apps.exports.page_pool`), then the keyset loop for the tail (docs/exports.md, "Pages on two connections at once")."""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from typing import Any

from django.db import connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.utils import CursorWrapper

from apps.core.db_router import read_alias
from apps.exports import page_pool
from apps.exports.sql import WORK_MEM, PageQuery

# Pages bounded by one boundaries query: its cost is a scan of this many pages' ids, whatever the project's size.
BOUNDARY_PAGES = 32

Rows = list[tuple[str, str]]


@dataclass(frozen=True)
class ConcurrentPages:
    """The queries of the concurrent path, by `first` (no lower bound): `boundaries_query` and bounded `page_query`
    variants. `workers`: pages in flight (1: the sequential path only)."""

    workers: int
    boundaries: Callable[[bool], PageQuery]
    bounded: Callable[[bool], PageQuery]


def execute_page(cursor: Any, query: PageQuery, params: dict[str, Any]) -> None:
    """Runs one page's query (its rows: `(id, line)`); the cursor's connection is inside a transaction."""
    cursor.execute(WORK_MEM)
    cursor.execute(query.sql, {**query.params, **params})


def _read(cursor: CursorWrapper) -> Rows:
    with cursor:
        return cursor.fetchall()  # type: ignore[no-any-return]


def next_boundaries(alias: str, query: PageQuery, *, after: Any, page_size: int) -> list[str]:
    """The upper bounds of the next `BOUNDARY_PAGES` full pages after `after` (fewer at the end of the export)."""
    with connections[alias].cursor() as cursor:
        cursor.execute(
            query.sql, {**query.params, "after": after, "limit": page_size * BOUNDARY_PAGES, "page_size": page_size}
        )
        return [row[0] for row in cursor.fetchall()]


def _boundaries(alias: str, concurrent: ConcurrentPages, *, after: Any, page_size: int) -> Iterator[str]:
    while True:
        found = next_boundaries(alias, concurrent.boundaries(after is None), after=after, page_size=page_size)
        yield from found
        if len(found) < BOUNDARY_PAGES:
            return
        after = found[-1]


def _concurrent_pages(
    alias: str, concurrent: ConcurrentPages, *, after: Any, page_size: int
) -> Generator[Rows, None, Any]:
    """The full pages up to the last boundary, built concurrently; returns that boundary."""
    # Built here, not by the workers (which must not touch this thread's connections).
    first_page, next_pages = concurrent.bounded(True) if after is None else None, concurrent.bounded(False)

    def fetch(connection: BaseDatabaseWrapper, lower: Any, upto: Any) -> CursorWrapper:
        cursor = connection.cursor()
        try:
            page = first_page if lower is None and first_page is not None else next_pages
            execute_page(cursor, page, {"after": lower, "upto": upto})
        except BaseException:
            cursor.close()
            raise
        return cursor  # read by the consumer's thread (`page_pool`)

    return (
        yield from page_pool.ordered_pages(
            alias=alias,
            bounds=_boundaries(alias, concurrent, after=after, page_size=page_size),
            fetch=fetch,
            load=_read,
            after=after,
            workers=concurrent.workers,
        )
    )


def _outside_transactions(alias: str) -> bool:
    """Whether the caller's connection sees only what other connections see: no atomic block, autocommit on."""
    connection = connections[alias]
    return not connection.in_atomic_block and connection.get_autocommit()


def run_pages(
    query: PageQuery,
    *,
    after: Any,
    page_size: int,
    first: PageQuery | None,
    concurrent: ConcurrentPages | None = None,
) -> Generator[Rows, None, None]:
    """Pages of `(id, line)`, keyset on the data row id (`first` is the query without the keyset condition).

    With `concurrent` (more than one worker), the full pages are built on that many connections at once
    (`apps.exports.page_pool`), between boundaries found by a keyset query `BOUNDARY_PAGES` pages at a time; then the
    keyset loop continues from the last boundary: the tail, and any row inserted meanwhile beyond it. Not inside a
    transaction (an atomic block, or autocommit off): the other connections would not see its rows."""
    if concurrent is not None and concurrent.workers > 1:
        alias = read_alias()  # here: the worker threads do not inherit the caller's `reads_from_replica`
        if _outside_transactions(alias):
            after = yield from _concurrent_pages(alias, concurrent, after=after, page_size=page_size)
    while True:
        current = first if after is None and first is not None else query
        alias = read_alias()  # the replica when the caller asked for it (`reads_from_replica`) and one exists
        with transaction.atomic(using=alias), connections[alias].cursor() as cursor:
            execute_page(cursor, current, {"after": after, "limit": page_size})
            rows = cursor.fetchall()
        if not rows:
            return
        yield rows
        if len(rows) < page_size:
            return
        after = rows[-1][0]
