"""Benchmark registry for `python manage.py benchmark <name>`.

Each app may define `apps/<app>/benchmarks.py` with functions decorated by `@benchmark("name")`. A benchmark takes
the parsed options dict and returns a dict of numbers; the command prints one JSON line per benchmark.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

BenchmarkFunc = Callable[[dict[str, Any]], dict[str, Any]]
_registry: dict[str, BenchmarkFunc] = {}


def benchmark(name: str) -> Callable[[BenchmarkFunc], BenchmarkFunc]:
    def register(func: BenchmarkFunc) -> BenchmarkFunc:
        _registry[name] = func
        return func

    return register


def registered_benchmarks() -> dict[str, BenchmarkFunc]:
    from django.utils.module_loading import autodiscover_modules

    autodiscover_modules("benchmarks")
    return dict(sorted(_registry.items()))
