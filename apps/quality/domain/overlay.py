"""Shapes of a label document for the "all labels overlaid" page: plain coordinates per annotation, no Django."""

from __future__ import annotations

from typing import Any

PALETTE = ("#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6", "#9a6324")


def overlay_shapes(document: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One entry per drawable annotation: {"kind", "name", and rect x/y/w/h | points "x,y x,y" | cx/cy | span}."""
    shapes: list[dict[str, Any]] = []
    for item in document:
        tool = item.get("tool")
        name = str(item.get("name", ""))
        if tool == "bbox":
            box = item["bbox"]
            shapes.append(
                {"kind": "bbox", "name": name, "x": box["left"], "y": box["top"], "w": box["width"], "h": box["height"]}
            )
        elif tool in ("polygon", "polyline"):
            points = item["polygon"] if tool == "polygon" else item["line"]
            shapes.append({"kind": tool, "name": name, "points": " ".join(f"{p['x']},{p['y']}" for p in points)})
        elif tool == "point":
            shapes.append({"kind": "point", "name": name, "cx": item["point"]["x"], "cy": item["point"]["y"]})
        elif tool == "ner":
            shapes.append({"kind": "ner", "name": name, **item["location"]})
    return shapes


def answers(document: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """Top-level classification answers as (question, answer text)."""
    out: list[tuple[str, str]] = []
    for item in document:
        if item.get("tool") or "answer" not in item:
            continue
        answer = item["answer"]
        if isinstance(answer, dict):
            text = str(answer.get("name", ""))
        elif isinstance(answer, list):
            text = ", ".join(str(a.get("name", "")) for a in answer if isinstance(a, dict))
        else:
            text = str(answer)
        out.append((str(item.get("name", "")), text))
    return out
