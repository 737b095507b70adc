"""What the diagnostics galleries draw over a row's image: boxes and polygons as SVG shapes, masks as one translucent
PNG per side (ground truth in GT_COLOR, predictions in PRED_COLOR), rendered here from the RLE runs
(`domain/mask_overlay.py`) and inlined as a data URI, so the page needs no script and no extra request."""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from typing import Any

from apps.diagnostics.domain.mask_overlay import overlay_rgba
from apps.ontologies.domain import rle as R

GT_COLOR = "#16a34a"
PRED_COLOR = "#f97316"


def _rgb(color: str) -> tuple[int, int, int]:
    n = int(color.lstrip("#"), 16)
    return (n >> 16) & 255, (n >> 8) & 255, n & 255


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number == number and abs(number) != float("inf") else None


def shape(annotation: Any) -> tuple[str, Any] | None:
    """`("box", (x, y, w, h))`, `("polygon", "x,y x,y ...")` or `("mask", RLE)` of a stored annotation, else None
    (classifications, other tools, malformed geometry)."""
    if not isinstance(annotation, dict):
        return None
    box = annotation.get("bbox")
    if isinstance(box, dict):
        values = [_number(box.get(k)) for k in ("left", "top", "width", "height")]
        return ("box", tuple(values)) if all(v is not None for v in values) else None
    polygon = annotation.get("polygon")
    if isinstance(polygon, list) and len(polygon) >= 3:
        points = [(_number(p.get("x")), _number(p.get("y"))) for p in polygon if isinstance(p, dict)]
        if len(points) == len(polygon) and all(x is not None and y is not None for x, y in points):
            return "polygon", " ".join(f"{x:g},{y:g}" for x, y in points)
        return None
    mask = annotation.get("mask")
    if isinstance(mask, dict):
        try:
            return "mask", R.from_document(mask)
        except R.RLEError:
            return None
    return None


def mask_layer(masks: Sequence[R.RLE], height: int, width: int, color: str) -> dict[str, Any] | None:
    """The masks of one side as `{"uri": "data:image/png;base64,...", "width", "height"}` (the raster covers the
    image's `width` × `height`), or None without masks of that size."""
    from PIL import Image  # only rows with masks need it

    if not any((m.height, m.width) == (height, width) for m in masks):
        return None
    rgba = overlay_rgba(masks, height, width, _rgb(color))
    buffer = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buffer, format="PNG")
    uri = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
    return {"uri": uri, "width": width, "height": height}


def side(annotations: Sequence[Any], scores: Sequence[float | None] | None = None) -> dict[str, Any]:
    """One side of a row: `boxes` and `polygons` (`{"name", "box"|"points", "score"?}`) and its masks (RLEs)."""
    out: dict[str, Any] = {"boxes": [], "polygons": [], "masks": [], "mask_names": []}
    for n, annotation in enumerate(annotations):
        found = shape(annotation)
        if found is None:
            continue
        kind, value = found
        item: dict[str, Any] = {"name": annotation.get("name", ""), "score": scores[n] if scores is not None else None}
        if kind == "box":
            out["boxes"].append({**item, "box": value})
        elif kind == "polygon":
            out["polygons"].append({**item, "points": value})
        else:
            out["masks"].append(value)
            out["mask_names"].append(item["name"])
    return out


def finish(entry: dict[str, Any], ground_truth: dict[str, Any], predictions: dict[str, Any]) -> dict[str, Any]:
    """The gallery entry of a row: its image size (the row's, else its masks'), shapes, and one mask layer per side."""
    row = entry["data_row"]
    sizes = [(m.height, m.width) for m in ground_truth["masks"] + predictions["masks"]]
    height, width = (row.height, row.width) if row.width and row.height else (sizes[0] if sizes else (1000, 1000))
    entry.update(
        {
            "width": width,
            "height": height,
            "ground_truth": ground_truth["boxes"],
            "predictions": predictions["boxes"],
            "gt_polygons": ground_truth["polygons"],
            "pred_polygons": predictions["polygons"],
            "gt_mask": mask_layer(ground_truth["masks"], height, width, GT_COLOR),
            "pred_mask": mask_layer(predictions["masks"], height, width, PRED_COLOR),
            "mask_names": sorted(set(ground_truth["mask_names"] + predictions["mask_names"])),
        }
    )
    return entry
