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
