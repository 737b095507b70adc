"""django-q2 tasks of the analytics app."""

from __future__ import annotations

from apps.analytics import services


def refresh_dirty_days() -> int:
    """Every minute (a django-q2 Schedule): recompute the rollup of the days marked changed. Returns days done."""
    return services.rollup_refresh_dirty()
