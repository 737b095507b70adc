"""Benchmark registry for `python manage.py benchmark <name>`.

Each app may define `apps/<app>/benchmarks.py` with functions decorated by `@benchmark("name")`. A benchmark takes
the parsed options dict and returns a dict of numbers; the command prints one JSON line per benchmark.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

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


def database_url() -> str:
    """The database this process uses (during tests: the test database), as a URL for a server's environment;
    the environment's DATABASE_URL (or none: SQLite) when it is not PostgreSQL."""
    import os

    from django.db import connection

    if connection.vendor != "postgresql":
        return os.environ.get("DATABASE_URL", "")
    db = connection.settings_dict
    auth = quote(db["USER"] or "", safe="")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"], safe="")
    host = db.get("HOST") or "localhost"
    if host.startswith("/"):
        host = quote(host, safe="")
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{auth}@{host}{port}/{quote(db['NAME'], safe='')}"
