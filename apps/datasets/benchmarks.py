"""`python manage.py benchmark import [--size N] [--option workers=2]`.

Imports N data rows x 3 metadata fields as NDJSON over HTTP into a running multi-worker gunicorn server (started
here on a free loopback port, with this process's DATABASE_URL), then re-imports the same rows (all updates).
Reports rows/s for both (plus a third import of the same keys with every row's metadata changed, so each row is
really rewritten) and the peak RSS growth of the server's workers (VmHWM - VmRSS before the import).
"""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from typing import Any

from django.db import connection

from apps.core.benchmarks import benchmark
from apps.core.proc_stats import children_of, database_cpu_seconds
from apps.datasets.benchmark_support import (
    _body,
    _cleanup,
    _cpu_seconds,
    _db_cpu_delta,
    _load_average,
    _request,
    _setup,
    _status_kb,
    serving_gunicorn,
)

TARGET_FIRST_ROWS_PER_S = 20_000
TARGET_REIMPORT_ROWS_PER_S = 10_000
TARGET_RSS_GROWTH_MB = 150


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
