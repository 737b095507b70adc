"""`python manage.py benchmark export [--size N] [--option sizes=10000,100000] [--option repeat=2]`.

Builds (or reuses, keyed by size) projects of N data rows on PostgreSQL, each with one done label of 5 boxes (data
rows, tasks and labels by bulk insert; the label document is validated once by the real validator). Then, in this
process, for each size:

- NDJSON: `GET /api/v1/projects/{id}/export.ndjson` through the whole Django stack (middleware, token auth, the
  view, `StreamingHttpResponse`) with the response consumed chunk by chunk and thrown away — rows/s;
- COCO: a background export run in-process (`export_run`: pages, part files in storage, assembly) — images/s;
- the peak RSS growth of this process during each (`VmHWM` reset through `/proc/self/clear_refs` before each run),
  the CPU seconds this process (all its threads) and the whole local PostgreSQL server spent (`database_cpu_seconds`:
  every backend, so also the extra connections of the concurrent NDJSON pages and the ones already closed; from
  `/proc` when the server runs on this machine) and the rate per CPU second (`per_cpu_second`): on a busy machine the
  wall clock rate mostly measures the other processes.

Targets (issue #12): at 100,000 rows NDJSON ≥ 20,000 rows/s and COCO ≥ 10,000 images/s; RSS growth < 150 MB
whatever the size. `targets_met` is false when no size of at least 100,000 rows was run.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError
from django.db import connection
from django.test import Client, override_settings

from apps.accounts import services as account_services
from apps.accounts.models import User
from apps.core.benchmarks import benchmark
from apps.core.proc_stats import database_cpu_seconds
from apps.exports.benchmark_projects import _organization, _project
from apps.exports.models import Export
from apps.exports.services import export_run
from apps.labeling.models import Project

TARGET_NDJSON_ROWS_PER_S = 20_000
TARGET_COCO_IMAGES_PER_S = 10_000
TARGET_RSS_GROWTH_MB = 150
TARGET_RATES_AT_ROWS = 100_000


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    return 0


def _cpu_figures(started_cpu: float, started_db: float | None, rows: int) -> dict[str, Any]:
    """This process's and the database server's CPU seconds since the start, and the rate per CPU second."""
    cpu = time.process_time() - started_cpu
    ended_db = database_cpu_seconds()
    db = ended_db - started_db if ended_db is not None and started_db is not None else None
    total = cpu + (db or 0.0)
    return {
        "process_cpu_seconds": round(cpu, 2),
        "database_cpu_seconds": None if db is None else round(db, 2),
        "per_cpu_second": round(rows / total) if total else None,
    }


def _reset_peak() -> None:
    # Not Linux, or not allowed: the growth is then measured against the earlier peak.
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def _measure_ndjson(project: Project, token: str) -> dict[str, Any]:
    client = Client(HTTP_AUTHORIZATION=f"Token {token}", HTTP_HOST="localhost")
    _reset_peak()
    rss_before = _status_kb("VmRSS")
    db = database_cpu_seconds()
    started = time.perf_counter()
    cpu = time.process_time()
    response = client.get(f"/api/v1/projects/{project.pk}/export.ndjson")
    if response.status_code != 200:
        raise CommandError(f"export.ndjson answered {response.status_code}")
    lines = 0
    size = 0
    for chunk in response.streaming_content:  # type: ignore[attr-defined]
        lines += chunk.count(b"\n")
        size += len(chunk)
    seconds = time.perf_counter() - started
    return {
        "rows": lines,
        **_cpu_figures(cpu, db, lines),
        "seconds": round(seconds, 2),
        "rows_per_s": round(lines / seconds),
        "mb": round(size / 1e6, 1),
        "rss_growth_mb": round((_status_kb("VmHWM") - rss_before) / 1024, 1),
    }


def _measure_coco(project: Project, admin: User) -> dict[str, Any]:
    export = Export.objects.create(
        organization=project.organization, project=project, format="coco", filters={"label": "all"}, created_by=admin
    )
    _reset_peak()
    rss_before = _status_kb("VmRSS")
    db = database_cpu_seconds()
    started = time.perf_counter()
    cpu = time.process_time()
    result = export_run(export_id=export.pk)
    seconds = time.perf_counter() - started
    return {
        **_cpu_figures(cpu, db, result["rows"]),
        "images": result["rows"],
        "annotations": result["annotations"],
        "seconds": round(seconds, 2),
        "images_per_s": round(result["rows"] / seconds),
        "mb": round(result["size"] / 1e6, 1),
        "rss_growth_mb": round((_status_kb("VmHWM") - rss_before) / 1024, 1),
    }


@benchmark("export")
def export_benchmark(params: dict[str, Any]) -> dict[str, Any]:
    if connection.vendor != "postgresql":
        raise CommandError("The export benchmark runs on PostgreSQL: set DATABASE_URL (`source .ci/pg.sh; pg_start`).")
    size = int(params.get("size") or 100_000)
    sizes = sorted({int(s) for s in str(params.get("sizes") or f"10000,{size}").split(",") if s})
    repeat = int(params.get("repeat") or 1)
    organization, admin = _organization()
    token = account_services.api_token_create(user=admin, name="export benchmark").key
    media = tempfile.mkdtemp(prefix="tdp-export-bench-")
    report: dict[str, Any] = {"cpus": os.cpu_count(), "load_average": round(os.getloadavg()[0], 2), "sizes": {}}
    try:
        with override_settings(MEDIA_ROOT=media, DEBUG=False):
            for n in sizes:
                project, setup_seconds, reused = _project(organization, admin, n)
                runs = [
                    {"ndjson": _measure_ndjson(project, token), "coco": _measure_coco(project, admin)}
                    for _ in range(repeat)
                ]
                Export.objects.filter(project=project).delete()
                report["sizes"][str(n)] = {"setup_seconds": round(setup_seconds, 1), "reused": reused, "runs": runs}
    finally:
        shutil.rmtree(media, ignore_errors=True)
    best = {
        n: {
            "ndjson_rows_per_s": max(r["ndjson"]["rows_per_s"] for r in v["runs"]),
            "coco_images_per_s": max(r["coco"]["images_per_s"] for r in v["runs"]),
            "max_rss_growth_mb": max(max(r["ndjson"]["rss_growth_mb"], r["coco"]["rss_growth_mb"]) for r in v["runs"]),
        }
        for n, v in report["sizes"].items()
    }
    report["best"] = best
    # The rates are the goals for 100,000 rows (smaller exports spend a larger share on the job's fixed
    # costs); the memory goal holds at every size.
    rate_sizes = [n for n in best if int(n) >= TARGET_RATES_AT_ROWS]
    report["targets"] = {
        "ndjson_rows_per_s": TARGET_NDJSON_ROWS_PER_S,
        "coco_images_per_s": TARGET_COCO_IMAGES_PER_S,
        "rates_at_rows": TARGET_RATES_AT_ROWS,
        "rss_growth_mb_below": TARGET_RSS_GROWTH_MB,
    }
    report["targets_met"] = (
        bool(rate_sizes)
        and all(
            best[n]["ndjson_rows_per_s"] >= TARGET_NDJSON_ROWS_PER_S
            and best[n]["coco_images_per_s"] >= TARGET_COCO_IMAGES_PER_S
            for n in rate_sizes
        )
        and all(b["max_rss_growth_mb"] < TARGET_RSS_GROWTH_MB for b in best.values())
    )
    report["load_average_after"] = round(os.getloadavg()[0], 2)
    return report


# `benchmark defaults` and its per-setup child (issue #30): registered here, kept in their own modules.
from apps.exports import defaults_benchmark as _defaults_benchmark  # noqa: E402, F401
from apps.exports import mask_benchmark as _mask_benchmark  # noqa: E402, F401  (`benchmark masks`, issue #25)
from apps.exports import video_benchmark  # noqa: E402, F401  (registers `benchmark video`)
from apps.exports.scale import benchmark as _scale_benchmark  # noqa: E402, F401
