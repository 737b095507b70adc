"""Which rows go to experts: per row the lowest model confidence over its pre-labels and predictions; a row whose
lowest confidence is under the project's threshold gets an expert task, due `due_hours` from now."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any


def rows_to_route(minimums: Iterable[tuple[Any, float | None]], threshold: float | None) -> dict[Any, float]:
    """`{row: lowest confidence}` of the rows under the threshold (annotations without a confidence never route;
    a row reported by several sources keeps its lowest)."""
    if threshold is None:
        return {}
    routed: dict[Any, float] = {}
    for row, confidence in minimums:
        if confidence is None or confidence >= threshold:
            continue
        current = routed.get(row)
        if current is None or confidence < current:
            routed[row] = confidence
    return routed


def due_time(now: datetime, due_hours: int) -> datetime:
    return now + timedelta(hours=due_hours)


def is_overdue(due_at: datetime | None, now: datetime) -> bool:
    return due_at is not None and due_at < now
