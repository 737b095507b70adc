"""`python manage.py benchmark sdk-import [--size N]`: the SDK's `tdp import` against the raw API.

One gunicorn server (as `benchmark import` starts it). N-row NDJSON bodies, each under fresh global keys (so every
import creates N rows: equal work), are imported alternately by a raw HTTP POST and by the `tdp import` CLI from a
file (a separate process, its start-up included: the SDK streams the file with a progress bar; as `tdp import` does
by default, a file of 8 MB or more goes in `cli_parallel` (2) line-aligned parts side by side, `cli_parallel=1` for
one request), `rounds` (3) times each; the CLI's median rate is compared with the raw median, and the CLI process's
own peak RSS is reported with the file's size beside it (the CLI streams, so its memory does not grow with the file).
"""

from __future__ import annotations

import json
import os
import statistics
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


def _vm_hwm_kb(pid: int) -> int | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return None


def _cli_import(
    base: str, token: str, dataset_id: str, path: Path, parallel: int
) -> tuple[float, dict[str, Any], float, str]:
    """Seconds, the CLI's JSON answer, the CLI program's peak RSS in MB, and the last progress line it drew.

    The peak is the child's `VmHWM` read from /proc while it runs (every 10 ms, the last reading before it exits):
    `ru_maxrss` would count the copy of this large benchmark process that the child is between fork and exec."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(  # noqa: S603 - our own CLI, our own loopback server
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
                "--parallel",
                str(parallel),
                dataset_id,
                str(path),
            ],
            stdout=out,
            stderr=err,
            cwd=str(settings.BASE_DIR),
            env={**os.environ, "TDP_CONFIG": os.devnull},
        )
        peak_kb = 0
        while process.poll() is None:
            peak_kb = max(peak_kb, _vm_hwm_kb(process.pid) or 0)
            time.sleep(0.01)
        seconds = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if process.returncode != 0:
        raise RuntimeError(f"tdp import failed: {stderr[-500:]}")
    last_progress = stderr.strip().split("\r")[-1].strip()
    return seconds, json.loads(stdout), peak_kb / 1024, last_progress


@benchmark("sdk-import")
def sdk_import_benchmark(params: dict[str, Any]) -> dict[str, Any]:
    size = int(params.get("size") or 100_000)
    workers = int(params.get("workers", 2))
    run = uuid.uuid4().hex[:8]
    organization, token, dataset_id = _setup(run)
    rounds = int(params.get("rounds", 3))
    parallel = int(params.get("cli_parallel", 2))  # `tdp import`'s default: NDJSON files in two parts side by side
    raw_seconds: list[float] = []
    cli_runs: list[tuple[float, dict[str, Any], float, str]] = []
    created: list[Any] = []
    try:
        with (
            tempfile.TemporaryDirectory() as folder,
            serving_gunicorn(workers=workers, body_bytes=2 * len(_body(1, run)) * size) as (_, base),
        ):
            url = f"{base}/api/v1/datasets/{dataset_id}/data_rows"
            for _ in range(workers * 4):  # warm every worker
                _request(f"{url}?page_size=1", token=token)
            # Alternating, each import under fresh global keys (equal work: every row created): raw, CLI, raw, …
            for n in range(rounds):
                raw_body = _body(size, f"{run}raw{n}")
                seconds, answer = _raw_import(url, token, raw_body)
                raw_seconds.append(seconds)
                created.append(answer.get("created"))
                path = Path(folder) / f"rows-{n}.ndjson"
                path.write_bytes(_body(size, f"{run}cli{n}"))
                cli_runs.append(_cli_import(base, token, dataset_id, path, parallel))
                created.append(cli_runs[-1][1].get("created"))
                path.unlink()
            file_mb = len(raw_body) / 1e6
    finally:
        _cleanup(organization)
    raw_rate = size / statistics.median(raw_seconds)
    cli_seconds = statistics.median(run[0] for run in cli_runs)
    cli_rate = size / cli_seconds
    share = cli_rate / raw_rate
    cli_peak_mb = max(run[2] for run in cli_runs)
    last_progress = cli_runs[-1][3]
    return {
        "rows": size,
        "file_mb": round(file_mb, 1),
        "rounds": rounds,
        "gunicorn_workers": workers,
        "cli_parallel": parallel,
        "raw_rows_per_s": round(raw_rate),
        "raw_seconds": [round(x, 2) for x in raw_seconds],
        "cli_seconds_each": [round(run[0], 2) for run in cli_runs],
        "cli_rows_per_s": round(cli_rate),
        "cli_seconds": round(cli_seconds, 2),
        "cli_share_of_raw": round(share, 3),
        "cli_peak_rss_mb": round(cli_peak_mb, 1),
        "cli_last_progress": last_progress,
        "created_raw_cli_alternating": created,
        "load_average_1m": os.getloadavg()[0],
        "targets": {"cli_share_of_raw": TARGET_CLI_SHARE_OF_RAW, "cli_peak_rss_mb": TARGET_CLI_PEAK_RSS_MB},
        "goals_met": created == [size] * (2 * rounds)
        and share >= TARGET_CLI_SHARE_OF_RAW
        and cli_peak_mb < TARGET_CLI_PEAK_RSS_MB,
    }
