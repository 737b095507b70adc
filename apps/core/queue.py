"""Enqueueing background work so that a broker outage never undoes or fails the write that asked for it.

Services call `enqueue_on_commit(func, *args, task_name=...)` instead of `transaction.on_commit(lambda:
async_task(...))`. The callback runs after the commit; if the broker (Redis) is down, the write is already stored,
so the failure is logged at ERROR (loudly: the `tdp.queue` logger, with the task and the broker error) and the
request still succeeds. Every task enqueued this way must have a durable catch-up path that finds the work from the
database (the quality score catch-up, the stalled-job requeue, the webhooks due-delivery schedule), so work whose
message was never sent, or was lost with a killed worker, is still done.

In synchronous mode (unit tests) there is no broker: the task runs inline and its own errors propagate.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.db import transaction
from django_q.conf import Conf
from django_q.tasks import async_task

logger = logging.getLogger("tdp.queue")


_held: ContextVar[list[str] | None] = ContextVar("tdp_queue_held", default=None)


@contextmanager
def held_back() -> Iterator[list[str]]:
    """Drop the tasks enqueued inside the block (including on-commit ones fired in it) and collect their names.

    For a loader that runs the same work itself, in batch, before the block ends: `load_demo` submits hundreds of
    labels and then scores and rolls them up at once instead of sending a per-label task for each."""
    held: list[str] = []
    token = _held.set(held)
    try:
        yield held
    finally:
        _held.reset(token)


class EnqueueFailed(Exception):
    """The broker refused or could not be reached; the work will be picked up by its catch-up schedule."""


def enqueue(func: str, *args: Any, **kwargs: Any) -> str | None:
    """Hand `func(*args)` to the broker now. Returns the task id, or None when the broker is unavailable (logged)
    or the caller holds tasks back (`held_back`)."""
    held = _held.get()
    if held is not None:
        held.append(func)
        return None
    if Conf.SYNC or kwargs.get("sync"):
        return async_task(func, *args, **kwargs)
    try:
        return async_task(func, *args, **kwargs)
    except Exception as exc:  # any broker failure: the caller's write is stored; the catch-up finds the work
        logger.error(
            "Could not enqueue %s%r (task %s): broker unavailable (%s: %s). The work is kept in the database and "
            "its catch-up schedule will run it when the broker is back.",
            func,
            args,
            kwargs.get("task_name", "-"),
            type(exc).__name__,
            exc,
        )
        return None


def enqueue_strict(func: str, *args: Any, **kwargs: Any) -> str:
    """Like `enqueue`, but raises `EnqueueFailed` (for callers with nothing durable to fall back on)."""
    task_id = enqueue(func, *args, **kwargs)
    if task_id is None:
        raise EnqueueFailed(f"Could not enqueue {func}: the task broker is unavailable.")
    return task_id


def enqueue_on_commit(func: str, *args: Any, **kwargs: Any) -> None:
    """Enqueue once the current transaction commits (the worker must see the rows); never raises after commit."""
    transaction.on_commit(lambda: enqueue(func, *args, **kwargs))


# --- coalesced background work -------------------------------------------------------------------------------------
# On SQLite, work asked for after many small writes (a row's quality scores after each label of it) is gathered per
# process and handed to the broker as one task per `TDP_BACKGROUND_COALESCE_SECONDS` (a set: the same arguments asked
# for twice run once). There every task costs the worker several write transactions (take the message, write the
# result, acknowledge), each waiting for the one writer as the labelers' submits do; one task per second instead of
# one per submit keeps those off the labelers' path. (PostgreSQL has no single writer: a task per call, as before.)
# Work gathered here and lost with its process (killed before the flush) is found by the task's catch-up schedule,
# as a message lost with a broker is. 0 turns coalescing off.


class _Coalescer:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.pending: dict[str, dict[tuple[Any, ...], None]] = {}
        self.wake = threading.Event()
        self.thread: threading.Thread | None = None
        self.pid = 0

    def add(self, func: str, args: tuple[Any, ...]) -> None:
        with self.lock:
            self.pending.setdefault(func, {})[args] = None
            if self.thread is None or not self.thread.is_alive() or self.pid != os.getpid():
                self.pid = os.getpid()  # after a fork the parent's thread is not ours
                self.thread = threading.Thread(target=self._run, name="tdp-coalesce", daemon=True)
                self.thread.start()

    def take(self) -> dict[str, list[tuple[Any, ...]]]:
        with self.lock:
            pending, self.pending = self.pending, {}
        return {func: list(calls) for func, calls in pending.items()}

    def flush(self) -> None:
        from django.db import close_old_connections

        for func, calls in self.take().items():
            enqueue("apps.core.tasks.run_each", func, calls, task_name=f"each:{func}")
        close_old_connections()

    def _run(self) -> None:
        while True:
            self.wake.wait(coalesce_seconds())
            self.wake.clear()
            try:
                self.flush()
            except Exception:  # never let the thread die: the calls lost here are the catch-up's
                logger.exception("Could not hand the coalesced background work to the broker.")


_coalescer = _Coalescer()


def coalesce_seconds() -> float:
    from django.conf import settings

    return float(getattr(settings, "TDP_BACKGROUND_COALESCE_SECONDS", 1.0))


def coalescing() -> bool:
    """Whether `enqueue_coalesced_on_commit` gathers calls here: SQLite, a broker (not synchronous mode), a time."""
    from django.db import connection

    return connection.vendor == "sqlite" and not Conf.SYNC and coalesce_seconds() > 0


def enqueue_coalesced(func: str, *args: Any, **kwargs: Any) -> None:
    """Run `func(*args)` in the background, on SQLite gathered with this process's other calls (see above: at most
    once per arguments per flush); elsewhere (or in synchronous mode, or with a coalescing time of 0) enqueued now as
    `enqueue` does. Call it after the commit that makes the work visible. `func` must have a catch-up schedule that
    finds its work in the database."""
    if coalescing() and _held.get() is None:  # held back (`held_back`): `enqueue` records and drops it
        _coalescer.add(func, tuple(args))
    else:
        enqueue(func, *args, **kwargs)


def enqueue_coalesced_on_commit(func: str, *args: Any, **kwargs: Any) -> None:
    """`enqueue_coalesced` once the current transaction commits."""
    transaction.on_commit(lambda: enqueue_coalesced(func, *args, **kwargs))


def flush_coalesced() -> None:
    """Hand the gathered calls to the broker now (tests, shutdown)."""
    _coalescer.flush()
