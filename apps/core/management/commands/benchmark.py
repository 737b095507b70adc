"""`python manage.py benchmark [name ...] [--size N] [--option key=value]`: prints one JSON line per benchmark.

`python manage.py benchmark all` runs every registered workload with sizes picked to finish in about 15 minutes on
a 2-core machine (`ALL_PROFILE`) and prints one JSON object (per-benchmark results, wall and CPU time, the machine's
load). Options override: `--option size=...` for every benchmark, `--option export.size=...` for one.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from apps.core.benchmarks import registered_benchmarks

# Sizes for `benchmark all` (each benchmark's own defaults aim at its issue's goal and take longer).
ALL_PROFILE: dict[str, dict[str, Any]] = {
    "agreement": {"size": 10_000, "repeat": 2},
    "analytics": {"size": 100_000, "repeat": 2},
    "diagnostics": {"size": 5_000, "repeat": 2},
    "diagnostics_app": {"size": 2_000, "repeat": 1},
    "export": {"size": 20_000, "sizes": "20000"},
    "import": {"size": 50_000},
    "ontology-validate": {"size": 50_000, "repeat": 2},
    "prelabels": {"size": 20_000},
    "queue": {"size": 20_000, "seconds": 20},
    "similarity": {"size": 50_000, "queries": 100},
}


# Left out of `benchmark all` and of a bare `benchmark`: `defaults` starts its own databases and servers for several
# minutes, `defaults-setup` is its per-setup child (run them by name).
NOT_IN_ALL = {"defaults", "defaults-setup", "tiles"}  # tiles: gigapixel images, run it by name


def _cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


class Command(BaseCommand):
    help = "Run speed/memory benchmarks and print their numbers as JSON lines (`all`: one JSON object)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "names", nargs="*", help="benchmarks to run (default: each, one line each; `all`: one object)"
        )
        parser.add_argument("--size", type=int, default=None, help="problem size, where the benchmark takes one")
        parser.add_argument("--option", action="append", default=[], help="extra key=value passed to benchmarks")
        parser.add_argument("--list", action="store_true", help="list benchmark names")

    def handle(self, *args: Any, **options: Any) -> None:
        available = registered_benchmarks()
        if options["list"]:
            for name in available:
                self.stdout.write(name)
            return
        if options["names"] == ["all"]:
            self.stdout.write(json.dumps(self._run_all(available, options)))
            return
        names = options["names"] or [n for n in available if n not in NOT_IN_ALL]
        unknown = [n for n in names if n not in available]
        if unknown:
            raise CommandError(f"Unknown benchmark(s): {', '.join(unknown)}. Known: {', '.join(available)}")
        params: dict[str, Any] = {"size": options["size"]}
        for item in options["option"]:
            key, _, value = item.partition("=")
            params[key] = value
        for name in names:
            result = available[name](params)
            self.stdout.write(json.dumps({"benchmark": name, **result}))

    def _run_all(self, available: dict[str, Any], options: dict[str, Any]) -> dict[str, Any]:
        common: dict[str, Any] = {}
        scoped: dict[str, dict[str, Any]] = {}
        for item in options["option"]:
            key, _, value = item.partition("=")
            name, dot, field = key.partition(".")
            if dot and name in available:
                scoped.setdefault(name, {})[field] = value
            else:
                common[key] = value
        if options["size"] is not None:
            common["size"] = options["size"]
        started, cpu_started = time.perf_counter(), _cpu_seconds()
        load_before = os.getloadavg()
        results: dict[str, Any] = {}
        for name, func in available.items():
            if name in NOT_IN_ALL:
                continue
            params = {"size": None, **ALL_PROFILE.get(name, {}), **common, **scoped.get(name, {})}
            t0, c0 = time.perf_counter(), _cpu_seconds()
            try:
                outcome: dict[str, Any] = func(params)
            except Exception as exc:  # one broken workload must not hide the others' figures
                outcome = {"error": f"{type(exc).__name__}: {exc}"}
            results[name] = {
                "params": {k: v for k, v in params.items() if v is not None},
                "wall_s": round(time.perf_counter() - t0, 2),
                "cpu_s_this_process": round(_cpu_seconds() - c0, 2),
                **outcome,
            }
            self.stderr.write(f"benchmark {name}: {results[name]['wall_s']} s")
        return {
            "benchmark": "all",
            "date": timezone.now().isoformat(timespec="seconds"),
            "machine": {
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "loadavg_before": [round(x, 2) for x in load_before],
                "loadavg_after": [round(x, 2) for x in os.getloadavg()],
            },
            "wall_s": round(time.perf_counter() - started, 1),
            "cpu_s_this_process": round(_cpu_seconds() - cpu_started, 1),
            "failed": sorted(name for name, r in results.items() if "error" in r),
            "results": results,
        }
