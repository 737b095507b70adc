"""Bars of a score histogram for the server-rendered charts (10 bins over [0, 1])."""

from __future__ import annotations

from typing import Any


def histogram_bars(histogram: list[int]) -> list[dict[str, Any]]:
    """Each bin's range, count and height as a percentage of the tallest bin."""
    top = max(histogram, default=0) or 1
    size = 1 / len(histogram) if histogram else 1.0
    return [
        {"low": round(i * size, 2), "high": round((i + 1) * size, 2), "count": n, "percent": round(100 * n / top)}
        for i, n in enumerate(histogram)
    ]
