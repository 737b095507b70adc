"""Chart geometry for the server-rendered SVG charts: scale values into a view box; no Django, no JS needed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

WIDTH = 600.0
HEIGHT = 220.0
PAD = 30.0


def _scale(value: float, low: float, high: float, out_low: float, out_high: float) -> float:
    if high <= low:
        return (out_low + out_high) / 2
    return out_low + (value - low) / (high - low) * (out_high - out_low)


@dataclass(frozen=True)
class Series:
    name: str
    points: str  # "x,y x,y ..." for an SVG polyline


def line_chart(days: list[str], series: dict[str, list[float]]) -> dict[str, Any]:
    """Polylines of each series over the days, sharing one y axis from 0 to the largest value."""
    top = max((v for values in series.values() for v in values), default=0.0) or 1.0
    count = len(days)
    lines = []
    for name, values in series.items():
        coords = []
        for i, value in enumerate(values):
            x = _scale(i, 0, max(count - 1, 1), PAD, WIDTH - PAD) if count > 1 else WIDTH / 2
            y = _scale(value, 0, top, HEIGHT - PAD, PAD)
            coords.append(f"{x:.1f},{y:.1f}")
        lines.append(Series(name=name, points=" ".join(coords)))
    return {"width": WIDTH, "height": HEIGHT, "pad": PAD, "top": top, "series": lines, "days": days}


def scatter(points: list[dict[str, Any]], x_key: str, y_key: str) -> dict[str, Any]:
    """Points placed by x (seconds per label) and y (quality 0..1), plus the median lines' positions."""
    usable = [p for p in points if p.get(x_key) is not None and p.get(y_key) is not None]
    xs = sorted(float(p[x_key]) for p in usable)
    ys = sorted(float(p[y_key]) for p in usable)
    x_high = (xs[-1] * 1.1) if xs else 1.0
    placed = [
        {
            **p,
            "cx": round(_scale(float(p[x_key]), 0, x_high, PAD, WIDTH - PAD), 1),
            "cy": round(_scale(float(p[y_key]), 0, 1, HEIGHT - PAD, PAD), 1),
        }
        for p in usable
    ]
    x_median = median(xs)
    y_median = median(ys)
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "pad": PAD,
        "points": placed,
        "x_high": x_high,
        "x_median": x_median,
        "y_median": y_median,
        "x_median_at": round(_scale(x_median, 0, x_high, PAD, WIDTH - PAD), 1) if x_median is not None else None,
        "y_median_at": round(_scale(y_median, 0, 1, HEIGHT - PAD, PAD), 1) if y_median is not None else None,
    }


def median(values: list[float]) -> float | None:
    """The median of already sorted values (the mean of the middle two for an even count)."""
    if not values:
        return None
    middle = len(values) // 2
    if len(values) % 2:
        return values[middle]
    return (values[middle - 1] + values[middle]) / 2
