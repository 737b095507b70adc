"""Reading normalized label documents (the stored `Label.annotations`) for the image formats. Pure."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from apps.ontologies.domain.rle import measures


@dataclass(frozen=True)
class Category:
    """A tool of the ontology version as a class of the image formats. `id` comes from the tool's position in the
    version's tool list (1-based), so it is the same in every export of that version."""

    id: int
    name: str
    schema_id: str
    tool: str


def categories(tree: Mapping[str, Any], tools: Iterable[str] = ("bbox", "polygon", "mask")) -> list[Category]:
    wanted = set(tools)
    return [
        Category(id=position, name=str(tool["name"]), schema_id=str(tool["schema_id"]), tool=str(tool["tool"]))
        for position, tool in enumerate(tree.get("tools") or [], start=1)
        if tool.get("tool") in wanted
    ]


def answer_value(answer: Any) -> Any:
    """An answer as a plain value: radio → option name, checklist → list of names, text → the text."""
    if isinstance(answer, list):
        return [option.get("name") for option in answer if isinstance(option, Mapping)]
    if isinstance(answer, Mapping):
        return answer.get("name")
    return answer


def flatten_classifications(items: Sequence[Mapping[str, Any]] | None, prefix: str = "") -> dict[str, Any]:
    """Classification answers as `{"kind": "ambulance", "kind.lights_on": "yes"}` (nested answers by path)."""
    out: dict[str, Any] = {}
    for item in items or []:
        if "answer" not in item:
            continue
        key = f"{prefix}{item.get('name', '')}"
        answer = item["answer"]
        out[key] = answer_value(answer)
        options = answer if isinstance(answer, list) else [answer] if isinstance(answer, Mapping) else []
        for option in options:
            nested = option.get("classifications") if isinstance(option, Mapping) else None
            if nested:
                out.update(flatten_classifications(nested, f"{key}."))
    return out


@dataclass(frozen=True)
class Shape:
    schema_id: str
    name: str
    tool: str
    # bbox: (left, top, width, height); polygon: the bounding box of its points.
    box: tuple[float, float, float, float]
    points: tuple[tuple[float, float], ...]  # polygon vertices, empty for boxes
    attributes: dict[str, Any]
    # mask: the COCO RLE `{"size", "counts"}` and its pixel count (`box` is its tight bounding box)
    mask: dict[str, Any] | None = None
    area: float | None = None


def shapes_and_answers(documents: Iterable[Sequence[Mapping[str, Any]]]) -> tuple[list[Shape], dict[str, Any]]:
    """Boxes, polygons and masks of label documents (in order) plus their top-level classification answers. Other tools
    (polylines, points, NER spans) are not shapes of the image formats and are left out."""
    shapes: list[Shape] = []
    answers: dict[str, Any] = {}
    for document in documents:
        for item in document:
            tool = item.get("tool")
            if "keyframes" in item:
                continue  # a video track (keyframes, no image shape): `exports/video` writes those
            if tool is None and "answer" in item:
                answers.update(flatten_classifications([item]))
                continue
            if tool == "bbox":
                bbox = item["bbox"]
                box = (float(bbox["left"]), float(bbox["top"]), float(bbox["width"]), float(bbox["height"]))
                points: tuple[tuple[float, float], ...] = ()
            elif tool == "polygon":
                points = tuple((float(p["x"]), float(p["y"])) for p in item["polygon"])
                xs = [p[0] for p in points]
                ys = [p[1] for p in points]
                box = (min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys))
            elif tool == "mask":
                figures = measures(item["mask"])
                box = (figures["x"], figures["y"], figures["width"], figures["height"])
                points = ()
            else:
                continue
            shapes.append(
                Shape(
                    schema_id=str(item.get("schema_id", "")),
                    name=str(item.get("name", "")),
                    tool=tool,
                    box=box,
                    points=points,
                    attributes=flatten_classifications(item.get("classifications")),
                    mask={"size": item["mask"]["size"], "counts": item["mask"]["counts"]} if tool == "mask" else None,
                    area=figures["area"] if tool == "mask" else None,
                )
            )
    return shapes, answers


def polygon_area(points: Sequence[tuple[float, float]]) -> float:
    """Shoelace formula."""
    total = 0.0
    count = len(points)
    for i in range(count):
        x1, y1 = points[i]
        x2, y2 = points[(i + 1) % count]
        total += x1 * y2 - x2 * y1
    return abs(total) / 2.0
