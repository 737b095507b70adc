"""The `mask` tool in the validator: RLE, PNG (single-class and one colour per class), polygons; every rule."""

from __future__ import annotations

import base64
import io
import uuid
from typing import Any

import numpy as np
import pytest
from PIL import Image
from pycocotools import mask as cmask

from apps.ontologies.domain import compile_ontology, normalize_tree, validate_annotations, walk
from apps.ontologies.domain import rle as R

TREE, ERRORS = normalize_tree(
    {
        "tools": [
            {
                "name": "weed",
                "tool": "mask",
                "classifications": [
                    {"name": "stage", "type": "radio", "options": [{"value": "young"}, {"value": "old"}]}
                ],
            },
            {"name": "crop", "tool": "mask"},
            {"name": "box", "tool": "bbox"},
        ],
        "classifications": [],
    }
)
assert ERRORS == []
for _node in walk(TREE):
    _node.node["schema_id"] = str(uuid.uuid4())
COMPILED = compile_ontology(TREE)
H, W = 6, 8


def _mask() -> np.ndarray:
    m = np.zeros((H, W), np.uint8)
    m[1:4, 2:6] = 1
    m[2, 3] = 0  # a hole
    return m


def _png(array: np.ndarray, mode: str) -> str:
    buffer = io.BytesIO()
    Image.fromarray(array, mode).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def _validate(mask: Any, image_size: tuple[int, int] | None = (W, H), name: str = "crop") -> tuple[list, list]:
    return validate_annotations(COMPILED, [{"name": name, "mask": mask}], image_size=image_size)


def test_rle_is_normalized_to_the_compressed_string() -> None:
    m = _mask()
    coco = cmask.encode(np.asfortranarray(m))
    normalized, errors = _validate({"size": [H, W], "counts": coco["counts"].decode()})
    assert errors == []
    assert normalized[0]["tool"] == "mask"
    assert normalized[0]["mask"] == {"size": [H, W], "counts": coco["counts"].decode()}
    # Uncompressed counts (COCO's crowd form) are accepted and stored compressed.
    counts = R.encode(m).counts.tolist()
    normalized, errors = _validate({"size": [H, W], "counts": counts})
    assert errors == [] and normalized[0]["mask"]["counts"] == coco["counts"].decode()


def test_nested_classifications_on_a_mask() -> None:
    doc = R.encode(_mask()).document()
    normalized, errors = validate_annotations(
        COMPILED,
        [{"name": "weed", "mask": doc, "classifications": [{"name": "stage", "answer": {"name": "old"}}]}],
        image_size=(W, H),
    )
    assert errors == []
    assert normalized[0]["classifications"][0]["answer"]["name"] == "old"


def test_single_class_png_and_one_colour_per_class() -> None:
    m = _mask()
    gray = (m * 255).astype(np.uint8)
    normalized, errors = _validate({"png": _png(gray, "L")})
    assert errors == []
    assert np.array_equal(R.decode(R.from_document(normalized[0]["mask"])), m)
    rgb = np.zeros((H, W, 3), np.uint8)
    rgb[m == 1] = (255, 0, 0)
    rgb[5, 0:3] = (0, 200, 10)
    normalized, errors = validate_annotations(
        COMPILED,
        [
            {"name": "weed", "mask": {"png": _png(rgb, "RGB"), "color": "#FF0000"}},
            {"name": "crop", "mask": {"png": _png(rgb, "RGB"), "color": "#00c80a"}},
        ],
        image_size=(W, H),
    )
    assert errors == []
    assert np.array_equal(R.decode(R.from_document(normalized[0]["mask"])), m)
    crop = np.zeros((H, W), np.uint8)
    crop[5, 0:3] = 1
    assert np.array_equal(R.decode(R.from_document(normalized[1]["mask"])), crop)


def test_polygon_is_rasterised_as_coco_does() -> None:
    points = [{"x": 1, "y": 1}, {"x": 6, "y": 1}, {"x": 6, "y": 5}]
    normalized, errors = _validate({"polygon": points})
    assert errors == []
    coco = cmask.frPyObjects([[1, 1, 6, 1, 6, 5]], H, W)[0]
    assert normalized[0]["mask"]["counts"] == coco["counts"].decode()


@pytest.mark.parametrize(
    ("mask", "image_size", "message"),
    [
        (R.encode(np.zeros((H, W))).document(), (W, H), "empty"),
        ({"size": [H + 1, W], "counts": R.encode(np.ones((H + 1, W))).document()["counts"]}, (W, H), "image is"),
        ({"size": [H, W], "counts": "!!"}, (W, H), "alphabet"),
        ({"size": [H, W], "counts": "4"}, (W, H), "cover"),
        ({"png": "not base64!"}, (W, H), "base64"),
        ({"png": base64.b64encode(b"GIF89a").decode()}, (W, H), "not a PNG"),
        ({"png": _png(np.ones((H, W + 1), np.uint8) * 255, "L")}, (W, H), "but the image is"),
        ({"png": _png(np.ones((H, W), np.uint8) * 255, "L"), "color": "red"}, (W, H), "#rrggbb"),
        ({"polygon": [{"x": 1, "y": 1}, {"x": 2, "y": 2}]}, (W, H), "at least 3"),
        ({"polygon": [{"x": 1, "y": 1}, {"x": 5, "y": 1}, {"x": 5, "y": 5}]}, None, "image's size"),
        ({"polygon": [{"x": float("nan"), "y": 1}, {"x": 5, "y": 1}, {"x": 5, "y": 5}]}, (W, H), "finite"),
        ("RLE", (W, H), "A mask is"),
        ({"rle": "x"}, (W, H), "A mask is"),
    ],
)
def test_bad_masks_are_refused_with_a_reason(mask: Any, image_size: Any, message: str) -> None:
    normalized, errors = _validate(mask, image_size)
    assert normalized == [None]
    assert len(errors) == 1 and message in errors[0]["message"], errors
    assert errors[0]["path"] == "annotations[0].mask"


def test_mask_without_known_image_size_keeps_its_own_size() -> None:
    normalized, errors = _validate(R.encode(_mask()).document(), None)
    assert errors == [] and normalized[0]["mask"]["size"] == [H, W]


def test_a_box_tool_refuses_a_mask_and_a_mask_tool_refuses_a_box() -> None:
    _, errors = _validate({"top": 1, "left": 1, "height": 1, "width": 1}, name="box")
    assert "bbox" in errors[0]["message"]
    _, errors = validate_annotations(
        COMPILED, [{"name": "crop", "bbox": {"top": 1, "left": 1, "height": 1, "width": 1}}], image_size=(W, H)
    )
    assert "give `mask`" in errors[0]["message"]


def test_measures_for_the_annotation_row() -> None:
    doc = R.encode(_mask()).document()
    assert R.measures(doc) == {"x": 2, "y": 1, "width": 4, "height": 3, "area": 11}
