"""Analytics pages: the project dashboard (throughput chart, efficiency table, quality histograms, the speed vs
quality scatter) and each person's own "my stats" page."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from apps.accounts.access import request_user
from apps.accounts.models import User
from apps.accounts.page_context import HomeSection
from apps.analytics import selectors
from apps.analytics.access import access_performance
from apps.analytics.domain.charts import line_chart, scatter
from apps.core.errors import PermissionDenied
from apps.labeling.access import can, projects_where
from apps.labeling.models import Project
from apps.quality import selectors as quality_selectors
from apps.quality.domain.histogram import histogram_bars


def analytics_link(user: User, project: Project) -> tuple[str, str] | None:
    if not can(user, project, "view_work"):
        return None
    return ("Analytics", reverse("analytics:project", args=[project.id]))


def my_stats_section(user: User) -> HomeSection:
    return HomeSection(
        title="My stats",
        items=[{"title": "My labeling numbers", "url": reverse("analytics:me"), "detail": "per project"}],
    )


def _throughput(rows: list[dict[str, Any]]) -> dict[str, Any]:
    by_day = {row["key"]: row for row in rows}
    days = selectors.days_between(rows)
    series = {
        name: [float(by_day.get(day, {}).get(field, 0)) for day in days]
        for name, field in (("labels", "labels"), ("reviews", "reviews"), ("reworks", "reworks"), ("done", "rows_done"))
    }
    return line_chart(days, series)


def _quality_of(row: dict[str, Any]) -> float | None:
    """The quality axis of the scatter: benchmark mean, else consensus mean, else approval rate."""
    for field in ("benchmark_mean", "consensus_mean", "approval_rate"):
        if row.get(field) is not None:
            return float(row[field])
    return None


@login_required
def project_dashboard(request: HttpRequest, project_id: str) -> HttpResponse:
    user = request_user(request)
    project, only = access_performance(user, project_id)
    if only is not None:
        raise PermissionDenied("The dashboard shows everyone's numbers; see My stats for yours.")
    window = selectors.parse_range(request.GET.get("from"), request.GET.get("to"))
    people = selectors.performance(project=project, group_by="labeler", window=window)
    for row in people:
        row["quality"] = _quality_of(row)
    days = selectors.performance(project=project, group_by="day", window=window, counts_only=True)
    consensus_bins = quality_selectors.consensus_histogram(project=project)
    benchmark_bins = selectors.benchmark_histogram(project=project)
    context = {
        "project": project,
        "window": window,
        "summary": selectors.summary(project=project, window=window, people=people),
        "people": people,
        "throughput": _throughput(days),
        "scatter": scatter([r for r in people if r["labels"]], "mean_seconds_per_label", "quality"),
        "consensus_bars": histogram_bars(consensus_bins),
        "benchmark_bars": histogram_bars(benchmark_bins),
        "from": request.GET.get("from", ""),
        "to": request.GET.get("to", ""),
    }
    return render(request, "analytics/project.html", context)


@login_required
def my_stats(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    window = selectors.parse_range(None, None)
    projects = []
    for project in projects_where(user, "label").order_by("name"):
        numbers = selectors.summary(project=project, window=window, only=user)
        projects.append({"project": project, "numbers": numbers})
    return render(request, "analytics/me.html", {"projects": projects})
