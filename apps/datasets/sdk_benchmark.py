"""`python manage.py benchmark sdk-import [--size N]`: the SDK's `tdp import` against the raw API.

One gunicorn server (as `benchmark import` starts it). The same N-row NDJSON body, each time under fresh global keys
(so every run creates N rows: equal work), is imported by a raw HTTP POST, then by the `tdp import` CLI from a file
(a separate process: the SDK streams the file with a progress bar), then by a raw POST again; the CLI's rate is
compared with the mean of the two raw rates, and its peak RSS is measured with the file's size beside it (the CLI
streams, so its memory does not grow with the file).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings

from apps.core.benchmarks import benchmark
from apps.datasets.benchmark_support import _body, _cleanup, _request, _setup, serving_gunicorn

TARGET_CLI_SHARE_OF_RAW = 0.9
TARGET_CLI_PEAK_RSS_MB = 120


def _raw_import(url: str, token: str, body: bytes) -> tuple[float, dict[str, Any]]:
    started = time.perf_counter()
    _status, answer = _request(url, token=token, body=body, content_type="application/x-ndjson")
    return time.perf_counter() - started, answer


def _cli_import(base: str, token: str, dataset_id: str, path: Path) -> tuple[float, dict[str, Any], float, str]:
    """Seconds, the CLI's JSON answer, the CLI process's peak RSS in MB, and the last progress line it drew."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    done = subprocess.run(  # noqa: S603 - our own CLI, our own loopback server
        [
            sys.executable,
            "-m",
            "tdp_sdk.cli",
            "--url",
            base,
            "--token",
            token,
            "--json",
            "--progress",
            "import",
            dataset_id,
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
        cwd=str(settings.BASE_DIR),
        env={**os.environ, "TDP_CONFIG": os.devnull},
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"tdp import failed: {done.stderr[-500:]}")
    peak_kb = max(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, before)
    last_progress = done.stderr.strip().split("\r")[-1].strip()
    return seconds, json.loads(done.stdout), peak_kb / 1024, last_progress


@benchmark("sdk-import")
def sdk_import_benchmark(params: dict[str, Any]) -> dict[str, Any]:
    size = int(params.get("size") or 100_000)
    workers = int(params.get("workers", 2))
    run = uuid.uuid4().hex[:8]
    organization, token, dataset_id = _setup(run)
    bodies = {name: _body(size, f"{run}{name}") for name in ("a", "cli", "b")}
    try:
        with (
            tempfile.TemporaryDirectory() as folder,
            serving_gunicorn(workers=workers, body_bytes=len(bodies["a"])) as (_, base),
        ):
            path = Path(folder) / "rows.ndjson"
            path.write_bytes(bodies["cli"])
            url = f"{base}/api/v1/datasets/{dataset_id}/data_rows"
            for _ in range(workers * 4):  # warm every worker
                _request(f"{url}?page_size=1", token=token)
            raw_a, answer_a = _raw_import(url, token, bodies["a"])
            cli_seconds, cli_answer, cli_peak_mb, last_progress = _cli_import(base, token, dataset_id, path)
            raw_b, answer_b = _raw_import(url, token, bodies["b"])
    finally:
        _cleanup(organization)
    raw_rate = size / ((raw_a + raw_b) / 2)
    cli_rate = size / cli_seconds
    share = cli_rate / raw_rate
    created = [answer_a.get("created"), cli_answer.get("created"), answer_b.get("created")]
    return {
        "rows": size,
        "file_mb": round(len(bodies["cli"]) / 1e6, 1),
        "gunicorn_workers": workers,
        "raw_rows_per_s": round(raw_rate),
        "raw_seconds_before_after": [round(raw_a, 2), round(raw_b, 2)],
        "cli_rows_per_s": round(cli_rate),
        "cli_seconds": round(cli_seconds, 2),
        "cli_share_of_raw": round(share, 3),
        "cli_peak_rss_mb": round(cli_peak_mb, 1),
        "cli_last_progress": last_progress,
        "created_raw_cli_raw": created,
        "load_average_1m": os.getloadavg()[0],
        "targets": {"cli_share_of_raw": TARGET_CLI_SHARE_OF_RAW, "cli_peak_rss_mb": TARGET_CLI_PEAK_RSS_MB},
        "goals_met": created == [size, size, size]
        and share >= TARGET_CLI_SHARE_OF_RAW
        and cli_peak_mb < TARGET_CLI_PEAK_RSS_MB,
    }
