"""Labeling analytics, aggregated in the database (GROUP BY with conditional aggregates; medians with
PERCENTILE_CONT on PostgreSQL), never by looping over labels in Python.

Definitions (the tests compute each one by hand):
- **label**: the first revision of a task's label (revision 1), counted at its `created_at`, for its labeler.
- **rework**: a label revision whose previous revision was rejected by a reviewer (the labeler redoing it).
- **review**: a review decision, for its reviewer, at its `created_at`.
- **row done**: a task other than a benchmark slot whose `done_at` falls in the range, for the labeler of the task.
- **time** of a label, rework or review: the active seconds the page measured (idle over 60 s not counted), bounded
  by how long the server saw the lease open — the smaller of the two when both are known, else the one known.
- **approval / rework rate** of a labeler: approvals / rejections among the decisions on their labels (reviews
  within the range); per batch and per day the same over the decisions of that batch or day.
- **issues per 100 labels**: issues opened on the person's labels per 100 of their labels.
- **benchmark / consensus mean**: the quality app's scores of the person's current labels (whatever the range).
- **cost**: seconds of labeling, rework and review × the member's hourly rate.

Where the figures come from (`_Plan`): whole days (in TIME_ZONE) inside the range that the rollup holds
(`RollupDay`), that are over (before today) and not marked changed since (`DirtyDay`) are read from
`PerformanceDaily`; every other moment of the range (today, changed days, days never rolled up, partial days at the
range's ends) is read live from the source tables, and the two are added. Counts, sums and means are therefore the
same as a fully live computation. Medians are exact (PERCENTILE_CONT over the range, read live) when the range holds
at most `ANALYTICS_EXACT_MEDIAN_LIMIT` labels and reviews or when no rolled-up day is in it; above that they come from
the fixed log-scale histograms (`domain.histogram`, error under one bucket: 7.2%) and `median_method` says so.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import (
    Aggregate,
    Case,
    Count,
    Exists,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, Floor, Least, Ln, TruncDate
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from apps.accounts.models import User
from apps.analytics.domain import histogram as hist
from apps.analytics.domain.charts import median
from apps.analytics.domain.figures import Projection, cost, per_hour, per_hundred, projection, ratio
from apps.analytics.models import DirtyDay, PerformanceDaily, RollupDay
from apps.core.db_router import reads_from_replica
from apps.core.errors import ValidationFailed
from apps.issues.models import Issue
from apps.labeling.models import Annotation, Label, Project, ProjectMember, Task, TaskKind, TaskState
from apps.quality import selectors as quality_selectors
from apps.quality.models import LabelScore
from apps.review.models import Review, ReviewDecision

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


def _rework_labels(project: Project) -> QuerySet[Label]:
    rejected = Review.objects.filter(label_id=OuterRef("previous_id"), decision=ReviewDecision.REJECT)
    return Label.objects.filter(project=project, previous__isnull=False).filter(Exists(rejected))


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


@dataclass
class _Sources:
    labels: QuerySet[Label]
    reworks: QuerySet[Label]
    reviews: QuerySet[Review]
    decisions: QuerySet[Review]
    issues: QuerySet[Issue]
    done: QuerySet[Task]


def _sources(project: Project, when: Callable[[str], Q], only: User | None) -> _Sources:
    """The source rows, each limited to the moments `when(time field)` selects."""
    labels = Label.objects.filter(project=project, revision=1).filter(when("created_at"))
    reworks = _rework_labels(project).filter(when("created_at"))
    reviews = Review.objects.filter(project=project).filter(when("created_at"))
    decisions = reviews
    issues = Issue.objects.filter(project=project, label__isnull=False).filter(when("created_at"))
    done = (
        Task.objects.filter(project=project, state=TaskState.DONE)
        .exclude(kind=TaskKind.BENCHMARK)
        .filter(when("done_at"))
    )
    if only is not None:
        labels = labels.filter(labeler=only)
        reworks = reworks.filter(labeler=only)
        reviews = reviews.filter(reviewer=only)
        decisions = decisions.filter(label__labeler=only)
        issues = issues.filter(label__labeler=only)
        done = done.filter(labeled_by=only)
    return _Sources(labels, reworks, reviews, decisions, issues, done)


def _scores(project: Project, when: Callable[[str], Q], only: User | None) -> QuerySet[LabelScore]:
    """The quality app's scores of current labels created at the moments `when` selects."""
    scores = LabelScore.objects.filter(project=project, label__is_current=True).filter(when("label__created_at"))
    return scores.filter(labeler=only) if only is not None else scores


