"""Error analysis: class frequency, slices, the four error kinds and the ranked "where to iterate next"."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.diagnostics.domain import (
    CONFUSION,
    FALSE_NEGATIVE,
    FALSE_POSITIVE,
    LOCALISATION,
    Boxes,
    ClassRef,
    class_frequency,
    error_summary,
    errors,
    evaluate,
    iteration_priorities,
    slice_metrics,
)
from tests.diagnostics.scenes import random_scene
from tests.diagnostics.test_detection import CLASSES, scene

EPS = float(np.spacing(1))


def _detected(found):
    """One 10×10 box per image at the origin; class and whether it is predicted (perfectly) per entry."""
    n = len(found)
    gt = Boxes.build(np.arange(n), [c for c, _ in found], np.tile([0, 0, 10, 10], (n, 1)))
    hit = np.flatnonzero([f for _, f in found])
    pred = Boxes.build(hit, gt.category[hit], gt.xywh[hit], np.full(len(hit), 0.9))
    return gt, pred


def test_class_frequency_flags_low_support_and_low_recall():
    found = [(0, True)] * 20 + [(1, False)] * 2 + [(2, i < 5) for i in range(20)]
    gt, pred = _detected(found)
    refs = [ClassRef(f"c{i}", f"class {i}") for i in range(4)]  # class 3 has no ground truth at all
    rows = class_frequency(evaluate(gt, pred, classes=refs))
    # median support of classes with ground truth = 20 → low support below 10
    assert [(r.index, r.flagged, r.low_support, r.low_recall) for r in rows] == [
        (3, True, True, True),
        (1, True, True, True),
        (2, False, False, True),
        (0, False, False, False),
    ]
    assert rows[1].recall == 0.0 and rows[1].share == pytest.approx(2 / 42)
    assert rows[2].recall == 0.25
    assert [r.index for r in class_frequency(evaluate(gt, pred, classes=refs), support_below=1) if r.flagged] == [3]


def test_slice_metrics_flag_a_significant_recall_drop():
    # 40 images with 2 boxes each; slice "x" (0..19) all found, slice "y" (20..39) half missed.
    found = [(0, True)] * 40 + [(0, i % 2 == 0) for i in range(40)]
    n = 80
    gt, pred = _detected(found)
    image = np.r_[np.arange(40) // 2, 20 + np.arange(40) // 2]  # two boxes per image
    gt = Boxes.build(image, gt.category, gt.xywh + np.c_[np.arange(n) % 2 * 20, np.zeros((n, 3))])
    hit = np.flatnonzero([f for _, f in found])
    pred = Boxes.build(gt.image[hit], gt.category[hit], gt.xywh[hit], np.full(len(hit), 0.9))
    ev = evaluate(gt, pred, num_images=41)
    slices = {i: ("x" if i < 20 else "y") for i in range(40)}  # image 40: no value
    by_value = {m.value: m for m in slice_metrics(ev, slices)}
    y, x = by_value["y"], by_value["x"]
    assert (y.images, y.gt, y.predictions, y.true_positives) == (20, 40, 20, 20)
    assert (y.recall, y.rest_recall, y.recall_drop) == (0.5, 1.0, 0.5)
    pooled = 60 / 80
    assert y.recall_z == pytest.approx(-0.5 / math.sqrt(pooled * (1 - pooled) * (2 / 40)))
    assert y.significant and not x.significant
    assert y.precision == 1.0 and y.precision_drop == 0.0
    assert slice_metrics(ev, slices)[0].value == "y"  # significant first
    assert [m.value for m in slice_metrics(ev, ["x"] * 20 + [None] * 21)] == ["x"]  # sequence form


def test_error_summary_counts_each_kind_once_with_its_images():
    gt, pred = scene()
    summary = error_summary(evaluate(gt, pred, classes=CLASSES))
    assert {k: v["count"] for k, v in summary.items()} == {
        FALSE_POSITIVE: 2,
        FALSE_NEGATIVE: 0,
        CONFUSION: 1,
        LOCALISATION: 1,
    }
    assert summary[FALSE_POSITIVE]["by_class"] == {"sid-a": 1, "sid-b": 1}
    assert summary[CONFUSION]["by_class"] == {"sid-b": 1}  # attributed to the box's class
    assert summary[LOCALISATION]["images"] == [0]


def test_priorities_hand_computed_gains():
    # One class, two boxes in two images. Image 0: a far-away FP (.9) then a TP (.8); image 1: missed.
    gt = Boxes.build([0, 1], [0, 0], [[0, 0, 10, 10], [0, 0, 10, 10]])
    pred = Boxes.build([0, 0], [0, 0], [[50, 50, 10, 10], [0, 0, 10, 10]], [0.9, 0.8])
    ev = evaluate(gt, pred)
    half = 1 / (2 + EPS)
    base = 51 * half / 101  # FP, TP: recall .5 reached at precision .5
    assert ev.mean_ap == pytest.approx(base, abs=1e-12)
    ranked = iteration_priorities(ev, slices=["s0", "s1"])
    # FN fixed: TP*, FP, TP → envelope 1, 2/3, 2/3 → (51 + 50 * 2/3) / 101
    fn_gain = (51 + 50 * 2 / (3 + EPS)) / 101 - base
    fp_gain = 51 / (1 + EPS) / 101 - base  # FP removed: TP alone
    assert [(p.target, p.kind, p.errors, p.images) for p in ranked] == [
        ("all", FALSE_NEGATIVE, 1, (1,)),
        ("class", FALSE_NEGATIVE, 1, (1,)),
        ("slice", FALSE_NEGATIVE, 1, (1,)),
        ("all", FALSE_POSITIVE, 1, (0,)),
        ("class", FALSE_POSITIVE, 1, (0,)),
        ("slice", FALSE_POSITIVE, 1, (0,)),
    ]
    assert [p.gain for p in ranked] == pytest.approx([fn_gain] * 3 + [fp_gain] * 3, abs=1e-12)
    assert ranked[2].slice_value == "s1" and ranked[5].slice_value == "s0"
    assert ranked[1].as_dict()["class"] == {"index": 0, "schema_id": "0", "name": "0"}


def test_priorities_confusion_and_localisation_fixes():
    # Class A: g0 (image 0) predicted as B (IoU 1, .9) → confusion; g1 (image 1) hit loosely by A (IoU .3, .8).
    gt = Boxes.build([0, 1], [0, 0], [[0, 0, 10, 10], [0, 0, 10, 10]])
    pred = Boxes.build([0, 1], [1, 0], [[0, 0, 10, 10], [0, 0, 3, 10]], [0.9, 0.8])
    ev = evaluate(gt, pred, classes=CLASSES)
    assert ev.mean_ap == 0.0  # bus has no ground truth: only car counts
    gains = {(p.target, p.kind): p.gain for p in iteration_priorities(ev)}
    # Confusion fixed: car gets TP .9 before its FP .8 → recall .5 at precision 1; localisation fixed: TP .8 alone.
    assert gains[("all", CONFUSION)] == pytest.approx(51 / (1 + EPS) / 101, abs=1e-12)
    assert gains[("all", LOCALISATION)] == pytest.approx(51 / (1 + EPS) / 101, abs=1e-12)
    assert ("all", FALSE_POSITIVE) not in gains  # no plain false positive here


def test_priorities_recompute_kinds_at_confidence_zero():
    gt = Boxes.build([0], [0], [[0, 0, 10, 10]])
    pred = Boxes.build([0], [0], [[0, 0, 10, 10]], [0.2])
    ev = evaluate(gt, pred, confidence=0.5)
    assert error_summary(ev)[FALSE_NEGATIVE]["count"] == 1  # at the chosen confidence the box is missed
    assert iteration_priorities(ev) == []  # but AP already counts the prediction: nothing to gain


def test_errors_bundle_is_json_ready():
    s = random_scene(21, num_images=60, jitter=0.1)
    ev = evaluate(s.gt, s.pred, num_images=s.num_images, confidence=0.3)
    report = errors(ev, slices=[i % 3 for i in range(s.num_images)])
    data = json.loads(json.dumps(report.as_dict()))
    assert set(data) == {"class_frequency", "slices", "errors", "priorities"}
    assert len(data["slices"]) == 3 and data["priorities"]
    gains = [p["gain"] for p in data["priorities"]]
    assert gains == sorted(gains, reverse=True)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.sampled_from([0.5, 0.75]))
def test_property_fixing_errors_never_lowers_map(seed, iou):
    s = random_scene(seed, num_images=30, num_classes=3, max_gt=5, jitter=0.12, score_levels=6)
    ev = evaluate(s.gt, s.pred, iou=iou, num_images=s.num_images)
    ranked = iteration_priorities(ev, slices=[i % 2 for i in range(s.num_images)])
    assert all(p.gain >= -1e-12 for p in ranked)
    assert all(ev.mean_ap + p.gain <= 1 + 1e-9 for p in ranked)


def test_priorities_count_every_prediction_whatever_its_score():
    # The hand-computed case with negative scores (logits): AP and the oracle still see both predictions.
    gt = Boxes.build([0, 1], [0, 0], [[0, 0, 10, 10], [0, 0, 10, 10]])
    pred = Boxes.build([0, 0], [0, 0], [[50, 50, 10, 10], [0, 0, 10, 10]], [-0.1, -0.2])
    ev = evaluate(gt, pred)  # confidence 0: both predictions are below it
    assert ev.classes[0].predictions == 0
    kinds = {p.kind: p.errors for p in iteration_priorities(ev) if p.target == "all"}
    assert kinds == {FALSE_NEGATIVE: 1, FALSE_POSITIVE: 1}
