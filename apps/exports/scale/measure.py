"""The figures of `benchmark scale` at one size: requests through the whole Django stack (test `Client`, token or
session auth) timed in this process, the queue through its services on 8 threads, similarity through the catalog's
selectors, the NDJSON export through the export benchmark's own measurement."""

from __future__ import annotations

import contextlib
import re
import statistics
import threading
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import numpy as np
from django.db import connection
from django.test import Client

from apps.accounts import services as account_services
from apps.accounts.models import User
from apps.catalog import ann
from apps.catalog import selectors as catalog_selectors
from apps.catalog.index import get_index
from apps.catalog.models import EmbeddingSpace
from apps.exports.scale.build import LABEL, ScaleData

REPEAT = 15
DEEP_ROWS = 10_000


def percentiles(samples: list[float]) -> dict[str, float | None]:
    if not samples:
        return {"p50_ms": None, "p95_ms": None}
    values = np.asarray(samples) * 1000.0
    return {"p50_ms": round(float(np.percentile(values, 50)), 2), "p95_ms": round(float(np.percentile(values, 95)), 2)}


def _timed(call: Callable[[], Any], repeat: int = REPEAT) -> dict[str, float | None]:
    call()  # warm-up: plans, caches
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    return percentiles(samples)


def _get(client: Client, url: str) -> Any:
    response = client.get(url)
    if response.status_code != 200:
        raise RuntimeError(f"{url} answered {response.status_code}: {response.content[:300]!r}")
    if response.streaming:
        return b"".join(response.streaming_content)  # type: ignore[attr-defined]
    return response


def _api_client(user: User) -> Client:
    token = account_services.api_token_create(user=user, name="scale benchmark").key
    return Client(HTTP_AUTHORIZATION=f"Token {token}", HTTP_HOST="localhost")


def _page_client(user: User) -> Client:
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    return client