def _benchmark_bin() -> Any:
    """The quality app's histogram bin of a benchmark score: [i/10, (i+1)/10), 1.0 in the last; None below 0."""
    bins = quality_selectors.HISTOGRAM_BINS
    whens = [When(benchmark_score__gte=i / bins, then=Value(i)) for i in range(bins - 1, -1, -1)]
    return Case(*whens, default=None, output_field=IntegerField())


def live_score_figures(scores: QuerySet[LabelScore], dims: list[str]) -> dict[Key, Figures]:
    total: dict[Key, Figures] = {}
    _add(
        total,
        _grouped(
            scores,
            _keys(dims, "scores"),
            benchmark_sum=Sum("benchmark_score"),
            benchmark_n=Count("benchmark_score"),
            consensus_sum=Sum("consensus_agreement"),
            consensus_n=Count("consensus_agreement"),
        ),
        SCORE_FIGURES,
    )
    return total


def live_benchmark_bins(scores: QuerySet[LabelScore], dims: list[str]) -> dict[Key, hist.Histogram]:
    found: dict[Key, hist.Histogram] = {}
    binned = scores.filter(benchmark_score__isnull=False).annotate(bin=_benchmark_bin()).filter(bin__isnull=False)
    for key, row in _grouped(binned, [*_keys(dims, "scores"), "bin"], n=Count("pk")).items():
        found.setdefault(key[:-1], {})[int(key[-1])] = row["n"]
    return found


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


def _timed_counts(queryset: QuerySet[Any], keys: list[Any], noun: str) -> dict[Key, dict[str, Any]]:
    """Per key: how many (`<noun>s`), their seconds summed (`<noun>_seconds`) and how many had seconds (`_timed`)."""
    timed = queryset.annotate(t=_time())
    counts = {f"{noun}s": Count("pk"), f"{noun}_seconds": Sum("t"), f"{noun}_timed": Count("t")}
    return _grouped(timed, keys, **counts)


def live_figures(src: _Sources, dims: list[str], counts_only: bool = False) -> dict[Key, Figures]:
    """The additive figures of the source rows per tuple of dimensions (GROUP BY in the database)."""
    total: dict[Key, Figures] = {}
    for noun, queryset, source in (
        ("label", src.labels, "labels"),
        ("rework", src.reworks, "labels"),
        ("review", src.reviews, "reviews"),
    ):
        _add(total, _timed_counts(queryset, _keys(dims, source), noun))
    _add(total, _grouped(src.done, _keys(dims, "done"), rows_done=Count("pk")))
    if not counts_only:
        _add(
            total,
            _grouped(
                src.decisions,
                _keys(dims, "decisions"),
                decisions=Count("pk"),
                approved=Count("pk", filter=Q(decision=ReviewDecision.APPROVE)),
                rejected=Count("pk", filter=Q(decision=ReviewDecision.REJECT)),
            ),
        )
        _add(total, _grouped(src.issues, _keys(dims, "issues"), issues=Count("pk")))
    return total


def live_histograms(src: _Sources, dims: list[str]) -> dict[Key, dict[str, hist.Histogram]]:
    """Per tuple of dimensions: the seconds histograms of labels ("label") and reviews ("review")."""
    found: dict[Key, dict[str, hist.Histogram]] = {}
    for kind, queryset, source in (("label", src.labels, "labels"), ("review", src.reviews, "reviews")):
        timed = queryset.annotate(t=_time()).filter(t__isnull=False).annotate(bucket=bucket_of("t"))
        keys = _keys(dims, source)
        counted = _grouped(timed, [*keys, "bucket"], n=Count("pk"))
        for key, row in counted.items():
            per_kind = found.setdefault(key[:-1], {"label": {}, "review": {}})
            per_kind[kind][int(key[-1])] = row["n"]
    return found


@dataclass(frozen=True)
class _Plan:
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


def _plan(project: Project, window: Range) -> _Plan:
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
    return _Plan(window, runs)


def _rollup(project: Project, plan: _Plan, only: User | None) -> QuerySet[PerformanceDaily]:
    rows = PerformanceDaily.objects.filter(project=project).filter(plan.rolled())
    return rows.filter(person=only) if only is not None else rows


