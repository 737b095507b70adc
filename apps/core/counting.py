"""Counts that stay cheap at any size: exact up to a bound, above it the query planner's estimate (marked as one).

`bounded_count(qs)` counts at most `EXACT_UP_TO + 1` rows (`SELECT count(*) FROM (… LIMIT n)`: an index walk of at
most n entries, whatever the table holds); when the bound is reached it returns PostgreSQL's estimate of the
query's rows (`EXPLAIN`: table statistics, `pg_class.reltuples` scaled by the filters' selectivities), never less
than the bound, with `exact=False` so that pages say "about". On SQLite (development, tests) the count is exact.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.db import connections
from django.db.models import QuerySet

EXACT_UP_TO = 10_000


@dataclass(frozen=True)
class Count:
    value: int
    exact: bool

    def __int__(self) -> int:
        return self.value

    def __bool__(self) -> bool:
        return self.value != 0

    def __str__(self) -> str:
        return f"{self.value:,}" if self.exact else f"about {approximate(self.value)}"


def approximate(value: int) -> str:
    """12,345 → "12 thousand", 1,234,567 → "1.2 million": two significant digits, words for the magnitude."""
    for size, word in ((1_000_000_000, "billion"), (1_000_000, "million"), (1_000, "thousand")):
        if value >= size:
            scaled = value / size
            text = f"{scaled:.1f}".rstrip("0").rstrip(".") if scaled < 10 else f"{round(scaled):,}"
            return f"{text} {word}"
    return f"{value:,}"


def planner_rows(queryset: QuerySet[Any]) -> int:
    """The planner's estimate of the rows the query returns (PostgreSQL only)."""
    query = queryset.order_by().values("pk")
    compiler = query.query.get_compiler(using=query.db)
    sql, params = compiler.as_sql()
    with connections[query.db].cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


def bounded_count(queryset: QuerySet[Any], limit: int = EXACT_UP_TO) -> Count:
    """Exact when the query has at most `limit` rows, else the planner's estimate (at least `limit + 1`)."""
    head = queryset.order_by().values("pk")[: limit + 1].count()
    if head <= limit:
        return Count(head, True)
    if connections[queryset.db].vendor != "postgresql":
        return Count(queryset.count(), True)
    return Count(max(limit + 1, planner_rows(queryset)), False)
