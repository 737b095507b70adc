"""Reading a COCO instances file as ground truth: each COCO annotation becomes one or more annotations in the API
format (boxes, polygons, masks; `attributes` become classification answers, `"a.b"` keys answering classifications
nested under the chosen option of `a`). Pure: the ontology validator checks the result."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from apps.core.domain.numbers import is_finite_number


class CocoImportError(ValueError):
    pass


@dataclass
class CocoFile:
    images: dict[Any, str]  # COCO image id → file_name
    categories: dict[Any, str]  # COCO category id → name
    annotations: list[Any]
    image_errors: list[dict[str, Any]] = field(default_factory=list)


def _key(value: Any) -> Any:
    return value if isinstance(value, int | str) and not isinstance(value, bool) else None


def read_coco(body: Any) -> CocoFile:
    """The file's images, categories and raw annotations. A body that is not a COCO instances object raises."""
    if not isinstance(body, Mapping):
        raise CocoImportError("A COCO instances file is a JSON object.")
    for part in ("images", "categories", "annotations"):
        if not isinstance(body.get(part), list):
            raise CocoImportError(f"{part!r} must be a list.")
    images: dict[Any, str] = {}
    errors: list[dict[str, Any]] = []
    for index, image in enumerate(body["images"]):
        key = _key(image.get("id")) if isinstance(image, Mapping) else None
        name: Any = image.get("file_name") if isinstance(image, Mapping) else None
        if key is None or not isinstance(name, str) or not name:
            errors.append({"image": index, "message": "An image needs an id and a file_name."})
        elif key in images:
            errors.append({"image": index, "message": f"Duplicate image id {key!r}."})
        else:
            images[key] = name
    categories: dict[Any, str] = {}
    for category in body["categories"]:
        key = _key(category.get("id")) if isinstance(category, Mapping) else None
        name = category.get("name") if isinstance(category, Mapping) else None
        if key is None or not isinstance(name, str):
            raise CocoImportError("Every category needs an id and a name.")
        categories[key] = name
    return CocoFile(images=images, categories=categories, annotations=body["annotations"], image_errors=errors)


def _number(value: Any) -> bool:
    return is_finite_number(value)


def attributes_to_classifications(attributes: Mapping[str, Any], specs: Sequence[Mapping[str, Any]]) -> list[Any]:
    by_name = {spec.get("name"): spec for spec in specs}
    out: list[Any] = []
    for name, value in attributes.items():
        if "." in name:
            continue
        prefix = f"{name}."
        nested = {k[len(prefix) :]: v for k, v in attributes.items() if k.startswith(prefix)}
        spec = by_name.get(name, {})
        kind = spec.get("type")
        if kind == "text":
            out.append({"name": name, "answer": value})
        elif kind == "checklist" or isinstance(value, list):
            values = value if isinstance(value, list) else [value]
            out.append({"name": name, "answer": [{"name": v} for v in values]})
        else:
            answer: dict[str, Any] = {"name": value}
            option = next((o for o in spec.get("options") or [] if o.get("value") == value), None)
            if nested:
                answer["classifications"] = attributes_to_classifications(
                    nested, (option or {}).get("classifications") or []
                )
            out.append({"name": name, "answer": answer})
    return out


def to_annotations(raw: Any, *, category: str, tool: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """One COCO annotation as API annotations (a box, or one polygon per segmentation ring). Raises with a message
    for what cannot be read; geometry and answers are then checked by the ontology validator."""
    if tool is None:
        raise CocoImportError(f"Category {category!r} is not a tool of the project's ontology.")
    attributes = raw.get("attributes") or {}
    if not isinstance(attributes, Mapping):
        raise CocoImportError("attributes must be an object.")
    classifications = attributes_to_classifications(attributes, tool.get("classifications") or [])
    extra: dict[str, Any] = {"classifications": classifications} if classifications else {}
    kind = tool.get("tool")
    if kind == "bbox":
        bbox = raw.get("bbox")
        if not isinstance(bbox, list) or len(bbox) != 4 or not all(_number(v) for v in bbox):
            raise CocoImportError("bbox must be [x, y, width, height] numbers.")
        x, y, w, h = bbox
        return [{"name": category, "bbox": {"left": x, "top": y, "width": w, "height": h}, **extra}]
    if kind == "polygon":
        segmentation = raw.get("segmentation")
        if isinstance(segmentation, Mapping):
            raise CocoImportError("RLE segmentations are not supported; give polygons.")
        if not isinstance(segmentation, list) or not segmentation:
            raise CocoImportError("segmentation must be a list of polygons [x1, y1, x2, y2, ...].")
        out = []
        for ring in segmentation:
            if not isinstance(ring, list) or len(ring) < 6 or len(ring) % 2 or not all(_number(v) for v in ring):
                raise CocoImportError("A polygon is [x1, y1, x2, y2, ...] with at least 3 points.")
            points = [{"x": ring[i], "y": ring[i + 1]} for i in range(0, len(ring), 2)]
            out.append({"name": category, "polygon": points, **extra})
        return out
    if kind == "mask":
        return [{"name": category, "mask": _mask_segmentation(raw.get("segmentation")), **extra}]
    raise CocoImportError(f"Tool {category!r} is a {kind}; COCO ground truth holds boxes, polygons and masks.")


def _mask_segmentation(segmentation: Any) -> dict[str, Any]:
    """A mask tool's COCO segmentation: RLE (compressed or uncompressed counts) as is, polygon rings rasterised
    together into one mask (the validator rasterises them at the row's size, as pycocotools does)."""
    if isinstance(segmentation, Mapping):
        return dict(segmentation)
    if not isinstance(segmentation, list) or not segmentation:
        raise CocoImportError("segmentation must be RLE {size, counts} or a list of polygons [x1, y1, ...].")
    rings = []
    for ring in segmentation:
        if not isinstance(ring, list) or len(ring) < 6 or len(ring) % 2 or not all(_number(v) for v in ring):
            raise CocoImportError("A polygon is [x1, y1, x2, y2, ...] with at least 3 points.")
        rings.append([{"x": ring[i], "y": ring[i + 1]} for i in range(0, len(ring), 2)])
    return {"polygon": rings}
