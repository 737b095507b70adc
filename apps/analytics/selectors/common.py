"""What every figure family shares: the range, the dimensions, the additive figures, GROUP BY helpers and
medians."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from django.db import connection
from django.db.models import Aggregate, Case, F, FloatField, IntegerField, Q, QuerySet, Value, When
from django.db.models.functions import Cast, Coalesce, Floor, Least, Ln, TruncDate
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from apps.analytics.domain import histogram as hist
from apps.analytics.domain.charts import median
from apps.core.errors import ValidationFailed

GROUPS = ("labeler", "day", "batch", "feature")

PACE_DAYS = 7

EXACT_MEDIAN_LIMIT = 10_000  # default of settings.ANALYTICS_EXACT_MEDIAN_LIMIT


class Percentile(Aggregate):
    """PostgreSQL's continuous percentile (the median at 0.5)."""

    function = "PERCENTILE_CONT"
    name = "Percentile"
    output_field = FloatField()
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"

    def __init__(self, expression: Any, fraction: float = 0.5, **extra: Any) -> None:
        super().__init__(expression, fraction=fraction, **extra)


@dataclass(frozen=True)
class Range:
    start: datetime | None
    end: datetime | None  # exclusive

    def q(self, field: str) -> Q:
        condition = Q()
        if self.start is not None:
            condition &= Q(**{f"{field}__gte": self.start})
        if self.end is not None:
            condition &= Q(**{f"{field}__lt": self.end})
        return condition


def parse_range(raw_from: str | None, raw_to: str | None) -> Range:
    """`from`/`to` as dates (whole days, `to` inclusive) or ISO datetimes; a bad value or an empty range is a 400."""
    errors: dict[str, list[str]] = {}

    def bound(raw: str | None, name: str, end: bool) -> datetime | None:
        if raw in (None, ""):
            return None
        assert raw is not None
        try:
            day = parse_date(raw) if len(raw) == 10 else None
            moment = None if day is not None else parse_datetime(raw)
        except ValueError:
            day = moment = None
        if day is not None:
            moment = datetime.combine(day + timedelta(days=1) if end else day, time.min)
        if moment is None:
            errors[name] = ["An ISO date (YYYY-MM-DD) or datetime."]
            return None
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment, UTC)
        return moment

    start = bound(raw_from, "from", end=False)
    end = bound(raw_to, "to", end=True)
    if start is not None and end is not None and end <= start:
        errors["to"] = ["Must be after from."]
    if errors:
        raise ValidationFailed("Invalid date range.", details=errors)
    return Range(start, end)


def _time(prefix: str = "") -> Any:
    client, server = F(f"{prefix}seconds_spent"), F(f"{prefix}server_seconds")
    return Least(Coalesce(client, server), Coalesce(server, client))


def bucket_of(seconds: str) -> Any:
    """The histogram bucket of a seconds column (`domain.histogram`), computed by the database only, so the rollup
    and the live part of a range always agree on bucket edges."""
    per_ln = hist.STEPS_PER_DOUBLING / math.log(2.0)
    return Case(
        When(**{f"{seconds}__lt": 1}, then=Value(0)),
        default=Cast(Floor(Ln(F(seconds)) * Value(per_ln)), IntegerField()) + Value(1),
        output_field=IntegerField(),
    )


def _median(queryset: QuerySet[Any], key: str, field: str) -> dict[Any, float | None]:
    """Median of `field` per `key` (PERCENTILE_CONT on PostgreSQL; SQLite, used by `make run`, sorts in Python)."""
    if connection.vendor == "postgresql":
        rows = queryset.values(key).annotate(m=Percentile(field)).values_list(key, "m")
        return dict(rows)
    values: dict[Any, list[float]] = {}
    for k, v in queryset.exclude(**{f"{field}__isnull": True}).values_list(key, field):
        values.setdefault(k, []).append(float(v))
    return {k: median(sorted(v)) for k, v in values.items()}


def _median_all(queryset: QuerySet[Any], field: str) -> float | None:
    if connection.vendor == "postgresql":
        return queryset.aggregate(m=Percentile(field))["m"]
    known = queryset.exclude(**{f"{field}__isnull": True}).values_list(field, flat=True)
    return median(sorted(float(v) for v in known))


# dimension -> source -> the field to group that source by (also the rollup's attribution of each source)
_DIMENSIONS: dict[str, dict[str, Any]] = {
    "person": {
        "labels": "labeler",
        "reviews": "reviewer",
        "decisions": "label__labeler",
        "issues": "label__labeler",
        "done": "labeled_by",
        "scores": "labeler",
    },
    "day": {
        "labels": TruncDate("created_at"),
        "reviews": TruncDate("created_at"),
        "decisions": TruncDate("created_at"),
        "issues": TruncDate("created_at"),
        "done": TruncDate("done_at"),
        "scores": TruncDate("label__created_at"),
    },
    "batch": {
        "labels": "task__batch",
        "reviews": "task__batch",
        "decisions": "task__batch",
        "issues": "label__task__batch",
        "done": "batch",
        "scores": "label__task__batch",
    },
}

_GROUP_DIMENSION = {"labeler": "person", "day": "day", "batch": "batch"}

# The additive figures, named as PerformanceDaily's columns.
FIGURES = (
    "labels",
    "label_timed",
    "label_seconds",
    "reworks",
    "rework_timed",
    "rework_seconds",
    "reviews",
    "review_timed",
    "review_seconds",
    "decisions",
    "approved",
    "rejected",
    "issues",
    "rows_done",
)

# Quality figures (of current labels, by the day the label was created; never limited by the range asked).
SCORE_FIGURES = ("benchmark_sum", "benchmark_n", "consensus_sum", "consensus_n")

_COUNTS = ("labels", "reworks", "reviews", "rows_done")

_DETAIL_COUNTS = ("decisions", "issues")

Key = tuple[Any, ...]

Figures = dict[str, float]


def _grouped(queryset: QuerySet[Any], keys: list[Any], **aggregates: Any) -> dict[Key, dict[str, Any]]:
    """Aggregates per tuple of keys (field names or expressions); no keys: one row under ()."""
    if not keys:
        return {(): queryset.aggregate(**aggregates)}
    names, expressions = [], {}
    for i, key in enumerate(keys):
        if isinstance(key, str):
            names.append(key)
        else:
            names.append(f"group_key_{i}")
            expressions[f"group_key_{i}"] = key
    if expressions:
        queryset = queryset.annotate(**expressions)
    rows = queryset.values(*names).annotate(**aggregates).order_by()
    return {tuple(row.pop(name) for name in names): row for row in rows}


def _grouped_by(queryset: QuerySet[Any], key: str, **aggregates: Any) -> dict[Any, dict[str, Any]]:
    return {k: row for (k,), row in _grouped(queryset, [key], **aggregates).items()}


def _keys(dims: list[str], source: str) -> list[Any]:
    return [_DIMENSIONS[d][source] for d in dims]


def _zero(names: Iterable[str] = FIGURES) -> Figures:
    return dict.fromkeys(names, 0)


def _add(total: dict[Key, Figures], part: dict[Key, dict[str, Any]], names: Iterable[str] = FIGURES) -> None:
    for key, row in part.items():
        target = total.setdefault(key, _zero(names))
        for name, value in row.items():
            target[name] += value or 0


def _key_expr(key: Any) -> Any:
    return F(key) if isinstance(key, str) else key


def _mean(seconds: float, timed: float) -> float | None:
    return float(seconds) / timed if timed else None
