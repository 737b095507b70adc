"""static/labeling/mask.js in Chromium: its COCO RLE strings are pycocotools' byte for byte (both directions), its
bounds are `toBbox`, strokes are capsules of the brush radius, and "fill holes" fills exactly the enclosed pixels."""

from __future__ import annotations

import numpy as np
import pytest
from pycocotools import mask as cmask

from tests.e2e.test_editor_modules import js  # noqa: F401 (fixture)

pytestmark = [pytest.mark.e2e]


def _masks() -> list[np.ndarray]:
    rng = np.random.default_rng(25)
    out = [(rng.random((h, w)) < p).astype(np.uint8) for h, w, p in ((7, 9, 0.5), (31, 17, 0.2), (1, 1, 1.0))]
    big = np.zeros((300, 400), np.uint8)
    big[40:260, 30:370] = 1
    big[100:120, 100:300] = 0
    out += [big, np.zeros((5, 6), np.uint8), np.ones((5, 6), np.uint8)]
    return out


def test_rle_codec_matches_pycocotools(js):  # noqa: F811
    masks = _masks()
    coco = [cmask.encode(np.asfortranarray(m)) for m in masks]
    result = js(
        """
        const k = await m("mask");
        return arg.map(({ rows, counts }) => {
          const h = rows.length, w = rows[0].length;
          const pixels = new Uint8Array(rows.flat());
          const encoded = k.encodeMask(pixels, h, w);
          const decoded = Array.from(k.decodeMask({ size: [h, w], counts }));
          return { counts: encoded.counts, decoded, bounds: k.maskBounds({ size: [h, w], counts }) };
        });
        """,
        [{"rows": m.tolist(), "counts": c["counts"].decode()} for m, c in zip(masks, coco, strict=True)],
    )
    for m, c, got in zip(masks, coco, result, strict=True):
        assert got["counts"] == c["counts"].decode()
        assert np.array_equal(np.array(got["decoded"]).reshape(m.shape), m)
        x, y, w, h = (int(v) for v in cmask.toBbox(c))
        if m.any():
            assert got["bounds"] == {"left": x, "top": y, "right": x + w, "bottom": y + h}
        else:
            assert got["bounds"] is None


def test_stroke_is_a_capsule_and_fill_holes_fills_only_enclosed_pixels(js):  # noqa: F811
    result = js(
        """
        const k = await m("mask");
        const w = 40, h = 30;
        const stroke = new Uint8Array(w * h);
        k.stampSegment(stroke, w, h, { x: 5, y: 10 }, { x: 30, y: 12 }, 4, 1);
        const ring = new Uint8Array(w * h);
        for (let y = 5; y < 25; y += 1) for (let x = 5; x < 35; x += 1) ring[y * w + x] = 1;
        for (let y = 10; y < 20; y += 1) for (let x = 10; x < 30; x += 1) ring[y * w + x] = 0;  // a hole
        for (let y = 0; y < 30; y += 1) ring[y * w + 37] = 1;  // a wall: the strip right of it stays open
        return { stroke: Array.from(stroke), filled: Array.from(k.fillHoles(ring, w, h)), ring: Array.from(ring) };
        """
    )
    w, h = 40, 30
    ys, xs = np.mgrid[0:h, 0:w] + 0.5
    a, b = np.array([5.0, 10.0]), np.array([30.0, 12.0])
    d = b - a
    t = np.clip(((xs - a[0]) * d[0] + (ys - a[1]) * d[1]) / (d @ d), 0, 1)
    capsule = ((xs - a[0] - t * d[0]) ** 2 + (ys - a[1] - t * d[1]) ** 2 <= 16).astype(np.uint8)
    assert np.array_equal(np.array(result["stroke"]).reshape(h, w), capsule)
    ring = np.array(result["ring"]).reshape(h, w)
    filled = np.array(result["filled"]).reshape(h, w)
    expected = ring.copy()
    expected[10:20, 10:30] = 1
    assert np.array_equal(filled, expected)


def test_polygon_raster_equals_pycocotools_frpyobjects(js):  # noqa: F811
    """mask-rle.js's polygonCounts is pycocotools' rleFrPoly: the same runs for random polygons (fractional, outside
    the image, self-intersecting, repeated corners), so a polygon fill in the editor sets the pixels a polygon mask
    imported on the server gets."""
    rng = np.random.default_rng(19)
    cases = []
    for n in range(60):
        h, w = int(rng.integers(5, 120)), int(rng.integers(5, 160))
        k = int(rng.integers(3, 9))
        xy = np.stack([rng.uniform(-10, w + 10, k), rng.uniform(-10, h + 10, k)], axis=1)
        if n % 5 == 0:
            xy = np.round(xy)  # integer corners
        if n % 7 == 0:
            xy[1] = xy[0]  # a repeated corner
        cases.append({"h": h, "w": w, "xy": [float(v) for v in xy.ravel()]})
    cases.append({"h": 300, "w": 400, "xy": [60.0, 40.0, 340.0, 60.0, 300.0, 250.0, 90.0, 220.0]})
    result = js(
        """
        const k = await m("mask-rle");
        return arg.map(({ h, w, xy }) => {
          const counts = k.polygonCounts(xy, h, w);
          const points = [];
          for (let i = 0; i < xy.length; i += 2) points.push({ x: xy[i], y: xy[i + 1] });
          const pixels = k.fillPolygon(new Uint8Array(w * h), w, h, points);
          return { counts: k.compressCounts(counts), pixels: Array.from(pixels) };
        });
        """,
        cases,
    )
    for case, got in zip(cases, result, strict=True):
        h, w = case["h"], case["w"]
        coco = cmask.frPyObjects([case["xy"]], h, w)[0]
        assert got["counts"] == coco["counts"].decode(), case
        assert np.array_equal(np.array(got["pixels"]).reshape(h, w), cmask.decode(coco)), case
