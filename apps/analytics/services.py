"""Writes of the performance rollup: dirty-day marks (left after commit by the services that change the figures),
the refresh of marked days (the worker's task), and the full rebuild of a project (command, benchmark).

Rollup writers of one project take a transaction-scoped advisory lock on PostgreSQL, so a rebuild and any number of
refresh workers never interleave their delete-and-insert of the same days; marks are claimed with
`DELETE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED) RETURNING`, so two workers never take the same mark and a
worker that fails gives its marks back (the transaction rolls back)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any

from django.db import connection, transaction
from django.db.models import Min
from django.utils import timezone

from apps.analytics import selectors
from apps.analytics.models import DirtyDay, PerformanceDaily, RollupDay
from apps.core.compiled import prepared_cursor
from apps.issues.models import Issue
from apps.labeling.models import Label, Project, Task
from apps.review.models import Review

CLAIM_BATCH = 50


def dirty_days_mark(*, project_id: Any, days: Iterable[date]) -> None:
    """Mark days of a project as changed since the rollup (one tiny insert; an existing mark is left alone). On
    PostgreSQL one statement, atomic by itself: it runs after every label submit, outside the submit's transaction."""
    wanted = sorted(set(days))
    if connection.vendor == "postgresql":
        with prepared_cursor(connection) as cursor:
            cursor.execute(
                f"INSERT INTO {DirtyDay._meta.db_table} (project_id, day) "
                "SELECT %s, unnest(%s::date[]) ON CONFLICT DO NOTHING",
                [project_id, wanted],
            )
        return
    DirtyDay.objects.bulk_create([DirtyDay(project_id=project_id, day=day) for day in wanted], ignore_conflicts=True)


def dirty_days_mark_on_commit(*, project_id: Any, moments: Iterable[datetime | None]) -> None:
    """After the caller's transaction commits, mark the days (in TIME_ZONE) of the given moments. On SQLite, inside
    the caller's transaction instead: writers are serialized there anyway, and a mark after the commit would be one
    more write transaction per label waiting for the single writer."""
    days = {timezone.localdate(moment) for moment in moments if moment is not None}
    if not days:
        return
    if connection.vendor == "sqlite" and connection.in_atomic_block:
        dirty_days_mark(project_id=project_id, days=days)
    else:
        transaction.on_commit(partial(dirty_days_mark, project_id=project_id, days=days))


def _lock_project(project_id: Any) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [f"analytics-rollup:{project_id}"])


def _claim(*, project_id: Any = None, before: date, limit: int | None) -> list[tuple[Any, date]]:
    """Delete and return marks of days before `before` (of one project, or any), skipping marks another transaction
    holds. Call inside a transaction: a rollback gives the marks back."""
    if connection.vendor == "postgresql":
        where = "day < %s"
        params: list[Any] = [before]
        if project_id is not None:
            where += " AND project_id = %s"
            params.append(project_id)
        limit_sql = ""
        if limit is not None:
            limit_sql = " ORDER BY id LIMIT %s"
            params.append(limit)
        sql = (
            "DELETE FROM analytics_dirtyday WHERE id IN (SELECT id FROM analytics_dirtyday "  # noqa: S608 - constants
            f"WHERE {where}{limit_sql} FOR UPDATE SKIP LOCKED) RETURNING project_id, day"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return [(row[0], row[1]) for row in cursor.fetchall()]
    marks = DirtyDay.objects.filter(day__lt=before)
    if project_id is not None:
        marks = marks.filter(project_id=project_id)
    picked = list(marks.order_by("id").values_list("id", "project_id", "day")[:limit])
    DirtyDay.objects.filter(id__in=[m[0] for m in picked]).delete()
    return [(m[1], m[2]) for m in picked]


def _store(project: Project, start: date, end: date, rows: list[dict[str, Any]]) -> None:
    """Replace the rollup of days [start, end) (the caller holds the project's rollup lock)."""
    PerformanceDaily.objects.filter(project=project, day__gte=start, day__lt=end).delete()
    PerformanceDaily.objects.bulk_create([PerformanceDaily(project=project, **row) for row in rows], batch_size=2000)
    now = timezone.now()
    days = [start + timedelta(days=i) for i in range((end - start).days)]
    RollupDay.objects.bulk_create(
        [RollupDay(project=project, day=day, computed_at=now) for day in days],
        update_conflicts=True,
        unique_fields=["project", "day"],
        update_fields=["computed_at"],
        batch_size=2000,
    )


def rollup_days_refresh(*, project: Project, days: Iterable[date]) -> int:
    """Recompute the given days of a project from the source tables. Returns the rows written."""
    written = 0
    with transaction.atomic():
        _lock_project(project.pk)
        for day in sorted(set(days)):
            rows = selectors.rollup_rows(project, day, day + timedelta(days=1))
            _store(project, day, day + timedelta(days=1), rows)
            written += len(rows)
    return written


def rollup_refresh_dirty(*, max_marks: int = 5000) -> int:
    """The worker's job: recompute every marked day that is over (today stays live), a batch of marks per
    transaction, projects in a fixed order (so two workers cannot deadlock on their locks). Returns days refreshed."""
    refreshed = 0
    while refreshed < max_marks:
        with transaction.atomic():
            claimed = _claim(before=timezone.localdate(), limit=CLAIM_BATCH)
            by_project: dict[Any, set[date]] = {}
            for project_id, day in claimed:
                by_project.setdefault(project_id, set()).add(day)
            for project_id in sorted(by_project, key=str):
                project = Project.objects.filter(pk=project_id).first()
                if project is not None:
                    rollup_days_refresh(project=project, days=by_project[project_id])
        refreshed += len(claimed)
        if len(claimed) < CLAIM_BATCH:
            break
    return refreshed


@dataclass(frozen=True)
class Rebuilt:
    days: int
    rows: int


def _first_day(project: Project) -> date | None:
    firsts = [
        Label.objects.filter(project=project).aggregate(m=Min("created_at"))["m"],
        Review.objects.filter(project=project).aggregate(m=Min("created_at"))["m"],
        Issue.objects.filter(project=project).aggregate(m=Min("created_at"))["m"],
        Task.objects.filter(project=project, done_at__isnull=False).aggregate(m=Min("done_at"))["m"],
    ]
    known = [timezone.localdate(moment) for moment in firsts if moment is not None]
    return min(known) if known else None


def rollup_rebuild(*, project: Project) -> Rebuilt:
    """Recompute the whole rollup of a project (every day before today) in one pass over its source tables, e.g.
    after writes that bypassed the services (SQL imports, admin edits) or when the rollup is first deployed."""
    today = timezone.localdate()
    with transaction.atomic():
        _lock_project(project.pk)
        _claim(project_id=project.pk, before=today, limit=None)
        first = _first_day(project)
        if first is None or first >= today:
            PerformanceDaily.objects.filter(project=project).delete()
            RollupDay.objects.filter(project=project).delete()
            return Rebuilt(days=0, rows=0)
        rows = selectors.rollup_rows(project, first, today)
        RollupDay.objects.filter(project=project, day__lt=first).delete()
        PerformanceDaily.objects.filter(project=project, day__lt=first).delete()
        _store(project, first, today, rows)
    return Rebuilt(days=(today - first).days, rows=len(rows))
