"""Shared by the import benchmarks (`benchmark import`, `benchmark sdk-import`): an organization with a dataset and
a token, generated NDJSON bodies, a gunicorn server of this project, and the process figures they report."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection

from apps.core.benchmarks import database_url
from apps.core.proc_stats import database_cpu_seconds, process_cpu_seconds


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    return 0


def _cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of the processes (the web workers)."""
    return sum(process_cpu_seconds(pid) or 0.0 for pid in pids)


def _db_cpu_delta(before: float | None) -> float | None:
    after = database_cpu_seconds()
    return round(after - before, 2) if after is not None and before is not None else None


def _load_average() -> float:
    return round(os.getloadavg()[0], 2)


def _request(url: str, *, token: str, body: bytes | None = None, content_type: str = "") -> tuple[int, Any]:
    request = urllib.request.Request(url, data=body, method="POST" if body is not None else "GET")  # noqa: S310
    request.add_header("Authorization", f"Token {token}")
    if content_type:
        request.add_header("Content-Type", content_type)
    with urllib.request.urlopen(request, timeout=900) as response:  # noqa: S310 - our own loopback server
        return response.status, json.loads(response.read() or b"null")


def _body(size: int, run: str, variant: int = 0) -> bytes:
    lines = []
    for i in range(size):
        row = {
            "global_key": f"bench-{run}-{i:07d}",
            "row_data": f"https://images.example.com/{run}/{i:07d}.jpg",
            "media_type": "image",
            "metadata": {
                "camera": f"cam-{i % 16}",
                "score": (i % 1000) / 1000 + variant,
                "captured_at": f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}T{i % 24:02d}:00:00Z",
            },
        }
        lines.append(json.dumps(row))
    return ("\n".join(lines) + "\n").encode()


def _setup(run: str) -> tuple[Any, str, str]:
    from apps.accounts import services as account_services
    from apps.datasets import services

    created = account_services.organization_create(
        name=f"benchmark-{run}",
        admin={"username": f"bench-{run}", "password": f"Bench-{uuid.uuid4().hex}"},
        actor=None,
    )
    admin = created.admin
    token = account_services.api_token_create(user=admin, name="benchmark").key
    services.metadata_field_create(actor=admin, name="camera", kind="string")
    services.metadata_field_create(actor=admin, name="score", kind="number")
    services.metadata_field_create(actor=admin, name="captured_at", kind="datetime")
    dataset = services.dataset_create(actor=admin, name="benchmark")
    return created.organization, token, str(dataset.pk)


def _cleanup(organization: Any) -> None:
    from apps.datasets.models import Attachment, DataRow

    Attachment.objects.filter(data_row__organization=organization)._raw_delete(connection.alias)  # type: ignore[attr-defined]
    DataRow.objects.filter(organization=organization)._raw_delete(connection.alias)  # type: ignore[attr-defined]
    organization.delete()


@contextlib.contextmanager
def serving_gunicorn(*, workers: int, body_bytes: int) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """A gunicorn server of this project on a free loopback port (this process's DATABASE_URL, DEBUG off), whose
    synchronous import limit admits `body_bytes`; yields the process and its base URL, stops it on exit."""
    port = _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "tdp.settings.dev"),
        "DEBUG": "false",
        "DATABASE_URL": database_url(),
        "TDP_IMPORT_SYNC_MAX_BYTES": str(max(body_bytes + 1, settings.TDP_IMPORT_SYNC_MAX_BYTES)),
        "LOG_LEVEL": "WARNING",
    }
    server = subprocess.Popen(  # noqa: S603
        [
            sys.executable,
            "-m",
            "gunicorn",
            "tdp.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--timeout",
            "900",
            "--log-level",
            "warning",
        ],
        cwd=str(settings.BASE_DIR),
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=2).read()  # noqa: S310
                break
            except urllib.error.HTTPError:  # 503 "degraded" (no task worker running) still means it is serving
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("gunicorn did not start") from None
                time.sleep(0.2)
        yield server, base
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()


def bulk_image_rows(
    dataset: Any,
    count: int,
    *,
    key: Callable[[int], str],
    url: Callable[[int], str],
    width: int,
    height: int,
    chunk: int = 5000,
) -> list[str]:
    """`count` image rows in `dataset` by bulk insert, `chunk` a statement (global key `key(i)`, `row_data` `url(i)`);
    their ids as text, in insert order. Shared by the benchmarks that build a big project."""
    from apps.datasets.models import DataRow

    ids: list[str] = []
    for start in range(0, count, chunk):
        rows = DataRow.objects.bulk_create(
            DataRow(
                organization_id=dataset.organization_id,
                dataset=dataset,
                global_key=key(i),
                row_data=url(i),
                width=width,
                height=height,
            )
            for i in range(start, min(count, start + chunk))
        )
        ids.extend(str(row.pk) for row in rows)
    return ids
