"""Test-only app loaded by the scale tests' processes: every task a worker starts and finishes is appended, as one
JSON line, to the file named by `TDP_TASK_TRACE` (with the worker's tag and pid), so a test can tell which worker
did what and that nothing was done twice. Lines are short single `write`s on an O_APPEND file: atomic across
processes."""

from __future__ import annotations

import json
import os
import socket
from typing import Any

from django.apps import AppConfig


def _write(event: str, task: dict[str, Any], **extra: Any) -> None:
    path = os.environ.get("TDP_TASK_TRACE")
    if not path:
        return
    line = {
        "event": event,
        "id": task.get("id"),
        "name": task.get("name"),
        "func": task["func"] if isinstance(task.get("func"), str) else repr(task.get("func")),
        "args": [str(a) for a in task.get("args", ())],
        "worker": os.environ.get("TDP_WORKER_TAG", "?"),
        "pid": os.getpid(),
        "host": socket.gethostname(),
        **extra,
    }
    data = (json.dumps(line) + "\n").encode()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def _started(sender: Any, func: Any = None, task: dict[str, Any] | None = None, **kwargs: Any) -> None:
    if task is not None:
        _write("start", task)


def _finished(sender: Any, func: Any = None, task: dict[str, Any] | None = None, **kwargs: Any) -> None:
    if task is not None:
        _write("finish", task, success=bool(task.get("success")))


class TraceConfig(AppConfig):
    name = "tests.scale"
    label = "scale_trace"

    def ready(self) -> None:
        from django_q.signals import post_execute_in_worker, pre_execute

        pre_execute.connect(_started, dispatch_uid="tdp-trace-start")
        post_execute_in_worker.connect(_finished, dispatch_uid="tdp-trace-finish")


def read_trace(path: str) -> list[dict[str, Any]]:
    if not os.path.exists(path):
        return []
    with open(path) as handle:
        return [json.loads(line) for line in handle if line.strip()]
