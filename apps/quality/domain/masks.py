"""Mask agreement: IoU of COCO RLE masks on their runs, and boxes/polygons rasterised when compared with a mask.

A mask object's geometry is the normalized `{"size": [height, width], "counts": "<COCO RLE>"}`; a malformed one
(not possible after validation) is an empty mask, which overlaps nothing. Boxes and polygons become masks the way
pycocotools does (`frBbox`, `frPyObjects`), at the mask's size, so a mixed pair scores as COCO would.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from apps.ontologies.domain import rle as R

FloatArray = np.ndarray[Any, np.dtype[np.float64]]
RASTERISABLE = frozenset({"mask", "bbox", "polygon"})


class PreparedMasks:
    """RLEs with their areas and boxes (x0, y0, x1, y1, exclusive) as arrays, for a vectorised overlap filter."""

    __slots__ = ("areas", "boxes", "rles", "runs")

    def __init__(self, rles: list[R.RLE | None]) -> None:
        self.rles = rles
        self.runs = [r.ones() if r is not None else None for r in rles]  # run starts and ends, computed once
        self.areas = np.array([R.area(r) if r is not None else 0 for r in rles], dtype=np.float64)
        boxes = np.zeros((len(rles), 4), dtype=np.float64)
        for k, r in enumerate(rles):
            if r is not None and self.areas[k] > 0:
                x, y, w, h = R.bbox(r)
                boxes[k] = (x, y, x + w, y + h)
        self.boxes = boxes


def _rle(shape: Any) -> R.RLE | None:
    try:
        return R.from_document(shape)
    except (R.RLEError, TypeError, ValueError):
        return None


def prepare_masks(shapes: Sequence[Any]) -> PreparedMasks:
    return PreparedMasks([_rle(s) for s in shapes])


def mask_iou_matrix(a: PreparedMasks, b: PreparedMasks) -> FloatArray:
    """`len(a) × len(b)` IoUs; only pairs whose boxes overlap and whose sizes agree are intersected."""
    out = np.zeros((len(a.rles), len(b.rles)), dtype=np.float64)
    if not len(a.rles) or not len(b.rles):
        return out
    symmetric = a is b  # a pool scored against itself: each pair once, mirrored
    ab, bb = a.boxes[:, None, :], b.boxes[None, :, :]
    overlap = (
        (np.maximum(ab[..., 0], bb[..., 0]) < np.minimum(ab[..., 2], bb[..., 2]))
        & (np.maximum(ab[..., 1], bb[..., 1]) < np.minimum(ab[..., 3], bb[..., 3]))
        & (a.areas[:, None] > 0)
        & (b.areas[None, :] > 0)
    )
    if symmetric:
        overlap &= np.triu(np.ones_like(overlap), k=1).astype(bool)
        np.fill_diagonal(out, (a.areas > 0).astype(np.float64))
    for i, j in zip(*np.nonzero(overlap), strict=True):
        ra, rb = a.rles[i], b.rles[j]
        runs_a, runs_b = a.runs[i], b.runs[j]
        assert ra is not None and rb is not None and runs_a is not None and runs_b is not None
        if (ra.height, ra.width) != (rb.height, rb.width):
            continue
        inter = R.runs_intersection(*runs_a, *runs_b)
        out[i, j] = inter / (a.areas[i] + b.areas[j] - inter)
        if symmetric:
            out[j, i] = out[i, j]
    return out


def rasterise(kind: str, shapes: Sequence[Any], height: int, width: int) -> list[dict[str, Any] | None]:
    """Boxes (`{"top", "left", "height", "width"}`) or polygons (`[{"x", "y"}, ...]`) → mask documents."""
    out: list[dict[str, Any] | None] = []
    for shape in shapes:
        try:
            if kind == "bbox":
                x0, y0 = float(shape["left"]), float(shape["top"])
                x1, y1 = x0 + float(shape["width"]), y0 + float(shape["height"])
                xy = [x0, y0, x0, y1, x1, y1, x1, y0]  # rleFrBbox's corner order
            elif kind == "polygon":
                xy = [float(v) for p in shape for v in (p["x"], p["y"])]
            else:
                out.append(shape)
                continue
            out.append(R.from_polygon(xy, height, width).document())
        except (KeyError, TypeError, ValueError):
            out.append(None)
    return out


def mixed_iou_matrix(kind_a: str, shapes_a: Sequence[Any], kind_b: str, shapes_b: Sequence[Any]) -> FloatArray:
    """A mask feature against a box or polygon one (either side): the other side rasterised at the mask's size."""
    masks = shapes_a if kind_a == "mask" else shapes_b
    size = next((R.from_document(s).size for s in masks if _rle(s) is not None), None)
    if size is None:
        return np.zeros((len(shapes_a), len(shapes_b)), dtype=np.float64)
    h, w = size
    a = prepare_masks(rasterise(kind_a, shapes_a, h, w))
    b = prepare_masks(rasterise(kind_b, shapes_b, h, w))
    return mask_iou_matrix(a, b)
