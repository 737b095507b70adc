"""Pages of an export built concurrently, each on a worker thread's own database connection, yielded in order.

Why: PostgreSQL does most of the work of an SQL-built export page (`apps.exports.sql`), and one query runs on one
core. With two pages in flight on two connections, two backends work at once while this process writes out the
page before them.

How: the caller knows the pages' upper bounds in advance (`bounds`, lazily: the iterator may query the database in
the calling thread). Page i is `(bound i-1, bound i]`: `fetch(connection, lower, upto)` runs its query in its own
transaction on the worker's connection and returns the result unread; `load(result)` reads it into Python objects in
the consumer's thread, the thread that also frees them. (Read by the workers, each page's objects went back to the
workers' malloc arenas, which glibc then trimmed and faulted in again for the next page: a third more process CPU,
all of it page faults.) At most `workers` pages are in flight besides the one the consumer holds.
Each worker opens its connection on its first page; every connection is closed when the pool has shut down: at the
end, on an error, or when the consumer stops early (the generator is closed: a client disconnect). Pages not
started by then are dropped, the queries of those running are cancelled on the server.

Only for reads of committed data: a worker's connection does not see the calling connection's uncommitted rows
(the caller checks that it is not inside a transaction: an atomic block, or autocommit off).
"""

from __future__ import annotations

import contextlib
import threading
from collections import deque
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from django.db import DatabaseError, connections
from django.db.backends.base.base import BaseDatabaseWrapper

R = TypeVar("R")
T = TypeVar("T")


class WorkerConnections:
    """One private connection to `alias` per worker thread (not Django's thread-local one), all closed by `close()`."""

    def __init__(self, alias: str) -> None:
        self.alias = alias
        self._local = threading.local()
        self._opened: list[BaseDatabaseWrapper] = []
        self._lock = threading.Lock()

    def get(self) -> BaseDatabaseWrapper:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = connections.create_connection(self.alias)
            self._local.connection = connection
            with self._lock:
                self._opened.append(connection)
        return connection

    def cancel_queries(self) -> None:
        """Asks the server to cancel the query each connection is running (pages nobody will read)."""
        with self._lock:
            opened = list(self._opened)
        for connection in opened:
            raw = connection.connection  # psycopg's connection: its cancel request may come from any thread
            cancel = getattr(raw, "cancel_safe", None) or getattr(raw, "cancel", None)
            if cancel is not None:
                with contextlib.suppress(Exception):  # already closed or finished: nothing to cancel
                    cancel()

    def close(self) -> None:
        """Closes every connection opened so far; called once no page runs any more (the pool has shut down)."""
        with self._lock:
            opened, self._opened = self._opened, []
        for connection in opened:
            connection.inc_thread_sharing()  # opened by a worker thread, closed from this one
            try:
                connection.close()
            finally:
                connection.dec_thread_sharing()


@contextlib.contextmanager
def own_transaction(connection: BaseDatabaseWrapper) -> Iterator[None]:
    """A transaction on a private connection (`transaction.atomic` only knows the thread's own connections)."""
    connection.set_autocommit(False)
    try:
        yield
        connection.commit()
    except BaseException:
        with contextlib.suppress(DatabaseError):
            connection.rollback()
        raise
    finally:
        with contextlib.suppress(DatabaseError):
            connection.set_autocommit(True)


def ordered_pages(
    *,
    alias: str,
    bounds: Iterator[Any],
    fetch: Callable[[BaseDatabaseWrapper, Any, Any], R],
    load: Callable[[R], list[T]],
    after: Any,
    workers: int,
) -> Generator[list[T], None, Any]:
    """The non-empty pages `(after, b1], (b1, b2], ...` for the bounds `b1, b2, ...`, fetched on `workers` threads
    and yielded in order. Returns the last bound (`after` when there was none): the caller continues from it."""
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="export-page")
    worker_connections = WorkerConnections(alias)

    def job(lower: Any, upto: Any) -> R:
        connection = worker_connections.get()
        with own_transaction(connection):
            return fetch(connection, lower, upto)

    pending: deque[Future[R]] = deque()
    lower = after

    def fill() -> None:
        nonlocal lower
        while len(pending) < workers and (upto := next(bounds, None)) is not None:
            pending.append(pool.submit(job, lower, upto))
            lower = upto

    try:
        fill()
        while pending:
            rows = load(pending.popleft().result())
            fill()  # the next pages run while the consumer handles this one
            if rows:
                yield rows
        return lower
    finally:
        for future in pending:
            future.cancel()
        if any(not future.done() for future in pending):  # stopped early: pages still running
            worker_connections.cancel_queries()
        pool.shutdown(wait=True, cancel_futures=True)
        worker_connections.close()
