"""The reference model: a classical detector and an embedder, numpy + scipy only (no weights, nothing downloaded).

Detector: the street scenes of the demo (apps/datasets/demo_scenes.py) are horizontal bands (road, sidewalks) seen
from the kerb, so each image row's median colour is its background. Pixels far from it are foreground; a morphological
opening removes lane paint and noise, a closing joins the parts of a vehicle; connected components
(`scipy.ndimage.label`) become boxes. Wide components are `vehicle`, tall ones `person`; the confidence grows with
how much of the box the component fills.

Embedder: a 64-bin colour histogram (4 levels per channel), L2-normalised.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
from PIL import Image
from scipy import ndimage

MODEL_VERSION = "colour-components-1"
CLASSES = ("vehicle", "person")
HORIZON = 0.42  # above this fraction of the height: sky and buildings, not searched
THRESHOLD = 90  # summed |RGB - row median| of a foreground pixel
MIN_AREA = 120


def decode(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGB"))


def detect(pixels: np.ndarray) -> list[dict[str, Any]]:
    """Boxes (TDP annotation shape, pixel coordinates) of the foreground components of an RGB image."""
    rgb = pixels.astype(np.int16)
    height, width = rgb.shape[:2]
    background = np.median(rgb, axis=1, keepdims=True)
    mask = np.abs(rgb - background).sum(axis=2) > THRESHOLD
    mask[: int(height * HORIZON)] = False
    mask = ndimage.binary_opening(mask, structure=np.ones((3, 3)))
    mask = ndimage.binary_closing(mask, structure=np.ones((5, 5)), iterations=2)
    labels, count = ndimage.label(mask)
    if not count:
        return []
    areas = ndimage.sum_labels(mask, labels, index=np.arange(1, count + 1))
    found = []
    for index, window in enumerate(ndimage.find_objects(labels)):
        if window is None:
            continue
        rows, cols = window
        h, w = rows.stop - rows.start, cols.stop - cols.start
        fill = float(areas[index]) / float(h * w)
        if areas[index] < MIN_AREA or h < 10 or w < 5 or fill < 0.25 or w > 0.9 * width:
            continue
        cls = "vehicle" if w > 1.2 * h else "person"
        found.append(
            {
                "name": cls,
                "bbox": {"left": int(cols.start), "top": int(rows.start), "width": int(w), "height": int(h)},
                "confidence": round(min(0.99, 0.4 + 0.6 * fill), 3),
            }
        )
    return found


def embed(pixels: np.ndarray) -> list[float]:
    levels = (pixels[..., :3] // 64).astype(np.int32).reshape(-1, 3)
    codes = levels[:, 0] * 16 + levels[:, 1] * 4 + levels[:, 2]
    histogram = np.bincount(codes, minlength=64).astype(np.float64)
    norm = float(np.linalg.norm(histogram)) or 1.0
    return [round(float(v), 6) for v in histogram / norm]


def refine(
    pixels: np.ndarray, *, point: dict[str, float] | None = None, box: dict[str, float] | None = None
) -> dict[str, Any] | None:
    """Interactive assist: the detection under a click, or the one overlapping a rough box the most (IoU)."""
    found = detect(pixels)
    if point is not None:
        x, y = point["x"], point["y"]
        hits = [
            d
            for d in found
            if d["bbox"]["left"] <= x <= d["bbox"]["left"] + d["bbox"]["width"]
            and d["bbox"]["top"] <= y <= d["bbox"]["top"] + d["bbox"]["height"]
        ]
        return min(hits, key=lambda d: d["bbox"]["width"] * d["bbox"]["height"], default=None)
    if box is None:
        return None
    best, best_iou = None, 0.0
    for d in found:
        b = d["bbox"]
        ix = max(0.0, min(b["left"] + b["width"], box["left"] + box["width"]) - max(b["left"], box["left"]))
        iy = max(0.0, min(b["top"] + b["height"], box["top"] + box["height"]) - max(b["top"], box["top"]))
        inter = ix * iy
        union = b["width"] * b["height"] + box["width"] * box["height"] - inter
        iou = inter / union if union else 0.0
        if iou > best_iou:
            best, best_iou = d, iou
    return best
