"""The work figures per labeler, day and batch (`performance_table`) and the whole-project summary with its
projection."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Sum
from django.utils import timezone

from apps.accounts.models import User
from apps.analytics.domain.figures import Projection, cost, per_hour, per_hundred, projection, ratio
from apps.analytics.selectors import rollup
from apps.analytics.selectors.common import (
    _COUNTS,
    _DETAIL_COUNTS,
    _GROUP_DIMENSION,
    GROUPS,
    PACE_DAYS,
    Figures,
    Key,
    Range,
    _mean,
    _zero,
)
from apps.analytics.selectors.features import _feature_rows
from apps.analytics.selectors.live import _sources
from apps.analytics.selectors.rollup import Plan, _figures, _median_method, _medians, _rollup, _score_figures
from apps.core.db_router import reads_from_replica
from apps.core.errors import ValidationFailed
from apps.labeling.models import Project, ProjectMember, Task, TaskState


@dataclass(frozen=True)
class Table:
    rows: list[dict[str, Any]]
    median_method: str | None  # None when the rows carry no medians


def _table(project: Project, group: str, window: Range, only: User | None, counts_only: bool = False) -> Table:
    """One row per group. `counts_only` (the dashboard's throughput chart) skips medians, decisions, issues and
    quality, which the chart does not show."""
    dim = _GROUP_DIMENSION[group]
    plan = rollup.plan_for(project, window)
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


def _is_row(key: Any, f: Figures, counts_only: bool) -> bool:
    """Whether a group shows as a row: a real key with something counted."""
    present = _COUNTS if counts_only else _COUNTS + _DETAIL_COUNTS
    return key is not None and any(f[name] for name in present)


def _people_costs(project: Project, plan: Plan, figures: dict[Key, Figures]) -> list[dict[str, Any]]:
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
    plan = rollup.plan_for(project, Range(since, None))
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
    plan = rollup.plan_for(project, window)
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
