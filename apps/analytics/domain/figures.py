"""Figures derived from the database's sums and counts: rates, per-hour speeds, costs, the finish projection."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


def ratio(part: float | int | None, whole: float | int | None) -> float | None:
    """part / whole, or None when there is nothing to divide by."""
    if part is None or not whole:
        return None
    return float(part) / float(whole)


def per_hundred(part: int, whole: int) -> float | None:
    """part per 100 of whole (e.g. issues per 100 labels)."""
    return 100.0 * part / whole if whole else None


def per_hour(count: int, seconds: float | None) -> float | None:
    """Items per hour of measured time."""
    if not count or not seconds:
        return None
    return count * 3600.0 / float(seconds)


def cost(seconds: float | None, hourly_rate: Decimal | float | None) -> float | None:
    """Money for the time at the member's hourly rate (None without a rate)."""
    if hourly_rate is None or seconds is None:
        return None
    return round(float(seconds) / 3600.0 * float(hourly_rate), 2)


@dataclass(frozen=True)
class Projection:
    remaining: int
    labels_per_day: float | None
    days_to_finish: float | None
    cost_to_finish: float | None


def projection(*, remaining: int, labels_recent: int, recent_days: int, cost_per_label: float | None) -> Projection:
    """Time and cost to finish the remaining queue at the pace of the last `recent_days` days."""
    pace = labels_recent / recent_days if recent_days > 0 and labels_recent > 0 else None
    days = remaining / pace if pace else (0.0 if remaining == 0 else None)
    money = round(remaining * cost_per_label, 2) if cost_per_label is not None else None
    return Projection(remaining=remaining, labels_per_day=pace, days_to_finish=days, cost_to_finish=money)
