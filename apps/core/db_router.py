"""Read replica routing: heavy read-only selectors (analytics, diagnostics, exports) read from `replica` when
`DATABASE_REPLICA_URL` configures one; everything else (and every write) uses `default`.

Selectors opt in with `@reads_from_replica` (or `with replica_reads():`). Reads made inside a transaction on
`default` stay on `default` (read-your-writes), and without a replica the router changes nothing. Querysets that
are evaluated after the selector returns use `default`: decorate the function that runs the queries.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

REPLICA = "replica"
_replica_reads: ContextVar[bool] = ContextVar("tdp_replica_reads", default=False)
F = TypeVar("F", bound=Callable[..., Any])


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


def read_alias() -> str:
    """The alias a read should use right now (for raw SQL: `connections[read_alias()].cursor()`)."""
    if _replica_reads.get() and replica_configured() and not connections[DEFAULT_DB_ALIAS].in_atomic_block:
        return REPLICA
    return DEFAULT_DB_ALIAS


@contextmanager
def replica_reads() -> Iterator[None]:
    token = _replica_reads.set(True)
    try:
        yield
    finally:
        _replica_reads.reset(token)


def reads_from_replica(func: F) -> F:
    """Run a read-only selector's queries on the replica (generators too: while they are iterated)."""
    if inspect.isgeneratorfunction(func):

        @functools.wraps(func)
        def generator(*args: Any, **kwargs: Any) -> Any:
            # The flag is set around each step only: between items the caller's own reads and writes are its own.
            with replica_reads():
                inner = func(*args, **kwargs)
            while True:
                with replica_reads():
                    try:
                        item = next(inner)
                    except StopIteration:
                        return
                yield item

        return generator  # type: ignore[return-value]

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with replica_reads():
            return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


class ReplicaRouter:
    """`DATABASE_ROUTERS` entry. Returns None (no opinion: `default`) unless a replica read is asked for."""

    def db_for_read(self, model: Any, **hints: Any) -> str | None:
        alias = read_alias()
        return alias if alias == REPLICA else None

    def db_for_write(self, model: Any, **hints: Any) -> str | None:
        return None

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool | None:
        return True  # the replica is a copy of default: objects from both relate freely

    def allow_migrate(self, db: str, app_label: str, model_name: str | None = None, **hints: Any) -> bool | None:
        return db == DEFAULT_DB_ALIAS
