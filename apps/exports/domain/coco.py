"""COCO instances: categories from the ontology, one image per data row, boxes, polygons and masks (`segmentation` as
COCO RLE `{"size": [h, w], "counts": "..."}`, `area` its pixel count, `bbox` its tight box) as annotations.

Written in pieces so a file of any size streams: `header()`, then the images (`image()` objects joined by commas),
`middle()`, the annotations, `footer()`. Classification answers go into `attributes` (top-level ones on the image,
a tool's nested ones on its annotation)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from apps.exports.domain.documents import Category, Shape, polygon_area


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def header(*, info: Mapping[str, Any], categories: Sequence[Category]) -> str:
    cats = [
        {"id": c.id, "name": c.name, "supercategory": "", "schema_id": c.schema_id, "tool": c.tool} for c in categories
    ]
    return f'{{"info":{_dumps(info)},"licenses":[],"categories":{_dumps(cats)},"images":['


def middle() -> str:
    return '],"annotations":['


def footer() -> str:
    return "]}"


def image(*, image_id: int, row: Mapping[str, Any], answers: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": image_id,
        "file_name": row["global_key"],
        "width": row.get("width") or 0,
        "height": row.get("height") or 0,
        "coco_url": row.get("row_data", ""),
        "data_row_id": str(row["id"]),
        "global_key": row["global_key"],
        "external_id": row.get("external_id", ""),
        "attributes": dict(answers),
    }


def _r(value: float) -> float:
    return round(value, 3)


def annotation(*, annotation_id: int, image_id: int, shape: Shape, category: Category, label_id: str) -> dict[str, Any]:
    left, top, width, height = shape.box
    segmentation: Any
    if shape.tool == "polygon":
        segmentation = [[_r(v) for point in shape.points for v in point]]
        area = polygon_area(shape.points)
    elif shape.mask is not None:  # COCO RLE, as pycocotools reads it; area = the pixel count
        segmentation = shape.mask
        area = float(shape.area or 0)
    else:
        segmentation = []
        area = width * height
    return {
        "id": annotation_id,
        "image_id": image_id,
        "category_id": category.id,
        "bbox": [_r(left), _r(top), _r(width), _r(height)],
        "area": _r(area),
        "segmentation": segmentation,
        "iscrowd": 0,
        "schema_id": shape.schema_id,
        "label_id": label_id,
        "attributes": shape.attributes,
    }


def _num(value: float) -> str:
    rounded = round(value, 3)
    return str(int(rounded)) if rounded == int(rounded) else repr(rounded)


def annotation_json(*, annotation_id: int, image_id: int, shape: Shape, category: Category, label_id: str) -> str:
    """`annotation(...)` encoded directly (the hot loop of a COCO export: no dict, one format per annotation)."""
    left, top, width, height = shape.box
    if shape.tool == "polygon":
        segmentation = "[[" + ",".join(_num(v) for point in shape.points for v in point) + "]]"
        area = polygon_area(shape.points)
    elif shape.mask is not None:
        segmentation = _dumps(shape.mask)
        area = float(shape.area or 0)
    else:
        segmentation = "[]"
        area = width * height
    attributes = _dumps(shape.attributes) if shape.attributes else "{}"
    return (
        f'{{"id":{annotation_id},"image_id":{image_id},"category_id":{category.id},'
        f'"bbox":[{_num(left)},{_num(top)},{_num(width)},{_num(height)}],"area":{_num(area)},'
        f'"segmentation":{segmentation},"iscrowd":0,"schema_id":{_dumps(shape.schema_id)},'
        f'"label_id":{_dumps(label_id)},"attributes":{attributes}}}'
    )


def join(objects: Sequence[Mapping[str, Any]]) -> str:
    """Objects as the comma-separated inside of a JSON array (a part of one)."""
    return ",".join(_dumps(o) for o in objects)
