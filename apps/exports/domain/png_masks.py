"""PNG masks per image: `class/<stem>.png` (each pixel the category id of the object painted there, 0 background),
`instance/<stem>.png` (each pixel the 1-based index of the object, 0 background) and `instance/<stem>.json` (the
legend of that image's objects); `legend.json` at the root names the categories.

Masks are decoded from their COCO RLE; polygons are rasterised as pycocotools does. Objects are painted in document
order (a later object covers an earlier one where they overlap; the legend's `area` is what stays visible, `mask_area`
the whole object). Class PNGs are 8-bit when every category id fits, else 16-bit; instance PNGs 8-bit up to 255
objects, else 16-bit. Boxes and other tools are not segmentation and are left out.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from apps.exports.domain.documents import Category, Shape
from apps.ontologies.domain import rle as R

SEGMENTATION_TOOLS = ("mask", "polygon")


def _png(array: np.ndarray[Any, Any]) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    if array.dtype == np.uint8:
        Image.fromarray(array, "L").save(buffer, format="PNG", optimize=False)
    else:
        Image.fromarray(array.astype(np.uint16), "I;16").save(buffer, format="PNG")
    return buffer.getvalue()


def _pixels(shape: Shape, height: int, width: int) -> np.ndarray[Any, Any] | None:
    if shape.mask is not None:
        rle = R.from_document(shape.mask)
        if (rle.height, rle.width) != (height, width):
            return None
        return R.decode(rle).astype(bool)
    if shape.tool == "polygon" and shape.points:
        xy = [v for point in shape.points for v in point]
        return R.decode(R.from_polygon(xy, height, width)).astype(bool)
    return None


def legend(categories: Sequence[Category]) -> dict[str, Any]:
    return {
        "background": 0,
        "categories": [
            {"id": c.id, "name": c.name, "schema_id": c.schema_id, "tool": c.tool}
            for c in categories
            if c.tool in SEGMENTATION_TOOLS
        ],
    }


def image_files(
    *,
    stem: str,
    row: Mapping[str, Any],
    shapes: Sequence[tuple[str, Shape]],
    categories: Mapping[str, Category],
) -> tuple[list[tuple[str, bytes]], int]:
    """The image's files and how many objects they hold. `shapes` are `(label id, shape)` in document order."""
    height, width = int(row["height"]), int(row["width"])
    wide_classes = max((c.id for c in categories.values()), default=0) > 255
    classes = np.zeros((height, width), dtype=np.uint16 if wide_classes else np.uint8)
    painted: list[tuple[np.ndarray[Any, Any], dict[str, Any]]] = []
    for label_id, shape in shapes:
        category = categories.get(shape.schema_id)
        if category is None or category.tool not in SEGMENTATION_TOOLS:
            continue
        pixels = _pixels(shape, height, width)
        if pixels is None:
            continue
        classes[pixels] = category.id
        entry = {
            "index": len(painted) + 1,
            "category_id": category.id,
            "name": category.name,
            "schema_id": shape.schema_id,
            "label_id": label_id,
            "mask_area": int(pixels.sum()),
            "attributes": shape.attributes,
        }
        painted.append((pixels, entry))
    instances = np.zeros((height, width), dtype=np.uint16 if len(painted) > 255 else np.uint8)
    for pixels, entry in painted:
        instances[pixels] = entry["index"]
    counts: list[int] = np.bincount(instances.ravel(), minlength=len(painted) + 1).tolist()
    for k, (_, entry) in enumerate(painted, start=1):
        entry["area"] = counts[k]
    document = {
        "data_row_id": str(row["id"]),
        "global_key": row["global_key"],
        "width": width,
        "height": height,
        "instances": [entry for _, entry in painted],
    }
    files = [
        (f"class/{stem}.png", _png(classes)),
        (f"instance/{stem}.png", _png(instances)),
        (f"instance/{stem}.json", json.dumps(document, ensure_ascii=False, indent=1).encode()),
    ]
    return files, len(painted)
