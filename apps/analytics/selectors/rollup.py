"""The rolled-up half: which days `PerformanceDaily` answers (`Plan`), the rows it stores (`rollup_rows`), figures
and medians of rolled-up days plus the live rest, and the benchmark histogram."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Q, QuerySet, Sum
from django.utils import timezone

from apps.accounts.models import User
from apps.analytics.domain import histogram as hist
from apps.analytics.models import DirtyDay, PerformanceDaily, RollupDay
from apps.analytics.selectors.common import (
    _DIMENSIONS,
    EXACT_MEDIAN_LIMIT,
    FIGURES,
    SCORE_FIGURES,
    Figures,
    Key,
    Range,
    _add,
    _grouped,
    _key_expr,
    _median,
    _median_all,
    _time,
    _zero,
)
from apps.analytics.selectors.live import (
    _scores,
    _sources,
    live_benchmark_bins,
    live_figures,
    live_histograms,
    live_score_figures,
)
from apps.labeling.models import Project
from apps.quality import selectors as quality_selectors


@dataclass(frozen=True)
class Plan:
    """Which days of the range the rollup answers (`runs`: first and last day, inclusive) and what is read live."""

    window: Range
    runs: list[tuple[date, date]] = field(default_factory=list)

    def live(self, name: str) -> Q:
        if not self.runs:
            return self.window.q(name)
        condition = Q(pk__in=[])
        cursor = self.window.start
        for first, last in self.runs:
            if cursor is None or cursor < _midnight(first):
                condition |= Range(cursor, _midnight(first)).q(name)
            cursor = _midnight(last + timedelta(days=1))
        if self.window.end is None or cursor is None or cursor < self.window.end:
            condition |= Range(cursor, self.window.end).q(name)
        return condition

    def rolled(self) -> Q:
        condition = Q(pk__in=[])
        for first, last in self.runs:
            condition |= Q(day__gte=first, day__lte=last)
        return condition


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


def plan_for(project: Project, window: Range) -> Plan:
    """The days of `window` the rollup answers (other modules call it as `rollup.plan_for`, so a test can make every
    figure live by replacing it here)."""
    tz = timezone.get_current_timezone()
    days = RollupDay.objects.filter(project=project, day__lt=timezone.localdate()).exclude(
        day__in=DirtyDay.objects.filter(project=project).values("day")
    )
    if window.start is not None:
        local = window.start.astimezone(tz)
        days = days.filter(day__gte=local.date() if local.time() == time.min else local.date() + timedelta(days=1))
    if window.end is not None:
        days = days.filter(day__lte=(window.end.astimezone(tz) - timedelta(days=1)).date())
    runs: list[tuple[date, date]] = []
    for day in days.order_by("day").values_list("day", flat=True):
        if runs and runs[-1][1] + timedelta(days=1) == day:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return Plan(window, runs)


def _rollup(project: Project, plan: Plan, only: User | None) -> QuerySet[PerformanceDaily]:
    rows = PerformanceDaily.objects.filter(project=project).filter(plan.rolled())
    return rows.filter(person=only) if only is not None else rows


def _figures(project: Project, plan: Plan, only: User | None, dims: list[str], counts_only: bool) -> dict[Key, Figures]:
    """Rolled-up days plus the live rest of the range, per tuple of dimensions."""
    total = live_figures(_sources(project, plan.live, only), dims, counts_only)
    if plan.runs:
        skipped = {"decisions", "approved", "rejected", "issues"} if counts_only else set()
        aggregates = {name: Sum(name) for name in FIGURES if name not in skipped}
        _add(total, _grouped(_rollup(project, plan, only), list(dims), **aggregates))
    return total


def _score_figures(project: Project, only: User | None, dims: list[str]) -> dict[Key, Figures]:
    """Quality sums of the current labels of every day (rolled up where clean, live elsewhere)."""
    plan = plan_for(project, Range(None, None))
    total = live_score_figures(_scores(project, plan.live, only), dims)
    if plan.runs:
        aggregates = {name: Sum(name) for name in SCORE_FIGURES}
        _add(total, _grouped(_rollup(project, plan, only), list(dims), **aggregates), SCORE_FIGURES)
    return total


def benchmark_histogram(*, project: Project) -> list[int]:
    """The quality app's benchmark histogram of the project's current labels (10 bins), from the rollup where it
    holds the days and live elsewhere: the same counts as `quality.selectors.score_histograms`."""
    plan = plan_for(project, Range(None, None))
    parts = list(live_benchmark_bins(_scores(project, plan.live, None), []).values())
    if plan.runs:
        parts += list(_stored_histograms(_rollup(project, plan, None), [], "benchmark_bins").values())
    counts = hist.merged(parts)
    return [counts.get(i, 0) for i in range(quality_selectors.HISTOGRAM_BINS)]


def _exact_limit() -> int:
    return int(getattr(settings, "ANALYTICS_EXACT_MEDIAN_LIMIT", EXACT_MEDIAN_LIMIT))


def _median_method(plan: Plan, figures: dict[Key, Figures]) -> str:
    counted = sum(f["labels"] + f["reviews"] for f in figures.values())
    return "exact" if not plan.runs or counted <= _exact_limit() else "histogram"


def _medians(
    project: Project, plan: Plan, only: User | None, dims: list[str], method: str
) -> tuple[dict[Key, float | None], dict[Key, float | None]]:
    """Medians of seconds per label and per review, per tuple of dimensions (at most one dimension when exact)."""
    if method == "exact":
        src = _sources(project, plan.window.q, only)
        t = {"t": _time()}
        if not dims:
            return (
                {(): _median_all(src.labels.annotate(**t), "t")},
                {(): _median_all(src.reviews.annotate(**t), "t")},
            )
        (dim,) = dims
        labels = src.labels.annotate(**t, group_key=_key_expr(_DIMENSIONS[dim]["labels"]))
        reviews = src.reviews.annotate(**t, group_key=_key_expr(_DIMENSIONS[dim]["reviews"]))
        return (
            {(k,): m for k, m in _median(labels, "group_key", "t").items()},
            {(k,): m for k, m in _median(reviews, "group_key", "t").items()},
        )
    found = live_histograms(_sources(project, plan.live, only), dims)
    if plan.runs:
        for kind in ("label", "review"):
            for key, counts in _stored_histograms(_rollup(project, plan, only), dims, f"{kind}_histogram").items():
                per_kind = found.setdefault(key, {"label": {}, "review": {}})
                hist.add_into(per_kind[kind], counts)
    return (
        {key: hist.quantile(h["label"]) for key, h in found.items()},
        {key: hist.quantile(h["review"]) for key, h in found.items()},
    )


_ROLLUP_COLUMNS = {"person": "person_id", "day": "day", "batch": "batch_id"}


def _stored_histograms(rows: QuerySet[PerformanceDaily], dims: list[str], field: str) -> dict[Key, hist.Histogram]:
    """The sum of a histogram column over the rollup rows, per tuple of dimensions: added up by PostgreSQL
    (jsonb_each_text ... GROUP BY), elsewhere in Python."""
    columns = [_ROLLUP_COLUMNS[d] for d in dims]
    found: dict[Key, hist.Histogram] = {}
    if connection.vendor != "postgresql":
        for *key, counts in rows.values_list(*columns, field):
            hist.add_into(found.setdefault(tuple(key), {}), counts)
        return found
    ids, params = rows.values("id").query.sql_with_params()
    keys = "".join(f"d.{column}, " for column in columns)
    sql = (
        f"SELECT {keys}e.key::int, SUM(e.value::int) FROM analytics_performancedaily d "  # noqa: S608 - constants
        f"CROSS JOIN LATERAL jsonb_each_text(d.{field}) e WHERE d.id IN ({ids}) "
        f"GROUP BY {', '.join(str(i + 1) for i in range(len(columns) + 1))}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for *key, bucket, count in cursor.fetchall():
            found.setdefault(tuple(key), {})[int(bucket)] = int(count)
    return found


def rollup_rows(project: Project, first: date, end: date) -> list[dict[str, Any]]:
    """What `PerformanceDaily` holds for the days [first, end) of a project, read from the source tables in one
    pass: one dict per (day, person, batch) with the additive figures and the two histograms."""
    src = _sources(project, Range(_midnight(first), _midnight(end)).q, None)
    dims = ["day", "person", "batch"]
    histograms = live_histograms(src, dims)
    figures = live_figures(src, dims)
    scores = _scores(project, Range(_midnight(first), _midnight(end)).q, None)
    quality = live_score_figures(scores, dims)
    bins = live_benchmark_bins(scores, dims)
    rows = []
    for key in set(figures) | set(quality):
        day, person, batch = key
        h = histograms.get(key, {"label": {}, "review": {}})
        f, q = figures.get(key, _zero()), quality.get(key, _zero(SCORE_FIGURES))
        rows.append(
            {
                "day": day,
                "person_id": person,
                "batch_id": batch,
                **{name: f[name] or 0 for name in FIGURES},
                **{name: q[name] or 0 for name in SCORE_FIGURES},
                "benchmark_bins": {str(b): n for b, n in sorted(bins.get(key, {}).items())},
                "label_histogram": {str(b): n for b, n in sorted(h["label"].items())},
                "review_histogram": {str(b): n for b, n in sorted(h["review"].items())},
            }
        )
    return rows
