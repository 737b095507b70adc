"""`python manage.py benchmark import [--size N] [--option workers=2]`.

Imports N data rows x 3 metadata fields as NDJSON over HTTP into a running multi-worker gunicorn server (started
here on a free loopback port, with this process's DATABASE_URL), then re-imports the same rows (all updates).
Reports rows/s for both (plus a third import of the same keys with every row's metadata changed, so each row is
really rewritten) and the peak RSS growth of the server's workers (VmHWM - VmRSS before the import).
"""

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
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection

from apps.core.benchmarks import benchmark, database_url
from apps.core.proc_stats import children_of, database_cpu_seconds, process_cpu_seconds

TARGET_FIRST_ROWS_PER_S = 20_000
TARGET_REIMPORT_ROWS_PER_S = 10_000
TARGET_RSS_GROWTH_MB = 150


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


@benchmark("import")
def import_benchmark(params: dict[str, Any]) -> dict[str, Any]:
    size = int(params.get("size") or 100_000)
    workers = int(params.get("workers", 2))
    run = uuid.uuid4().hex[:8]
    organization, token, dataset_id = _setup(run)
    body = _body(size, run)
    with serving_gunicorn(workers=workers, body_bytes=len(body)) as (server, base):
        return _import_figures(size, run, workers, token, dataset_id, body, server, base, organization)


def _import_figures(
    size: int,
    run: str,
    workers: int,
    token: str,
    dataset_id: str,
    body: bytes,
    server: subprocess.Popen[bytes],
    base: str,
    organization: Any,
) -> dict[str, Any]:
    try:
        for _ in range(workers * 4):  # warm every worker: imports, URL resolver, first DB connection
            _request(f"{base}/api/v1/datasets/{dataset_id}/data_rows?page_size=1", token=token)
        worker_pids = children_of(server.pid)
        baseline = {pid: _status_kb(pid, "VmRSS") for pid in worker_pids}
        url = f"{base}/api/v1/datasets/{dataset_id}/data_rows"

        load_before = _load_average()
        cpu_before = _cpu_seconds(worker_pids)
        db_before = database_cpu_seconds()
        started = time.perf_counter()
        status, first = _request(url, token=token, body=body, content_type="application/x-ndjson")
        first_seconds = time.perf_counter() - started
        peak_first = max(_status_kb(pid, "VmHWM") - baseline[pid] for pid in worker_pids)
        cpu_first = _cpu_seconds(worker_pids) - cpu_before
        db_first = _db_cpu_delta(db_before)
        db_before = database_cpu_seconds()

        started = time.perf_counter()
        status2, second = _request(url, token=token, body=body, content_type="application/x-ndjson")
        second_seconds = time.perf_counter() - started
        cpu_second = _cpu_seconds(worker_pids) - cpu_before - cpu_first
        db_second = _db_cpu_delta(db_before)
        load_after = _load_average()
        # Same keys, every row's metadata changed: every row is really rewritten (no no-op skipping).
        changed = _body(size, run, variant=1)
        started = time.perf_counter()
        status3, third = _request(url, token=token, body=changed, content_type="application/x-ndjson")
        third_seconds = time.perf_counter() - started
        del changed
        peak = max(_status_kb(pid, "VmHWM") - baseline[pid] for pid in worker_pids)
    finally:
        _cleanup(organization)
    first_rate = size / first_seconds
    second_rate = size / second_seconds
    growth_mb = peak / 1024
    return {
        "database": connection.vendor,
        "rows": size,
        "metadata_fields": 3,
        "body_mb": round(len(body) / 1e6, 1),
        "gunicorn_workers": workers,
        "first_import": {"status": status, "created": first["created"], "failed": first["failed"]},
        "reimport": {"status": status2, "updated": second["updated"], "failed": second["failed"]},
        "first_import_seconds": round(first_seconds, 2),
        "first_import_rows_per_s": round(first_rate),
        "reimport_seconds": round(second_seconds, 2),
        "reimport_rows_per_s": round(second_rate),
        "reimport_changed": {"status": status3, "updated": third["updated"], "failed": third["failed"]},
        "reimport_changed_seconds": round(third_seconds, 2),
        "reimport_changed_rows_per_s": round(size / third_seconds),
        "peak_rss_growth_mb": round(growth_mb, 1),
        "peak_rss_growth_after_first_import_mb": round(peak_first / 1024, 1),
        # Context for the wall-clock numbers: CPU the web worker spent, and how busy the machine was.
        "worker_cpu_seconds_first_import": round(cpu_first, 2),
        "worker_cpu_seconds_reimport": round(cpu_second, 2),
        "database_cpu_seconds_first_import": db_first,
        "database_cpu_seconds_reimport": db_second,
        "cpu_count": os.cpu_count(),
        "load_average_1m_before_after": [load_before, load_after],
        "targets": {
            "first_import_rows_per_s": TARGET_FIRST_ROWS_PER_S,
            "reimport_rows_per_s": TARGET_REIMPORT_ROWS_PER_S,
            "peak_rss_growth_mb": TARGET_RSS_GROWTH_MB,
        },
        "passed": first["created"] == size
        and second["updated"] == size
        and first_rate >= TARGET_FIRST_ROWS_PER_S
        and second_rate >= TARGET_REIMPORT_ROWS_PER_S
        and growth_mb < TARGET_RSS_GROWTH_MB,
    }


from apps.datasets import sdk_benchmark as _sdk_benchmark  # noqa: E402, F401 - registers `benchmark sdk-import`
