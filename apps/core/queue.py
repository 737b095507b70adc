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
from typing import Any

from django.db import transaction
from django_q.conf import Conf
from django_q.tasks import async_task

logger = logging.getLogger("tdp.queue")


class EnqueueFailed(Exception):
    """The broker refused or could not be reached; the work will be picked up by its catch-up schedule."""


def enqueue(func: str, *args: Any, **kwargs: Any) -> str | None:
    """Hand `func(*args)` to the broker now. Returns the task id, or None when the broker is unavailable (logged)."""
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
