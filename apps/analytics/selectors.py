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
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db import connection
from django.db.models import (
    Aggregate,
    Avg,
    Count,
    Exists,
    F,
    FloatField,
    OuterRef,
    Q,
    QuerySet,
    Sum,
)
from django.db.models.functions import Coalesce, Least, TruncDate
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from apps.accounts.models import User
from apps.analytics.domain.charts import median
from apps.analytics.domain.figures import Projection, cost, per_hour, per_hundred, projection, ratio
from apps.core.db_router import reads_from_replica
from apps.core.errors import ValidationFailed
from apps.issues.models import Issue
from apps.labeling.models import Annotation, Label, Project, ProjectMember, Task, TaskKind, TaskState
from apps.quality import selectors as quality_selectors
from apps.quality.models import LabelScore
from apps.review.models import Review, ReviewDecision

GROUPS = ("labeler", "day", "batch", "feature")
PACE_DAYS = 7


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


# group -> source -> the field to group that source by
_KEYS: dict[str, dict[str, Any]] = {
    "labeler": {
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


@dataclass
class _Sources:
    labels: QuerySet[Label]
    reworks: QuerySet[Label]
    reviews: QuerySet[Review]
    decisions: QuerySet[Review]
    issues: QuerySet[Issue]
    done: QuerySet[Task]
    scores: QuerySet[LabelScore]


def _sources(project: Project, window: Range, only: User | None) -> _Sources:
    labels = Label.objects.filter(project=project, revision=1).filter(window.q("created_at"))
    reworks = _rework_labels(project).filter(window.q("created_at"))
    reviews = Review.objects.filter(project=project).filter(window.q("created_at"))
    decisions = reviews
    issues = Issue.objects.filter(project=project, label__isnull=False).filter(window.q("created_at"))
    done = (
        Task.objects.filter(project=project, state=TaskState.DONE)
        .exclude(kind=TaskKind.BENCHMARK)
        .filter(window.q("done_at"))
    )
    scores = LabelScore.objects.filter(project=project, label__is_current=True)
    if only is not None:
        labels = labels.filter(labeler=only)
        reworks = reworks.filter(labeler=only)
        reviews = reviews.filter(reviewer=only)
        decisions = decisions.filter(label__labeler=only)
        issues = issues.filter(label__labeler=only)
        done = done.filter(labeled_by=only)
        scores = scores.filter(labeler=only)
    return _Sources(labels, reworks, reviews, decisions, issues, done, scores)


def _key_expr(key: Any) -> Any:
    return F(key) if isinstance(key, str) else key


def _grouped(queryset: QuerySet[Any], key: Any, **aggregates: Any) -> dict[Any, dict[str, Any]]:
    if not isinstance(key, str):
        queryset = queryset.annotate(group_key=key)
        key = "group_key"
    return {row.pop(key): row for row in queryset.values(key).annotate(**aggregates).order_by()}


def _rows(
    project: Project, group: str, window: Range, only: User | None, counts_only: bool = False
) -> list[dict[str, Any]]:
    """One row per group. `counts_only` (the dashboard's throughput chart) skips medians, decisions, issues and
    quality, which the chart does not show."""
    keys = _KEYS[group]
    src = _sources(project, window, only)
    timed = {"t": _time()}
    labels = _grouped(
        src.labels.annotate(**timed), keys["labels"], n=Count("pk"), seconds=Sum("t"), mean=Avg("t"), timed=Count("t")
    )
    reworks = _grouped(src.reworks.annotate(**timed), keys["labels"], n=Count("pk"), seconds=Sum("t"), mean=Avg("t"))
    reviews = _grouped(src.reviews.annotate(**timed), keys["reviews"], n=Count("pk"), seconds=Sum("t"), mean=Avg("t"))
    decisions: dict[Any, dict[str, Any]] = {}
    issues: dict[Any, dict[str, Any]] = {}
    scores: dict[Any, dict[str, Any]] = {}
    label_medians: dict[Any, float | None] = {}
    review_medians: dict[Any, float | None] = {}
    done = _grouped(src.done, keys["done"], n=Count("pk"))
    if not counts_only:
        decisions = _grouped(
            src.decisions,
            keys["decisions"],
            n=Count("pk"),
            approved=Count("pk", filter=Q(decision=ReviewDecision.APPROVE)),
            rejected=Count("pk", filter=Q(decision=ReviewDecision.REJECT)),
        )
        issues = _grouped(src.issues, keys["issues"], n=Count("pk"))
        if "scores" in keys:
            scores = _grouped(
                src.scores, keys["scores"], benchmark=Avg("benchmark_score"), consensus=Avg("consensus_agreement")
            )
        label_medians = _median(src.labels.annotate(**timed, group_key=_key_expr(keys["labels"])), "group_key", "t")
        review_medians = _median(src.reviews.annotate(**timed, group_key=_key_expr(keys["reviews"])), "group_key", "t")
    all_keys = set(labels) | set(reworks) | set(reviews) | set(decisions) | set(done) | set(issues)
    all_keys.discard(None)
    rates = _hourly_rates(project) if group == "labeler" else {}
    rows = []
    for key in all_keys:
        lab, rew, rev = labels.get(key, {}), reworks.get(key, {}), reviews.get(key, {})
        dec, iss, sc = decisions.get(key, {}), issues.get(key, {}), scores.get(key, {})
        n_labels = lab.get("n", 0)
        seconds_total = sum(x.get("seconds") or 0.0 for x in (lab, rew, rev))
        row: dict[str, Any] = {
            "key": str(key),
            "labels": n_labels,
            "reworks": rew.get("n", 0),
            "reviews": rev.get("n", 0),
            "rows_done": done.get(key, {}).get("n", 0),
            "label_seconds": lab.get("seconds") or 0.0,
            "rework_seconds": rew.get("seconds") or 0.0,
            "review_seconds": rev.get("seconds") or 0.0,
            "mean_seconds_per_label": lab.get("mean"),
            "median_seconds_per_label": label_medians.get(key),
            "mean_seconds_per_rework": rew.get("mean"),
            "mean_seconds_per_review": rev.get("mean"),
            "median_seconds_per_review": review_medians.get(key),
            "labels_per_hour": per_hour(lab.get("timed", 0), lab.get("seconds")),
            "approval_rate": ratio(dec.get("approved"), dec.get("n")),
            "rework_rate": ratio(dec.get("rejected"), dec.get("n")),
            "issues": iss.get("n", 0),
            "issues_per_100_labels": per_hundred(iss.get("n", 0), n_labels),
            "benchmark_mean": sc.get("benchmark"),
            "consensus_mean": sc.get("consensus"),
        }
        if group == "labeler":
            rate = rates.get(key)
            row["hourly_rate"] = float(rate) if rate is not None else None
            row["cost"] = cost(seconds_total, rate)
            row["cost_per_label"] = (row["cost"] / n_labels) if row["cost"] is not None and n_labels else None
        rows.append(row)
    _name_rows(group, rows)
    return sorted(rows, key=lambda r: r["key"])


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
    used = _grouped(annotations, "schema_id", n=Count("pk"), labels=Count("label", distinct=True))
    decided = _grouped(
        decisions,
        "label__annotation_rows__schema_id",
        n=Count("pk", distinct=True),
        approved=Count("pk", filter=Q(decision=ReviewDecision.APPROVE), distinct=True),
    )
    pinned = _grouped(issues, "feature_schema_id", n=Count("pk"))
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
def performance(
    *, project: Project, group_by: str, window: Range, only: User | None = None, counts_only: bool = False
) -> list[dict[str, Any]]:
    """API.md's performance rows for one grouping. `only` limits every figure to that person's own work."""
    if group_by not in GROUPS:
        raise ValidationFailed("Invalid grouping.", details={"group_by": [f"One of {', '.join(GROUPS)}."]})
    if group_by == "feature":
        return _feature_rows(project, window, only)
    return _rows(project, group_by, window, only, counts_only)


@reads_from_replica
def summary(
    *, project: Project, window: Range, only: User | None = None, people: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """Whole-project (or one person's) totals over the range, and the projection to finish the queue. `people`: the
    per-labeler rows when the caller already has them (their costs give the cost per label)."""
    src = _sources(project, window, only)
    timed = {"t": _time()}
    lab = src.labels.annotate(**timed).aggregate(n=Count("pk"), seconds=Sum("t"), mean=Avg("t"), timed=Count("t"))
    rew = src.reworks.annotate(**timed).aggregate(n=Count("pk"), seconds=Sum("t"), mean=Avg("t"))
    rev = src.reviews.annotate(**timed).aggregate(n=Count("pk"), seconds=Sum("t"), mean=Avg("t"))
    dec = src.decisions.aggregate(
        n=Count("pk"),
        approved=Count("pk", filter=Q(decision=ReviewDecision.APPROVE)),
        rejected=Count("pk", filter=Q(decision=ReviewDecision.REJECT)),
    )
    n_issues = src.issues.count()
    label_median = _median_all(src.labels.annotate(**timed), "t")
    review_median = _median_all(src.reviews.annotate(**timed), "t")
    if people is None:
        people = _rows(project, "labeler", window, only) if only is None else []
    costs = [r["cost"] for r in people if r.get("cost") is not None]
    paid_labels = sum(r["labels"] for r in people if r.get("cost") is not None)
    cost_per_label = (sum(costs) / paid_labels) if costs and paid_labels else None
    remaining = Task.objects.filter(
        project=project, state__in=[TaskState.TO_LABEL, TaskState.IN_PROGRESS, TaskState.IN_REWORK]
    ).count()
    recent = Label.objects.filter(
        project=project, revision=1, created_at__gte=timezone.now() - timedelta(days=PACE_DAYS)
    )
    if only is not None:
        recent = recent.filter(labeler=only)
    finish: Projection = projection(
        remaining=remaining, labels_recent=recent.count(), recent_days=PACE_DAYS, cost_per_label=cost_per_label
    )
    return {
        "labels": lab["n"],
        "reworks": rew["n"],
        "reviews": rev["n"],
        "rows_done": src.done.count(),
        "label_seconds": lab["seconds"] or 0.0,
        "rework_seconds": rew["seconds"] or 0.0,
        "review_seconds": rev["seconds"] or 0.0,
        "mean_seconds_per_label": lab["mean"],
        "median_seconds_per_label": label_median,
        "mean_seconds_per_rework": rew["mean"],
        "mean_seconds_per_review": rev["mean"],
        "median_seconds_per_review": review_median,
        "labels_per_hour": per_hour(lab["timed"], lab["seconds"]),
        "approval_rate": ratio(dec["approved"], dec["n"]),
        "rework_rate": ratio(dec["rejected"], dec["n"]),
        "issues": n_issues,
        "issues_per_100_labels": per_hundred(n_issues, lab["n"]),
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
