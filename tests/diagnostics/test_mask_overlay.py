"""The gallery's mask raster (domain/mask_overlay.py) and the shapes of a row (overlays.py), without a database: the
raster samples the runs exactly as decoding the mask and taking the pixel under each thumbnail pixel's centre."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image

from apps.diagnostics import overlays
from apps.diagnostics.domain.mask_overlay import overlay_rgba, sample, sample_grid
from apps.ontologies.domain import rle as R


def nearest(mask: np.ndarray, out_h: int, out_w: int) -> np.ndarray:
    """An independent nearest-centre downsampling of a decoded mask."""
    h, w = mask.shape
    ys = np.minimum(((np.arange(out_h) + 0.5) * h / out_h).astype(int), h - 1)
    xs = np.minimum(((np.arange(out_w) + 0.5) * w / out_w).astype(int), w - 1)
    return mask[np.ix_(ys, xs)].astype(bool)


@pytest.mark.parametrize(("h", "w", "max_side"), [(37, 53, 400), (480, 640, 400), (1024, 1024, 256), (5, 900, 300)])
def test_sampling_the_runs_equals_decoding_and_downsampling(h, w, max_side):
    rng = np.random.default_rng(h * w)
    for density in (0.0, 0.02, 0.5, 1.0):
        mask = (rng.random((h, w)) < density).astype(np.uint8)
        mask[h // 4 : h // 2, w // 3 : w // 2] = 1  # a solid block among the noise
        if density == 0.0:
            mask[:] = 0
        out_h, out_w, offsets = sample_grid(h, w, max_side)
        assert max(out_h, out_w) == min(max(h, w), max_side)
        assert np.array_equal(sample(R.encode(mask), offsets), nearest(mask, out_h, out_w))


def test_overlay_fills_translucent_and_outlines_each_mask():
    a = np.zeros((40, 60), np.uint8)
    a[5:15, 5:20] = 1
    b = np.zeros((40, 60), np.uint8)
    b[5:15, 20:30] = 1  # touches a: the outlines keep them apart
    other_size = R.encode(np.ones((10, 10), np.uint8))
    rgba = overlay_rgba([R.encode(a), R.encode(b), other_size], 40, 60, (1, 2, 3), fill_alpha=0.4, edge_alpha=1.0)
    assert rgba.shape == (40, 60, 4)
    alpha = rgba[:, :, 3]
    assert alpha[10, 10] == 102 and tuple(rgba[10, 10, :3]) == (1, 2, 3)  # inside a
    assert alpha[5, 10] == 255 and alpha[10, 5] == 255 and alpha[10, 19] == 255 and alpha[10, 20] == 255  # edges
    assert alpha[30, 40] == 0 and alpha[0, 0] == 0  # outside every mask (the 10 × 10 one has another size)
    assert int((alpha > 0).sum()) == int((a | b).sum())


def test_shapes_of_a_row_and_its_mask_layer():
    mask = np.zeros((30, 40), np.uint8)
    mask[10:20, 10:30] = 1
    annotations = [
        {"name": "car", "bbox": {"left": 1, "top": 2, "width": 3, "height": 4}},
        {"name": "field", "polygon": [{"x": 0, "y": 0}, {"x": 10.5, "y": 0}, {"x": 10, "y": 8}]},
        {"name": "weed", "mask": R.encode(mask).document()},
        {"name": "weed", "mask": {"size": [30, 40], "counts": "not rle"}},  # malformed: left out
        {"name": "weather", "answer": {"name": "sunny"}},
    ]
    side = overlays.side(annotations, [0.9, 0.8, 0.7, 0.6, None])
    assert side["boxes"] == [{"name": "car", "score": 0.9, "box": (1.0, 2.0, 3.0, 4.0)}]
    assert side["polygons"] == [{"name": "field", "score": 0.8, "points": "0,0 10.5,0 10,8"}]
    assert len(side["masks"]) == 1 and side["mask_names"] == ["weed"]
    layer = overlays.mask_layer(side["masks"], 30, 40, "#f97316")
    assert layer is not None and (layer["width"], layer["height"]) == (40, 30)
    assert layer["uri"].startswith("data:image/png;base64,")
    png = np.asarray(Image.open(io.BytesIO(base64.b64decode(layer["uri"].split(",", 1)[1]))))
    assert png.shape == (30, 40, 4) and tuple(png[15, 20]) == (0xF9, 0x73, 0x16, 102) and png[0, 0, 3] == 0
    assert overlays.mask_layer(side["masks"], 60, 80, "#f97316") is None  # no mask of the row's size
