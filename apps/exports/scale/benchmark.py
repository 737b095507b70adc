"""`python manage.py benchmark scale [--option rows=10000,100000] [--option vectors=1000000] [--option parts=...]`.

For each size (rows of the one dataset): builds or reuses the data (`build`), measures (`measure`), and at the end
prints a table to stderr (each figure at each size, ratio largest/smallest) and returns every figure as JSON.
`parts` picks the groups to run (rows, pages, queue, similarity, export, size; default all).
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import override_settings

from apps.core.benchmarks import benchmark
from apps.exports.scale import measure
from apps.exports.scale.build import build

PARTS = ("rows", "pages", "queue", "similarity", "export", "size")


def flatten(figures: dict[str, Any], prefix: str = "") -> dict[str, float]:
    """Numeric leaves as `group.name` → value (`p95_ms` and friends keep their suffix)."""
    flat: dict[str, float] = {}
    for key, value in figures.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, f"{name}."))
        elif isinstance(value, int | float) and not isinstance(value, bool):
            flat[name] = float(value)
    return flat


def table(results: dict[int, dict[str, Any]]) -> str:
    sizes = sorted(results)
    flat = {n: flatten(results[n]) for n in sizes}
    names: list[str] = []
    for n in sizes:
        names.extend(k for k in flat[n] if k not in names)
    width = max(len(n) for n in names) if names else 10
    lines = [f"{'figure':<{width}} " + " ".join(f"{n:>10,}" for n in sizes) + "  largest/smallest"]
    for name in names:
        values = [flat[n].get(name) for n in sizes]
        cells = " ".join(f"{v:>10.4g}" if v is not None else f"{'-':>10}" for v in values)
        first, last = values[0], values[-1]
        ratio = f"{last / first:.2f}" if first and last is not None and len(sizes) > 1 else "-"
        lines.append(f"{name:<{width}} {cells}  {ratio:>8}")
    return "\n".join(lines)


@benchmark("scale")
def scale_benchmark(params: dict[str, Any]) -> dict[str, Any]:
    if connection.vendor != "postgresql":
        raise CommandError("The scale benchmark runs on PostgreSQL: set DATABASE_URL (`source .ci/pg.sh; pg_start`).")
    raw = str(params.get("rows") or params.get("size") or "10000,100000")
    sizes = sorted({int(s.replace("_", "")) for s in raw.split(",") if s.strip()})
    parts = set(str(params.get("parts") or ",".join(PARTS)).split(","))
    max_vectors = int(params["vectors"]) if params.get("vectors") not in (None, "") else 1_000_000
    results: dict[int, dict[str, Any]] = {}
    load = {"before": round(os.getloadavg()[0], 2)}
    with override_settings(DEBUG=False):
        for size in sizes:
            started = time.perf_counter()
            data = build(size, max_vectors=max_vectors)
            figures: dict[str, Any] = {"build": {k: round(v, 1) for k, v in data.build_s.items()}}
            figures["build"]["reused"] = int(data.reused)
            if "rows" in parts:
                figures["rows"] = measure.row_list(data)
            if "pages" in parts:
                figures["pages"] = measure.pages(data)
            if "queue" in parts:
                figures["queue"] = measure.queue(data)
            if "similarity" in parts:
                figures["similarity"] = measure.similarity(data)
            if "export" in parts:
                figures["export"] = measure.export_and_analytics(data)
            if "size" in parts:
                figures["db"] = measure.database_size()
            figures["wall_s"] = round(time.perf_counter() - started, 1)
            figures["load_average"] = round(os.getloadavg()[0], 2)
            results[size] = figures
            sys.stderr.write(f"scale {size}: {figures['wall_s']} s\n")
    rendered = table(results)
    sys.stderr.write(rendered + "\n")
    load["after"] = round(os.getloadavg()[0], 2)
    return {"cpus": os.cpu_count(), "load_average": load, "sizes": results, "table": rendered.splitlines()}