def _figures(
    project: Project, plan: _Plan, only: User | None, dims: list[str], counts_only: bool
) -> dict[Key, Figures]:
    """Rolled-up days plus the live rest of the range, per tuple of dimensions."""
    total = live_figures(_sources(project, plan.live, only), dims, counts_only)
    if plan.runs:
        skipped = {"decisions", "approved", "rejected", "issues"} if counts_only else set()
        aggregates = {name: Sum(name) for name in FIGURES if name not in skipped}
        _add(total, _grouped(_rollup(project, plan, only), list(dims), **aggregates))
    return total


def _score_figures(project: Project, only: User | None, dims: list[str]) -> dict[Key, Figures]:
    """Quality sums of the current labels of every day (rolled up where clean, live elsewhere)."""
    plan = _plan(project, Range(None, None))
    total = live_score_figures(_scores(project, plan.live, only), dims)
    if plan.runs:
        aggregates = {name: Sum(name) for name in SCORE_FIGURES}
        _add(total, _grouped(_rollup(project, plan, only), list(dims), **aggregates), SCORE_FIGURES)
    return total


def benchmark_histogram(*, project: Project) -> list[int]:
    """The quality app's benchmark histogram of the project's current labels (10 bins), from the rollup where it
    holds the days and live elsewhere: the same counts as `quality.selectors.score_histograms`."""
    plan = _plan(project, Range(None, None))
    parts = list(live_benchmark_bins(_scores(project, plan.live, None), []).values())
    if plan.runs:
        parts += list(_stored_histograms(_rollup(project, plan, None), [], "benchmark_bins").values())
    counts = hist.merged(parts)
    return [counts.get(i, 0) for i in range(quality_selectors.HISTOGRAM_BINS)]


def _exact_limit() -> int:
    return int(getattr(settings, "ANALYTICS_EXACT_MEDIAN_LIMIT", EXACT_MEDIAN_LIMIT))


def _median_method(plan: _Plan, figures: dict[Key, Figures]) -> str:
    counted = sum(f["labels"] + f["reviews"] for f in figures.values())
    return "exact" if not plan.runs or counted <= _exact_limit() else "histogram"


