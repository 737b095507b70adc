"""Periodic labeling upkeep, run by django-q2."""

from __future__ import annotations

from apps.labeling.services import leases_release_expired


def release_expired_leases() -> int:
    """Return expired leases to the queue so overviews count them as `to_label` (claims take them anyway)."""
    return leases_release_expired()
