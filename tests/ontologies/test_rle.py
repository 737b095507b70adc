"""The RLE codec against pycocotools: the same strings, masks, areas, boxes, IoUs and polygon rasters."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from pycocotools import mask as cmask

from apps.ontologies.domain import rle as R


def _coco(m: np.ndarray) -> dict:
    return cmask.encode(np.asfortranarray(m.astype(np.uint8)))


def _check(m: np.ndarray) -> None:
    ours = R.encode(m)
    theirs = _coco(m)
    assert ours.document()["counts"] == theirs["counts"].decode()
    assert ours.size == list(theirs["size"])
    back = R.from_document(ours.document())
    assert np.array_equal(R.decode(back), m.astype(np.uint8))
    # Their string decodes identically here, and ours there.
    assert np.array_equal(R.decode(R.from_document({"size": theirs["size"], "counts": theirs["counts"].decode()})), m)
    doc = ours.document()
    assert np.array_equal(cmask.decode({"size": doc["size"], "counts": doc["counts"].encode()}), m)
    assert R.area(ours) == int(cmask.area(theirs))
    assert list(R.bbox(ours)) == [int(v) for v in cmask.toBbox(theirs)]


masks = st.integers(1, 24).flatmap(
    lambda h: st.integers(1, 24).flatmap(lambda w: arrays(np.uint8, (h, w), elements=st.integers(0, 1)))
)


@settings(max_examples=300, deadline=None)
@given(masks)
def test_random_masks_round_trip_like_pycocotools(m: np.ndarray) -> None:
    _check(m)


@settings(max_examples=100, deadline=None)
@given(st.integers(3, 40), st.integers(3, 40), st.data())
def test_blobs_with_empty_borders_and_holes(h: int, w: int, data: st.DataObject) -> None:
    m = np.zeros((h, w), np.uint8)
    y0 = data.draw(st.integers(1, h - 2))
    x0 = data.draw(st.integers(1, w - 2))
    y1 = data.draw(st.integers(y0, h - 2))
    x1 = data.draw(st.integers(x0, w - 2))
    m[y0 : y1 + 1, x0 : x1 + 1] = 1
    if y1 - y0 >= 2 and x1 - x0 >= 2:
        m[(y0 + y1) // 2, (x0 + x1) // 2] = 0  # a hole
    _check(m)


@pytest.mark.parametrize(
    "m",
    [
        np.zeros((5, 7), np.uint8),
        np.ones((5, 7), np.uint8),
        np.pad(np.ones((1, 1), np.uint8), ((3, 4), (2, 5))),  # one pixel inside empty borders
        np.pad(np.ones((1, 1), np.uint8), ((0, 4), (0, 5))),  # one pixel in the first corner
        np.pad(np.ones((1, 1), np.uint8), ((4, 0), (5, 0))),  # one pixel in the last corner
        np.zeros((1, 1), np.uint8),
        np.ones((1, 1), np.uint8),
        np.eye(300, 200, dtype=np.uint8),  # long counts, multi-character numbers and negative deltas
    ],
)
def test_edge_cases(m: np.ndarray) -> None:
    _check(m)


def test_large_counts_use_multi_character_numbers() -> None:
    m = np.zeros((1024, 1024), np.uint8)
    m[100:900, 50:1000] = 1
    m[400:500, 400:500] = 0
    _check(m)


@settings(max_examples=150, deadline=None)
@given(st.lists(masks, min_size=2, max_size=2).filter(lambda p: p[0].shape == p[1].shape), st.booleans())
def test_iou_equals_pycocotools(pair: list[np.ndarray], crowd: bool) -> None:
    a, b = pair
    ours = R.iou(R.encode(a), R.encode(b), crowd=crowd)
    theirs = cmask.iou([_coco(a)], [_coco(b)], [int(crowd)])[0][0]
    assert ours == pytest.approx(float(theirs), abs=1e-12)


def test_iou_matrix_shape_and_values() -> None:
    rng = np.random.default_rng(3)
    dts = [(rng.random((30, 20)) < 0.4).astype(np.uint8) for _ in range(4)]
    gts = [(rng.random((30, 20)) < 0.4).astype(np.uint8) for _ in range(3)]
    ours = R.iou_matrix([R.encode(d) for d in dts], [R.encode(g) for g in gts], [False, True, False])
    theirs = cmask.iou([_coco(d) for d in dts], [_coco(g) for g in gts], [0, 1, 0])
    assert np.allclose(ours, theirs)


polygons = st.integers(3, 9).flatmap(
    lambda k: st.lists(st.floats(-5, 60, allow_nan=False), min_size=2 * k, max_size=2 * k)
)


@settings(max_examples=300, deadline=None)
@given(polygons, st.integers(1, 50), st.integers(1, 50))
def test_polygon_raster_equals_frpyobjects(xy: list[float], h: int, w: int) -> None:
    ours = R.from_polygon(xy, h, w)
    theirs = cmask.frPyObjects([xy], h, w)[0]
    assert ours.document()["counts"] == theirs["counts"].decode()


def test_polygons_union_equals_merge() -> None:
    polys = [[1, 1, 10, 1, 10, 10, 1, 10], [8, 8, 20, 8, 14, 18]]
    ours = R.from_polygons(polys, 25, 30)
    theirs = cmask.merge(cmask.frPyObjects(polys, 25, 30))
    assert np.array_equal(R.decode(ours), cmask.decode(theirs))


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"size": [2, 2]}, "is an object"),
        ({"size": [2, 2], "counts": "0", "x": 1}, "is an object"),
        ({"size": [0, 2], "counts": ""}, "two positive integers"),
        ({"size": [2, 2], "counts": 5}, "COCO RLE string"),
        ({"size": [2, 2], "counts": "~~"}, "alphabet"),
        ({"size": [2, 2], "counts": "3"}, "cover 3 pixels"),
        ({"size": [2, 2], "counts": [1, 0, 3]}, "empty run"),
        ({"size": [2, 2], "counts": "`"}, "ends inside"),
    ],
)
def test_bad_documents_say_why(doc: dict, message: str) -> None:
    with pytest.raises(R.RLEError, match=message):
        R.from_document(doc)


def test_size_must_match_the_image() -> None:
    doc = R.encode(np.ones((3, 4))).document()
    with pytest.raises(R.RLEError, match="image is 4×3"):
        R.from_document(doc, height=4, width=3)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 2**34), min_size=0, max_size=40))
def test_vectorised_compression_equals_the_reference_loop(counts: list[int]) -> None:
    """compress_counts (numpy, all groups at once) writes what rleToString's loop writes, for any counts."""

    def reference(cnts: list[int]) -> str:  # maskApi.c's rleToString, transcribed
        out = []
        for i, c in enumerate(cnts):
            x = c - cnts[i - 2] if i > 2 else c
            more = True
            while more:
                ch = x & 0x1F
                x >>= 5
                more = x != -1 if ch & 0x10 else x != 0
                if more:
                    ch |= 0x20
                out.append(chr(ch + 48))
        return "".join(out)

    text = reference(counts)
    assert R.compress_counts(counts) == text
    assert R.decompress_counts(text).tolist() == counts
    assert R.is_canonical(text, R.decompress_counts(text)) and R._decompress(text)[1]


def test_a_canonical_string_is_kept_and_a_padded_one_is_rewritten() -> None:
    m = np.zeros((40, 30), np.uint8)
    m[5:30, 3:20] = 1
    canonical = R.encode(m).document()
    read = R.from_document(canonical)
    assert read.text == canonical["counts"]  # no re-encoding needed
    assert read.document() == canonical
    # The same counts with the first number written in two groups (a continuation group of zeros): valid COCO,
    # decodes to the same runs, but not what pycocotools writes; the stored document is the canonical one.
    text = canonical["counts"]
    end = next(i for i, c in enumerate(text) if not (ord(c) - 48) & 0x20)  # the last character of the first number
    last = ord(text[end]) - 48
    pad = chr((0x1F if last & 0x10 else 0) + 48)  # a sign-extension group
    padded = text[:end] + chr((last | 0x20) + 48) + pad + text[end + 1 :]
    again = R.from_document({"size": canonical["size"], "counts": padded})
    assert np.array_equal(again.counts, read.counts)
    assert again.text is None
    assert again.document() == canonical
    assert not R.is_canonical(padded, again.counts) and not R._decompress(padded)[1]