def row_list(data: ScaleData) -> dict[str, Any]:
    client = _api_client(data.admin)
    base = f"/api/v1/datasets/{data.dataset.pk}/data_rows?page_size=100"
    figures: dict[str, Any] = {"first_page": _timed(lambda: _get(client, base))}
    depth = min(DEEP_ROWS, data.size // 2)
    url = f"/api/v1/datasets/{data.dataset.pk}/data_rows?page_size={depth // 10}"
    for _ in range(10):  # follow the cursor to `depth` rows in
        url = _get(client, url).json()["next"]
    deep = url.replace(f"page_size={depth // 10}", "page_size=100")
    figures["deep_page"] = {**_timed(lambda: _get(client, deep)), "depth": depth}
    filters = {
        "filter_split_eq": "metadata.split=valid",
        "filter_sensor_eq": "metadata.sensor=cam3",
        "filter_tag_rare": "metadata.tag=glare",
        "filter_tag_common": "metadata.tag=night",
        "filter_created_window": "created_after=2026-01-01T00:00:01Z&created_before=2026-01-01T00:00:02Z",
        "filter_score_range": "metadata.score__gte=0.99&metadata.score__lt=0.995",
        "filter_score_rare": "metadata.score__gte=0.9999",
        "filter_captured_window": (
            "metadata.captured_at__gte=2025-01-03T00:00:00Z&metadata.captured_at__lt=2025-01-03T01:00:00Z"
        ),
    }
    figures["first_page"]["db_ms"], figures["first_page"]["seq_scan"] = _sql_ms(data, "")
    for name, query in filters.items():
        url = f"{base}&{query}"
        probe = client.get(url)
        if probe.status_code != 200:  # a filter this version of the API does not have
            figures[name] = {"p50_ms": None, "p95_ms": None, "status": probe.status_code}
            continue
        db_ms, seq = _sql_ms(data, query)
        figures[name] = {**_timed(partial(_get, client, url)), "rows": len(probe.json()["results"]), "db_ms": db_ms}
        figures[name]["seq_scan"] = seq
    return figures


def _sql_ms(data: ScaleData, query: str) -> tuple[float, int]:
    """The database's execution time of the list's page query (EXPLAIN ANALYZE: load on the web side left out) and
    whether its plan has a sequential scan (1/0)."""
    from apps.datasets.selectors import data_rows_visible_to

    params = dict(parse_qsl(query))
    rows = data_rows_visible_to(actor=data.admin, dataset=data.dataset, params=params)
    text = rows.order_by("-created_at", "-id")[:101].explain(analyze=True)
    found = re.search(r"Execution Time: ([0-9.]+) ms", text)
    return (float(found.group(1)) if found else -1.0), int("Seq Scan" in text)


def pages(data: ScaleData) -> dict[str, Any]:
    User.objects.filter(pk=data.admin.pk).update(is_staff=True)
    data.admin.refresh_from_db()
    client = _page_client(data.admin)
    project = data.project.pk
    urls = {
        "home_page": "/",
        "project_page": f"/projects/{project}/",
        "datasets_api": "/api/v1/datasets",
        "admin_datarow_list": "/admin/datasets/datarow/",
        "admin_datarow_filtered": "/admin/datasets/datarow/?split=valid",
        "admin_dataset_list": "/admin/datasets/dataset/",
        "admin_task_list": "/admin/labeling/task/",
        "admin_batch_list": "/admin/labeling/batch/",
        "admin_label_list": "/admin/labeling/label/",
    }
    figures: dict[str, Any] = {}
    for name, url in urls.items():
        try:
            figures[name] = _timed(partial(_get, client, url), repeat=8)
        except RuntimeError as exc:
            figures[name] = {"p50_ms": None, "p95_ms": None, "error": str(exc)[:200]}
    return figures


def queue(data: ScaleData, cycles: int = 12) -> dict[str, Any]:
    """8 labelers on 8 threads, each `cycles` claim + submit through the services (no HTTP)."""
    from apps.labeling import services

    claims: list[float] = []
    submits: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def labeler(user: User) -> None:
        try:
            for _ in range(cycles):
                started = time.perf_counter()
                task = services.queue_claim(actor=user, project=data.project)
                claimed = time.perf_counter()
                if task is None:
                    return
                services.label_submit(actor=user, task=task, annotations=LABEL, seconds_spent=1.0)
                with lock:
                    claims.append(claimed - started)
                    submits.append(time.perf_counter() - claimed)
        except Exception as exc:  # reported in the figures, not hidden
            errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            connection.close()

    threads = [threading.Thread(target=labeler, args=(u,)) for u in data.labelers]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    claim, submit = percentiles(claims), percentiles(submits)
    return {
        "claim_p50_ms": claim["p50_ms"],
        "claim_p95_ms": claim["p95_ms"],
        "submit_p50_ms": submit["p50_ms"],
        "submit_p95_ms": submit["p95_ms"],
        "cycles": len(claims),
        "cycles_per_s": round(len(claims) / wall, 1),
        "errors": errors[:3],
    }


def similarity(data: ScaleData, queries: int = 50, k: int = 10) -> dict[str, Any]:
    space = data.space
    if space is None:
        return {}
    space = EmbeddingSpace.objects.get(pk=space.pk)
    started = time.perf_counter()
    index = get_index(space)
    load_s = time.perf_counter() - started
    graph_s: float | None = None
    rebuilt: bool | None = None
    if len(index) >= ann.min_vectors():
        started = time.perf_counter()
        graph = ann.build_now(index)  # as the background build does after the first query
        graph_s, rebuilt = time.perf_counter() - started, graph.rebuilt
    rng = np.random.default_rng(1)
    picks = rng.integers(0, len(index), queries)
    rows = {str(r.pk): r for r in data.dataset.data_rows.filter(pk__in=[index.row_ids[p] for p in picks])}
    exact_ms: list[float] = []
    approx_ms: list[float] = []
    recalls: list[float] = []
    for p in picks:
        row = rows[index.row_ids[p]]
        started = time.perf_counter()
        exact = catalog_selectors.similar_rows(actor=data.admin, space=space, data_row=row, k=k, exact=True)
        exact_ms.append(time.perf_counter() - started)
        started = time.perf_counter()
        approx = catalog_selectors.similar_rows(actor=data.admin, space=space, data_row=row, k=k)
        approx_ms.append(time.perf_counter() - started)
        truth = {str(n.data_row.pk) for n in exact}
        recalls.append(len(truth & {str(n.data_row.pk) for n in approx}) / max(1, len(truth)))
    exact_p, approx_p = percentiles(exact_ms), percentiles(approx_ms)
    return {
        "vectors": len(index),
        "index_load_s": round(load_s, 2),
        "ann_build_s": None if graph_s is None else round(graph_s, 2),
        "ann_rebuilt": rebuilt,
        "exact_p50_ms": exact_p["p50_ms"],
        "exact_p95_ms": exact_p["p95_ms"],
        "approx_p50_ms": approx_p["p50_ms"],
        "approx_p95_ms": approx_p["p95_ms"],
        "recall_at_10": round(statistics.mean(recalls), 4),
        "approx_used": catalog_selectors.uses_approximate_index(space),
    }


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _ndjson(data: ScaleData, token: str) -> dict[str, Any]:
    """`GET /api/v1/projects/{id}/export.ndjson` consumed chunk by chunk: rows/s and the growth of this process's
    peak RSS (`VmHWM`, reset first where Linux allows), as the export benchmark measures it."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")
    rss_before = _status_kb("VmRSS")
    client = Client(HTTP_AUTHORIZATION=f"Token {token}", HTTP_HOST="localhost")
    started = time.perf_counter()
    response = client.get(f"/api/v1/projects/{data.project.pk}/export.ndjson")
    if response.status_code != 200:
        raise RuntimeError(f"export.ndjson answered {response.status_code}")
    lines = sum(chunk.count(b"\n") for chunk in response.streaming_content)  # type: ignore[attr-defined]
    seconds = time.perf_counter() - started
    return {
        "rows": lines,
        "rows_per_s": round(lines / seconds),
        "rss_growth_mb": round((_status_kb("VmHWM") - rss_before) / 1024, 1),
    }


def export_and_analytics(data: ScaleData) -> dict[str, Any]:
    from apps.analytics import services as analytics_services

    token = account_services.api_token_create(user=data.admin, name="scale export").key
    ndjson = _ndjson(data, token)
    started = time.perf_counter()
    analytics_services.rollup_rebuild(project=data.project)
    rollup_s = time.perf_counter() - started
    client = _page_client(data.admin)
    dashboard = _timed(lambda: _get(client, f"/projects/{data.project.pk}/analytics/"), repeat=5)
    return {
        "export_rows": ndjson["rows"],
        "export_rows_per_s": ndjson["rows_per_s"],
        "export_rss_growth_mb": ndjson["rss_growth_mb"],
        "analytics_rollup_s": round(rollup_s, 2),
        "analytics_dashboard": dashboard,
    }


def database_size() -> dict[str, Any]:
    """Bytes per row of each table (heap + indexes + TOAST, over the whole table: every size's organization)."""
    figures: dict[str, Any] = {}
    with connection.cursor() as cursor:
        for name, table in (
            ("data_row", "datasets_datarow"),
            ("task", "labeling_task"),
            ("label", "labeling_label"),
            ("vector", "catalog_embeddingvector"),
        ):
            cursor.execute(f"SELECT count(*), pg_total_relation_size('{table}') FROM {table}")  # noqa: S608 (fixed names)
            rows, size = cursor.fetchone()
            figures[f"{name}_mb_per_million"] = round(size / rows * 1e6 / 2**20) if rows else None
    return figures