def _medians(
    project: Project, plan: _Plan, only: User | None, dims: list[str], method: str
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


def _key_expr(key: Any) -> Any:
    return F(key) if isinstance(key, str) else key


def _mean(seconds: float, timed: float) -> float | None:
    return float(seconds) / timed if timed else None


@dataclass(frozen=True)
class Table:
    rows: list[dict[str, Any]]
    median_method: str | None  # None when the rows carry no medians


def _table(project: Project, group: str, window: Range, only: User | None, counts_only: bool = False) -> Table:
    """One row per group. `counts_only` (the dashboard's throughput chart) skips medians, decisions, issues and
    quality, which the chart does not show."""
    dim = _GROUP_DIMENSION[group]
    plan = _plan(project, window)
    figures = _figures(project, plan, only, [dim], counts_only)
    scores: dict[Key, Figures] = {}
    label_medians: dict[Key, float | None] = {}
    review_medians: dict[Key, float | None] = {}
    method = None
    if not counts_only:
        if group in ("labeler", "batch"):
            scores = _score_figures(project, only, [dim])
        method = _median_method(plan, figures)
        label_medians, review_medians = _medians(project, plan, only, [dim], method)
    rates = _hourly_rates(project) if group == "labeler" else {}
    rows = []
    for key_tuple, f in figures.items():
        (key,) = key_tuple
        if not _is_row(key, f, counts_only):
            continue
        sc = scores.get(key_tuple, {})
        n_labels = int(f["labels"])
        seconds_total = float(f["label_seconds"] + f["rework_seconds"] + f["review_seconds"])
        row: dict[str, Any] = {
            "key": str(key),
            **_work_figures(f, label_medians.get(key_tuple), review_medians.get(key_tuple)),
            "benchmark_mean": ratio(sc.get("benchmark_sum"), sc.get("benchmark_n")),
            "consensus_mean": ratio(sc.get("consensus_sum"), sc.get("consensus_n")),
        }
        if group == "labeler":
            rate = rates.get(key)
            row["hourly_rate"] = float(rate) if rate is not None else None
            row["cost"] = cost(seconds_total, rate)
            row["cost_per_label"] = (row["cost"] / n_labels) if row["cost"] is not None and n_labels else None
        rows.append(row)
    _name_rows(group, rows)
    return Table(sorted(rows, key=lambda r: r["key"]), method)


def _work_figures(f: Figures, label_median: float | None, review_median: float | None) -> dict[str, Any]:
    """The counts, seconds, means, medians, rates and issue figures of one row of figures (a table row, a summary)."""
    n_labels, n_issues = int(f["labels"]), int(f["issues"])
    return {
        "labels": n_labels,
        "reworks": int(f["reworks"]),
        "reviews": int(f["reviews"]),
        "rows_done": int(f["rows_done"]),
        "label_seconds": float(f["label_seconds"]),
        "rework_seconds": float(f["rework_seconds"]),
        "review_seconds": float(f["review_seconds"]),
        "mean_seconds_per_label": _mean(f["label_seconds"], f["label_timed"]),
        "median_seconds_per_label": label_median,
        "mean_seconds_per_rework": _mean(f["rework_seconds"], f["rework_timed"]),
        "mean_seconds_per_review": _mean(f["review_seconds"], f["review_timed"]),
        "median_seconds_per_review": review_median,
        "labels_per_hour": per_hour(int(f["label_timed"]), float(f["label_seconds"])),
        "approval_rate": ratio(f["approved"], f["decisions"]),
        "rework_rate": ratio(f["rejected"], f["decisions"]),
        "issues": n_issues,
        "issues_per_100_labels": per_hundred(n_issues, n_labels),
    }


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


def _is_row(key: Any, f: Figures, counts_only: bool) -> bool:
    """Whether a group shows as a row: a real key with something counted."""
    present = _COUNTS if counts_only else _COUNTS + _DETAIL_COUNTS
    return key is not None and any(f[name] for name in present)


def _people_costs(project: Project, plan: _Plan, figures: dict[Key, Figures]) -> list[dict[str, Any]]:
    """The labels and cost of each person who would be a row of the per-labeler table (without its medians and
    quality, which the summary does not need)."""
    rates = _hourly_rates(project)
    people = []
    for (key,), f in figures.items():
        if _is_row(key, f, counts_only=False):
            seconds = float(f["label_seconds"] + f["rework_seconds"] + f["review_seconds"])
            people.append({"labels": int(f["labels"]), "cost": cost(seconds, rates.get(key))})
    return people


def _hourly_rates(project: Project) -> dict[Any, Any]:
    return dict(
        ProjectMember.objects.filter(project=project, hourly_rate__isnull=False).values_list("user_id", "hourly_rate")
    )


def _name_rows(group: str, rows: list[dict[str, Any]]) -> None:
    if group == "labeler":
        names = dict(User.objects.filter(pk__in=[r["key"] for r in rows]).values_list("id", "username"))
        for row in rows:
            row["name"] = names.get(_uuid(row["key"]), row["key"])
    elif group == "batch":
        from apps.labeling.models import Batch

        names = dict(Batch.objects.filter(pk__in=[r["key"] for r in rows]).values_list("id", "name"))
        for row in rows:
            row["name"] = names.get(_uuid(row["key"]), row["key"])
    else:
        for row in rows:
            row["name"] = row["key"]


def _uuid(value: str) -> Any:
    import uuid

    return uuid.UUID(value)


def _feature_rows(project: Project, window: Range, only: User | None) -> list[dict[str, Any]]:
    """Per feature (top-level tools and classifications): annotations, labels using it, decisions on those labels,
    issues pinned to it, and the quality means per feature."""
    annotations = Annotation.objects.filter(project=project, parent__isnull=True, label__revision=1).filter(
        window.q("label__created_at")
    )
    decisions = Review.objects.filter(project=project, label__annotation_rows__parent__isnull=True).filter(
        window.q("created_at")
    )
    issues = Issue.objects.filter(project=project, feature_schema_id__isnull=False).filter(window.q("created_at"))
    if only is not None:
        annotations = annotations.filter(label__labeler=only)
        decisions = decisions.filter(label__labeler=only)
        issues = issues.filter(label__labeler=only)
    used = _grouped_by(annotations, "schema_id", n=Count("pk"), labels=Count("label", distinct=True))
    decided = _grouped_by(
        decisions,
        "label__annotation_rows__schema_id",
        n=Count("pk", distinct=True),
        approved=Count("pk", filter=Q(decision=ReviewDecision.APPROVE), distinct=True),
    )
    pinned = _grouped_by(issues, "feature_schema_id", n=Count("pk"))
    names = quality_selectors.feature_names(project)
    quality = {} if only is not None else quality_selectors.project_quality(project=project)
    consensus = {f["schema_id"]: f["mean"] for f in quality.get("consensus", {}).get("by_feature", [])}
    benchmark = {f["schema_id"]: f["mean"] for f in quality.get("benchmark", {}).get("by_feature", [])}
    rows = []
    for key in set(used) | set(pinned):
        sid = str(key)
        n_labels = used.get(key, {}).get("labels", 0)
        dec = decided.get(key, {})
        rows.append(
            {
                "key": sid,
                "name": names.get(sid, sid),
                "annotations": used.get(key, {}).get("n", 0),
                "labels": n_labels,
                "approval_rate": ratio(dec.get("approved"), dec.get("n")),
                "issues": pinned.get(key, {}).get("n", 0),
                "issues_per_100_labels": per_hundred(pinned.get(key, {}).get("n", 0), n_labels),
                "consensus_mean": consensus.get(sid),
                "benchmark_mean": benchmark.get(sid),
            }
        )
    return sorted(rows, key=lambda r: r["name"])


@reads_from_replica
def performance_table(
    *, project: Project, group_by: str, window: Range, only: User | None = None, counts_only: bool = False
) -> Table:
    """API.md's performance rows for one grouping, and how their medians were found. `only` limits every figure to
    that person's own work."""
    if group_by not in GROUPS:
        raise ValidationFailed("Invalid grouping.", details={"group_by": [f"One of {', '.join(GROUPS)}."]})
    if group_by == "feature":
        return Table(_feature_rows(project, window, only), None)
    return _table(project, group_by, window, only, counts_only)


def performance(
    *, project: Project, group_by: str, window: Range, only: User | None = None, counts_only: bool = False
) -> list[dict[str, Any]]:
    """API.md's performance rows for one grouping. `only` limits every figure to that person's own work."""
    return performance_table(project=project, group_by=group_by, window=window, only=only, counts_only=counts_only).rows


def _labels_since(project: Project, since: datetime, only: User | None) -> int:
    plan = _plan(project, Range(since, None))
    labels = _sources(project, plan.live, only).labels.count()
    if plan.runs:
        labels += _rollup(project, plan, only).aggregate(n=Sum("labels"))["n"] or 0
    return labels


@reads_from_replica
def summary(
    *, project: Project, window: Range, only: User | None = None, people: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """Whole-project (or one person's) totals over the range, and the projection to finish the queue. `people`: the
    per-labeler rows when the caller already has them (their costs give the cost per label)."""
    plan = _plan(project, window)
    f = _figures(project, plan, only, [], counts_only=False).get((), _zero())
    method = _median_method(plan, {(): f})
    label_medians, review_medians = _medians(project, plan, only, [], method)
    if people is None:
        people = _people_costs(project, plan, _figures(project, plan, only, ["person"], False)) if only is None else []
    costs = [r["cost"] for r in people if r.get("cost") is not None]
    paid_labels = sum(r["labels"] for r in people if r.get("cost") is not None)
    cost_per_label = (sum(costs) / paid_labels) if costs and paid_labels else None
    remaining = Task.objects.filter(
        project=project, state__in=[TaskState.TO_LABEL, TaskState.IN_PROGRESS, TaskState.IN_REWORK]
    ).count()
    recent = _labels_since(project, timezone.now() - timedelta(days=PACE_DAYS), only)
    finish: Projection = projection(
        remaining=remaining, labels_recent=recent, recent_days=PACE_DAYS, cost_per_label=cost_per_label
    )
    return {
        **_work_figures(f, label_medians.get(()), review_medians.get(())),
        "median_method": method,
        "cost": round(sum(costs), 2) if costs else None,
        "cost_per_label": cost_per_label,
        "projection": {
            "remaining_tasks": finish.remaining,
            "labels_per_day": finish.labels_per_day,
            "days_to_finish": finish.days_to_finish,
            "cost_to_finish": finish.cost_to_finish,
        },
    }


def days_between(rows: Iterable[dict[str, Any]]) -> list[str]:
    """Every day from the first to the last row's key, so a chart shows quiet days as zeros."""
    keys = sorted(date.fromisoformat(r["key"]) for r in rows)
    if not keys:
        return []
    span = (keys[-1] - keys[0]).days
    return [(keys[0] + timedelta(days=i)).isoformat() for i in range(span + 1)]
