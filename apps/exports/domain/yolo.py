"""YOLO detection labels: one `labels/<stem>.txt` per image with `class cx cy w h` normalised to 0..1 by the image
size, and `data.yaml` naming the classes. Only boxes fit; polygons, other tools and classifications are dropped."""

from __future__ import annotations

import json
from collections.abc import Sequence

from apps.exports.domain.documents import Category, Shape


def class_names(categories: Sequence[Category]) -> list[str]:
    return [c.name for c in categories]


def _clamp(value: float) -> float:
    return min(max(value, 0.0), 1.0)


def label_text(shapes: Sequence[Shape], *, width: float, height: float, class_index: dict[str, int]) -> str:
    lines = []
    for shape in shapes:
        index = class_index.get(shape.schema_id)
        if index is None or shape.tool != "bbox":
            continue
        left, top, w, h = shape.box
        cx = _clamp((left + w / 2) / width)
        cy = _clamp((top + h / 2) / height)
        lines.append(f"{index} {cx:.6f} {cy:.6f} {_clamp(w / width):.6f} {_clamp(h / height):.6f}\n")
    return "".join(lines)


def data_yaml(names: Sequence[str]) -> str:
    """`data.yaml`: names are written as JSON strings (valid YAML flow scalars), so any name is quoted safely."""
    lines = ["path: .", "train: images", "val: images", f"nc: {len(names)}", "names:"]
    lines += [f"  {i}: {json.dumps(name, ensure_ascii=False)}" for i, name in enumerate(names)]
    return "\n".join(lines) + "\n"
