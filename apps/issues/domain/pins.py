"""Pins of an issue on an object of a label: reading the reference the client sends, the object's geometry, and the
region of the image a crop shows around it. Pure: no Django."""

from __future__ import annotations

import math
from typing import Any

GEOMETRY_KEYS = ("bbox", "polygon", "line", "point")


class PinError(ValueError):
    pass


def parse_object_ref(value: Any) -> tuple[int, str | None]:
    """`annotation` of the API: an index into the label (the older form), or `{"index": int, "schema_id": str}`."""
    if isinstance(value, dict):
        if not set(value) <= {"index", "schema_id"} or "index" not in value:
            raise PinError('{"index": int, "schema_id": feature id} or an index.')
        index, schema_id = value["index"], value.get("schema_id")
        if schema_id is not None and (not isinstance(schema_id, str) or len(schema_id) > 64):
            raise PinError("schema_id is a feature id.")
    else:
        index, schema_id = value, None
    if isinstance(index, bool) or not isinstance(index, int) or index < 0:
        raise PinError("An annotation index from 0.")
    return index, schema_id


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _point(value: Any) -> dict[str, float] | None:
    if isinstance(value, dict) and _number(value.get("x")) and _number(value.get("y")):
        return {"x": float(value["x"]), "y": float(value["y"])}
    return None


def object_geometry(item: Any) -> dict[str, Any] | None:
    """The drawable part of an annotation (image pixels), or None (a classification, a text span, odd data)."""
    if not isinstance(item, dict):
        return None
    box = item.get("bbox")
    if isinstance(box, dict) and all(_number(box.get(k)) for k in ("top", "left", "height", "width")):
        return {"bbox": {k: float(box[k]) for k in ("top", "left", "height", "width")}}
    for key in ("polygon", "line"):
        points = item.get(key)
        if isinstance(points, list) and points:
            parsed = [_point(p) for p in points[:2000]]
            if all(p is not None for p in parsed):
                return {key: parsed}
    point = _point(item.get("point"))
    return {"point": point} if point else None


def geometry_bounds(geometry: dict[str, Any]) -> tuple[float, float, float, float]:
    """(left, top, right, bottom) of a geometry from `object_geometry`."""
    if "bbox" in geometry:
        b = geometry["bbox"]
        return b["left"], b["top"], b["left"] + b["width"], b["top"] + b["height"]
    points = geometry.get("polygon") or geometry.get("line") or [geometry["point"]]
    xs, ys = [p["x"] for p in points], [p["y"] for p in points]
    return min(xs), min(ys), max(xs), max(ys)


def crop_region(
    *,
    image_size: tuple[int, int],
    geometry: dict[str, Any] | None,
    point: tuple[float, float] | None,
    min_side: float = 96.0,
    margin: float = 0.35,
) -> tuple[int, int, int, int] | None:
    """The part of the image a crop shows: the object (or the pinned point) with a margin around it, at least
    `min_side` pixels a side when the image allows, inside the image. None when there is nothing to show."""
    width, height = image_size
    if geometry is not None:
        x0, y0, x1, y1 = geometry_bounds(geometry)
    elif point is not None:
        x0, y0, x1, y1 = point[0], point[1], point[0], point[1]
    else:
        return None
    pad_x = max((x1 - x0) * margin, (min_side - (x1 - x0)) / 2, 0)
    pad_y = max((y1 - y0) * margin, (min_side - (y1 - y0)) / 2, 0)
    box = [x0 - pad_x, y0 - pad_y, x1 + pad_x, y1 + pad_y]
    # Shift back inside the image before clamping, so a pin near an edge keeps its context on the other side.
    for low, high, limit in ((0, 2, width), (1, 3, height)):
        if box[low] < 0:
            box[high] -= box[low]
            box[low] = 0
        if box[high] > limit:
            box[low] -= box[high] - limit
            box[high] = limit
        box[low] = max(box[low], 0)
    left, top = math.floor(box[0]), math.floor(box[1])
    right, bottom = math.ceil(box[2]), math.ceil(box[3])
    if right - left < 1 or bottom - top < 1:
        return None
    return left, top, right, bottom
