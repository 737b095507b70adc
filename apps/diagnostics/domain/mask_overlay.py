"""Masks drawn for the gallery: one translucent RGBA raster per side (ground truth, predictions) of a row.

The raster is the row's image scaled down to at most `max_side` pixels on its long side (the gallery shows small
thumbnails), sampled straight from the RLE runs: each output pixel takes the mask value at the centre of the image
area it covers (a binary search in the runs, so the cost does not depend on the image's resolution and no mask is
decoded). Inside a mask the colour is drawn at `fill_alpha`; each mask's own outline (its pixels with a 4-neighbour
outside it) at `edge_alpha`, so touching instances stay apart.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from apps.ontologies.domain import rle as R

MAX_SIDE = 400
FILL_ALPHA = 0.4
EDGE_ALPHA = 0.95


def sample_grid(height: int, width: int, max_side: int = MAX_SIDE) -> tuple[int, int, npt.NDArray[np.int64]]:
    """The raster's size and, per raster pixel, the column-major offset of the image pixel under its centre."""
    scale = min(1.0, max_side / max(height, width))
    out_h, out_w = max(1, round(height * scale)), max(1, round(width * scale))
    ys = np.minimum(((np.arange(out_h) + 0.5) * height / out_h).astype(np.int64), height - 1)
    xs = np.minimum(((np.arange(out_w) + 0.5) * width / out_w).astype(np.int64), width - 1)
    return out_h, out_w, xs[None, :] * height + ys[:, None]


def sample(rle: R.RLE, offsets: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
    """Whether each offset (column-major pixel index) is set in the mask: one binary search over its runs."""
    starts, ends = rle.ones()
    if not len(starts):
        return np.zeros(offsets.shape, dtype=bool)
    run = np.searchsorted(starts, offsets, side="right") - 1
    inside: npt.NDArray[np.bool_] = (run >= 0) & (offsets < ends[np.maximum(run, 0)])
    return inside


def _outline(inside: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
    padded = np.pad(inside, 1, constant_values=False)
    core = padded[1:-1, :-2] & padded[1:-1, 2:] & padded[:-2, 1:-1] & padded[2:, 1:-1]
    edge: npt.NDArray[np.bool_] = inside & ~core
    return edge


def overlay_rgba(
    masks: Sequence[R.RLE],
    height: int,
    width: int,
    color: tuple[int, int, int],
    *,
    max_side: int = MAX_SIDE,
    fill_alpha: float = FILL_ALPHA,
    edge_alpha: float = EDGE_ALPHA,
) -> npt.NDArray[np.uint8]:
    """An (h, w, 4) uint8 raster of the masks (all of `height` × `width`; others are skipped) in `color`."""
    out_h, out_w, offsets = sample_grid(height, width, max_side)
    fill = np.zeros((out_h, out_w), dtype=bool)
    edge = np.zeros((out_h, out_w), dtype=bool)
    for rle in masks:
        if (rle.height, rle.width) != (height, width):
            continue
        inside = sample(rle, offsets)
        fill |= inside
        edge |= _outline(inside)
    rgba = np.zeros((out_h, out_w, 4), dtype=np.uint8)
    rgba[fill, :3] = color
    rgba[edge, :3] = color
    rgba[fill, 3] = round(255 * fill_alpha)
    rgba[edge, 3] = round(255 * edge_alpha)
    return rgba
