"""SVG geometry for the model run page (pure: numbers in, coordinates and labels out; templates escape text)."""

from __future__ import annotations

from typing import Any

WIDTH = 320
HEIGHT = 200
PAD = 30


def heat_map(labels: list[str], matrix: list[list[int]], cell: int = 28) -> dict[str, Any]:
    """Cells coloured by their share of the row (ground-truth class); numbers printed in each cell."""
    n = len(labels)
    cells = []
    for i, row in enumerate(matrix):
        total = sum(row) or 1
        for j, value in enumerate(row):
            share = value / total
            cells.append(
                {
                    "x": j * cell,
                    "y": i * cell,
                    "value": value,
                    "opacity": round(0.08 + 0.92 * share, 3) if value else 0.0,
                    "row": labels[i],
                    "col": labels[j],
                    "diagonal": i == j and i < n - 1,
                }
            )
    return {"cells": cells, "size": n * cell, "cell": cell, "labels": labels, "offset": 110}


def pr_curves(curves: list[dict[str, Any]], recall: list[float], palette: list[str]) -> dict[str, Any]:
    """One polyline per class: precision (y) against recall (x) on a WIDTH×HEIGHT plot."""
    lines = []
    for n, curve in enumerate(curves):
        points = [
            f"{PAD + r * (WIDTH - PAD):.1f},{(HEIGHT - PAD) * (1 - p):.1f}"
            for r, p in zip(recall, curve["precision"], strict=False)
            if p is not None
        ]
        if points:
            lines.append(
                {
                    "name": curve["name"],
                    "points": " ".join(points),
                    "color": palette[n % len(palette)],
                    "ap": curve["ap"],
                }
            )
    return {"lines": lines, "width": WIDTH, "height": HEIGHT, "pad": PAD}


def histogram(edges: list[float], counts: list[int]) -> dict[str, Any]:
    top = max(counts, default=0) or 1
    n = len(counts) or 1
    bar = (WIDTH - PAD) / n
    bars = []
    for i, count in enumerate(counts):
        h = (HEIGHT - PAD) * count / top
        bars.append(
            {
                "x": round(PAD + i * bar, 2),
                "y": round(HEIGHT - PAD - h, 2),
                "w": round(bar - 1, 2),
                "h": round(h, 2),
                "count": count,
                "lo": edges[i],
                "hi": edges[i + 1],
            }
        )
    return {"bars": bars, "width": WIDTH, "height": HEIGHT, "pad": PAD, "top": top}
