"""COCO detection results → prediction lines (the NDJSON shape of API.md), pure.

A COCO results file is `[{"image_id", "category_id", "bbox": [x, y, w, h], "score"}, ...]`: the format pycocotools,
Detectron2, MMDetection and YOLO's `save_json` write. Its ids point into the COCO ground truth the model was run
on, so the adapter needs two maps:

- images: `image_id` → the data row's global key. From the `images` list sent with the results
  (`{"images": [...], "categories": [...], "annotations": [...results]}`, e.g. the platform's own COCO export, whose
  `file_name` is the global key), else a string `image_id` is taken as the global key itself.
- categories: `category_id` → the ontology feature (tool) name. From the `categories` sent with the results, else
  the run's `config.coco_categories` (`{"1": "car", ...}`).

Each result becomes one line `{"name", "bbox": {"left", "top", "width", "height"}, "confidence", "data_row":
{"global_key"}}`; a result that cannot be mapped is reported with its position (1-based `line`, like the NDJSON
importer's errors) and the rest go on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

MAX_RESULTS = 2_000_000


class CocoFormatError(ValueError):
    """The body as a whole is not COCO results (the caller answers 400 with this message)."""


@dataclass
class Converted:
    lines: list[dict[str, Any]] = field(default_factory=list)
    line_numbers: list[int] = field(default_factory=list)  # the result position (1-based) of each line
    errors: list[dict[str, Any]] = field(default_factory=list)


def _id_key(value: Any) -> str | None:
    """Ids compared as text (JSON keys are strings): 3, 3.0 and "3" name the same image or category."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        text = value.strip()
        try:
            number = float(text)
        except ValueError:
            return text or None
        return str(int(number)) if math.isfinite(number) and number.is_integer() else text
    return None


def _map(entries: Any, name_fields: tuple[str, ...], what: str) -> dict[str, str]:
    if entries is None:
        return {}
    if not isinstance(entries, list):
        raise CocoFormatError(f"`{what}` must be a list of objects with an id.")
    mapping: dict[str, str] = {}
    for position, entry in enumerate(entries, start=1):
        key = _id_key(entry.get("id")) if isinstance(entry, dict) else None
        name = (
            next((entry[f] for f in name_fields if isinstance(entry.get(f), str) and entry[f]), None) if key else None
        )
        if key is None or name is None:
            raise CocoFormatError(f"`{what}`[{position}] needs an id and a {' or '.join(name_fields)}.")
        mapping[key] = name
    return mapping


def split_body(body: Any) -> tuple[list[Any], dict[str, str], dict[str, str]]:
    """(results, images map, categories map) of a results array or of an object with `annotations`."""
    if isinstance(body, list):
        results, images, categories = body, {}, {}
    elif isinstance(body, dict) and isinstance(body.get("annotations"), list):
        results = body["annotations"]
        images = _map(body.get("images"), ("global_key", "file_name"), "images")
        categories = _map(body.get("categories"), ("name",), "categories")
    else:
        raise CocoFormatError(
            "Expected a COCO results array [{image_id, category_id, bbox, score}, ...] or an object with "
            "`annotations` (the results) and optionally `images` and `categories`."
        )
    if len(results) > MAX_RESULTS:
        raise CocoFormatError(f"At most {MAX_RESULTS} results per file.")
    return results, images, categories


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def convert(results: list[Any], *, images: dict[str, str], categories: dict[str, str]) -> Converted:
    """Map every result; `images`/`categories` keys are ids as text (see `_id_key`)."""
    out = Converted()

    def fail(line: int, message: str) -> None:
        out.errors.append({"line": line, "message": message})

    for line, result in enumerate(results, start=1):
        if not isinstance(result, dict):
            fail(line, "A result must be an object {image_id, category_id, bbox, score}.")
            continue
        image = _id_key(result.get("image_id"))
        if image is None:
            fail(line, "image_id is missing or not an id.")
            continue
        if images:
            global_key = images.get(image)
            if global_key is None:
                fail(line, f"image_id {image} is not in the images list.")
                continue
        elif isinstance(result.get("image_id"), str):
            global_key = result["image_id"].strip()  # as written: "0001" is not the key "1"
        else:
            fail(line, f"image_id {image}: send the COCO `images` list (id → file_name) with the results.")
            continue
        category = _id_key(result.get("category_id"))
        name = categories.get(category) if category is not None else None
        if name is None:
            fail(
                line, f"category_id {result.get('category_id')!r} has no feature: map it in the run's COCO categories."
            )
            continue
        bbox = result.get("bbox")
        numbers = [_number(v) for v in bbox] if isinstance(bbox, list) and len(bbox) == 4 else None
        if numbers is None or any(v is None for v in numbers):
            fail(line, "bbox must be [x, y, width, height] numbers.")
            continue
        x, y, w, h = numbers  # type: ignore[misc]
        score = _number(result.get("score"))
        if score is None or not 0.0 <= score <= 1.0:
            fail(line, "score must be a number from 0 to 1.")
            continue
        out.lines.append(
            {
                "name": name,
                "bbox": {"left": x, "top": y, "width": w, "height": h},
                "confidence": score,
                "data_row": {"global_key": global_key},
            }
        )
        out.line_numbers.append(line)
    return out


def categories_from_config(config: Any) -> dict[str, str]:
    """The run's `config.coco_categories` as id text → feature name (anything else there is ignored)."""
    raw = config.get("coco_categories") if isinstance(config, dict) else None
    if not isinstance(raw, dict):
        return {}
    mapping = {}
    for key, value in raw.items():
        id_text = _id_key(key)
        if id_text is not None and isinstance(value, str) and value:
            mapping[id_text] = value
    return mapping


def parse_category_text(text: str) -> tuple[dict[str, str], list[str]]:
    """`1 car`, `2: person`, `3=bike` — one per line — as a categories map, and the lines that are not."""
    mapping: dict[str, str] = {}
    bad: list[str] = []
    for raw in (text or "").splitlines():
        line = raw.strip()
        if not line:
            continue
        for separator in (":", "=", "\t", " "):
            head, found, tail = line.partition(separator)
            if found and head.strip().isdigit() and tail.strip():
                mapping[str(int(head.strip()))] = tail.strip()
                break
        else:
            bad.append(line)
    return mapping, bad
