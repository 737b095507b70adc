"""Hand-computed cases for evaluate(): statuses, confusion matrix, per-class metrics, rows, matches, empty cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.diagnostics.domain import BACKGROUND, Boxes, ClassRef, Status, box_iou, coco_map, evaluate, paired_iou
from tests.diagnostics.scenes import random_scene

EPS = float(np.spacing(1))
A, B = 0, 1
CLASSES = [ClassRef("sid-a", "car"), ClassRef("sid-b", "bus")]


def scene():
    """One image. gt: g0 A, g1 B, g2 A, g3 B. Predictions (score):
    p0 A .9 on g0 (IoU 1) → TP; p1 A .8 on g1 (a B box, IoU 1) → confusion; p2 A .7 on g2 (IoU 2/3) → TP;
    p3 B .6 far away → FP; p4 A .5 duplicate of g0 (taken) → FP (best IoU 1); p5 B .4 on g3 with IoU 60/140 →
    FP + FN, localisation."""
    gt = Boxes.build([0, 0, 0, 0], [A, B, A, B], [[0, 0, 10, 10], [20, 0, 10, 10], [40, 0, 10, 10], [60, 0, 10, 10]])
    pred = Boxes.build(
        [0] * 6,
        [A, A, A, B, A, B],
        [[0, 0, 10, 10], [20, 0, 10, 10], [42, 0, 10, 10], [100, 100, 10, 10], [0, 0, 10, 10], [64, 0, 10, 10]],
        [0.9, 0.8, 0.7, 0.6, 0.5, 0.4],
    )
    return gt, pred


def test_statuses_and_partners():
    gt, pred = scene()
    o = evaluate(gt, pred, classes=CLASSES).outcome
    TP, FP, FN, CF = Status.TRUE_POSITIVE, Status.FALSE_POSITIVE, Status.FALSE_NEGATIVE, Status.CONFUSION
    assert o.pred_status.tolist() == [TP, CF, TP, FP, FP, FP]
    assert o.gt_status.tolist() == [TP, CF, TP, FN]
    assert o.pred_gt.tolist() == [0, 1, 2, -1, -1, 3]
    assert o.gt_pred.tolist() == [0, 1, 2, 5]
    assert o.pred_localisation.tolist() == [False] * 5 + [True]
    assert o.gt_localisation.tolist() == [False, False, False, True]
    assert o.pred_iou == pytest.approx([1.0, 1.0, 80 / 120, 0.0, 1.0, 60 / 140])
    assert o.gt_iou == pytest.approx([1.0, 1.0, 80 / 120, 60 / 140])


def test_confusion_matrix_cells():
    gt, pred = scene()
    confusion = evaluate(gt, pred, classes=CLASSES).confusion
    # rows: gt car, gt bus, background; columns: predicted car, bus, background
    assert confusion.matrix.tolist() == [[2, 0, 0], [1, 0, 1], [1, 2, 0]]
    d = confusion.as_dict()
    assert d["labels"] == ["car", "bus", BACKGROUND]
    assert d["schema_ids"] == ["sid-a", "sid-b", None]


def test_per_class_metrics_and_ap():
    gt, pred = scene()
    ev = evaluate(gt, pred, classes=CLASSES)
    car, bus = ev.classes
    assert (car.support, car.predictions, car.true_positives, car.false_positives, car.false_negatives) == (
        2,
        4,
        2,
        2,
        0,
    )
    assert (car.precision, car.recall, car.f1) == (0.5, 1.0, pytest.approx(2 / 3))
    assert (bus.support, bus.predictions, bus.true_positives, bus.false_positives, bus.false_negatives) == (
        2,
        2,
        0,
        2,
        2,
    )
    assert bus.confusions == 1
    assert (bus.precision, bus.recall, bus.f1) == (0.0, 0.0, 0.0)
    # car, by score: TP, FP, TP, FP; recall .5 .5 1 1; precision 1 .5 2/3 .5 → envelope 1 2/3 2/3 .5:
    # recall thresholds 0..0.50 (51) read 1, 0.51..1 (50) read 2/3.
    assert car.ap == pytest.approx((51 + 50 * 2 / (3 + EPS)) / 101, abs=1e-12)
    assert bus.ap == 0.0
    assert ev.mean_ap == pytest.approx(car.ap / 2)
    assert ev.totals["true_positives"] == 2 and ev.totals["false_positives"] == 4 and ev.totals["false_negatives"] == 2
    assert ev.as_dict()["classes"][0]["schema_id"] == "sid-a"


def test_confidence_threshold_ignores_lower_scores():
    gt, pred = scene()
    ev = evaluate(gt, pred, classes=CLASSES, confidence=0.65)
    assert ev.outcome.pred_status.tolist()[3:] == [Status.IGNORED] * 3
    car, bus = ev.classes
    assert (car.predictions, car.true_positives, car.false_positives) == (3, 2, 1)
    assert car.precision == pytest.approx(2 / 3)
    assert bus.predictions == 0 and math.isnan(bus.precision) and bus.recall == 0.0 and bus.f1 == 0.0
    assert ev.confusion.matrix.tolist() == [[2, 0, 0], [1, 0, 1], [0, 0, 0]]
    # AP does not depend on the confidence threshold.
    assert car.ap == evaluate(gt, pred, classes=CLASSES).classes[0].ap


def test_iou_threshold_turns_a_loose_match_into_a_localisation_error():
    gt, pred = scene()
    ev = evaluate(gt, pred, classes=CLASSES, iou=0.7)
    o = ev.outcome
    assert o.pred_status[2] == Status.FALSE_POSITIVE and o.pred_localisation[2] and o.pred_gt[2] == 2
    assert o.gt_status[2] == Status.FALSE_NEGATIVE and o.gt_localisation[2]
    assert ev.classes[0].true_positives == 1


def test_rows_and_matches():
    gt, pred = scene()
    ev = evaluate(gt, pred, classes=CLASSES, num_images=2)
    rows = ev.rows.as_dicts()
    assert rows[0] == {
        "image": 0,
        "gt": 4,
        "predictions": 6,
        "true_positives": 2,
        "false_positives": 3,
        "false_negatives": 1,
        "confusions": 1,
        "localisation": 1,
        "mean_iou": pytest.approx((1 + 80 / 120) / 2),
    }
    assert rows[1]["gt"] == 0 and rows[1]["mean_iou"] is None
    m = ev.matches
    assert len(m) == 7  # 6 kept predictions + 1 missed box
    records = m.as_dicts(CLASSES)
    fn = [r for r in records if r["status"] == "false_negative"]
    assert fn == [
        {
            "image": 0,
            "pred": 5,
            "gt": 3,
            "pred_class": "sid-b",
            "gt_class": "sid-b",
            "score": 0.4,
            "iou": pytest.approx(60 / 140),
            "status": "false_negative",
            "localisation": True,
        }
    ]
    confused = m.filter(status=Status.CONFUSION)
    assert confused.pred.tolist() == [1] and confused.gt_class.tolist() == [B] and confused.pred_class.tolist() == [A]
    assert m.filter(category=B).pred.tolist() == [1, 3, 5, 5]  # confusion names bus as gt; FP; loc FP; loc FN
    assert m.filter(iou_gt=0.5, iou_lt=0.9).pred.tolist() == [2]
    assert m.filter(confidence_gt=0.55).pred.tolist() == [0, 1, 2, 3]  # the FN record has a score (its partner)
    assert m.filter(images=[1]).image.tolist() == []
    assert m.order_by("score", descending=True).pred.tolist()[:3] == [0, 1, 2]
    assert m.order_by("iou").iou[0] == 0.0


def test_class_agnostic_stage_prefers_highest_iou_and_each_box_once():
    # Two bus predictions over one car box: the better-scored takes it as a confusion, the other stays FP.
    gt = Boxes.build([0], [A], [[0, 0, 10, 10]])
    pred = Boxes.build([0, 0], [B, B], [[1, 0, 10, 10], [0, 0, 10, 10]], [0.9, 0.3])
    o = evaluate(gt, pred).outcome
    assert o.pred_status.tolist() == [Status.CONFUSION, Status.FALSE_POSITIVE]
    assert o.gt_pred.tolist() == [0]


def test_empty_inputs():
    ev = evaluate(Boxes.empty(), Boxes.empty(), num_images=3)
    assert ev.classes == [] and ev.confusion.matrix.tolist() == [[0]]
    assert len(ev.rows) == 3 and ev.rows.gt.tolist() == [0, 0, 0] and len(ev.matches) == 0
    assert math.isnan(ev.mean_ap)
    assert math.isnan(coco_map(Boxes.empty(), Boxes.empty()).map)


def test_no_predictions_and_no_ground_truth():
    gt = Boxes.build([0, 1], [A, A], [[0, 0, 5, 5], [0, 0, 5, 5]])
    only_gt = evaluate(gt, Boxes.empty(), classes=CLASSES)
    car, bus = only_gt.classes
    assert (car.recall, car.f1, car.ap, car.false_negatives) == (0.0, 0.0, 0.0, 2)
    assert math.isnan(car.precision)
    assert bus.support == 0 and math.isnan(bus.recall) and math.isnan(bus.f1) and math.isnan(bus.ap)
    assert only_gt.mean_ap == 0.0  # bus has no ground truth: left out of the mean
    assert only_gt.confusion.matrix.tolist() == [[0, 0, 2], [0, 0, 0], [0, 0, 0]]

    pred = Boxes.build([0], [B], [[0, 0, 5, 5]], [0.7])
    only_pred = evaluate(Boxes.empty(), pred, classes=CLASSES, num_images=2)
    bus = only_pred.classes[1]
    assert bus.precision == 0.0 and math.isnan(bus.recall) and math.isnan(bus.ap)
    assert math.isnan(only_pred.mean_ap)
    assert only_pred.confusion.matrix.tolist() == [[0, 0, 0], [0, 0, 0], [0, 1, 0]]


def test_class_without_predictions_among_others():
    gt = Boxes.build([0, 0], [A, B], [[0, 0, 10, 10], [50, 50, 10, 10]])
    pred = Boxes.build([0], [A], [[0, 0, 10, 10]], [0.9])
    m = coco_map(gt, pred, classes=CLASSES)
    # COCO's precision is tp / (tp + fp + eps), so a perfect class scores 1 - 1e-16, as in COCOeval.
    assert [c.ap50 for c in m.classes] == [pytest.approx(1.0, abs=1e-12), 0.0]
    assert m.map50 == pytest.approx(0.5) and m.map == pytest.approx(0.5)
    assert m.as_dict()["classes"][1] == {
        "index": 1,
        "schema_id": "sid-b",
        "name": "bus",
        "support": 1,
        "ap": 0.0,
        "ap50": 0.0,
        "ap75": 0.0,
    }


def test_invalid_inputs():
    with pytest.raises(ValueError):
        Boxes.build([0], [0], [[0, 0, -1, 5]])
    with pytest.raises(ValueError):
        Boxes.build([0], [0], [[0, np.nan, 1, 5]])
    with pytest.raises(ValueError):
        Boxes.build([0, 1], [0], [[0, 0, 1, 5]])
    with pytest.raises(ValueError):
        evaluate(Boxes.build([4], [0], [[0, 0, 1, 1]]), Boxes.empty(), num_images=2)
    with pytest.raises(ValueError):
        evaluate(Boxes.empty(), Boxes.empty(), iou=0.0)


def test_box_iou_matrix_hand_values_and_reference():
    from pycocotools import mask as mask_utils

    a = np.array([[0, 0, 10, 10], [5, 5, 10, 10], [20, 20, 0, 5]], dtype=float)
    b = np.array([[0, 0, 10, 10], [10, 0, 10, 10], [2, 2, 4, 4]], dtype=float)
    iou = box_iou(a, b)
    assert iou.shape == (3, 3)
    assert iou[0].tolist() == [1.0, 0.0, 0.16]  # touching boxes: 0; inside: 16/100
    assert iou[1, 0] == pytest.approx(25 / 175)
    assert iou[2].tolist() == [0.0, 0.0, 0.0]  # zero-width box
    rng = np.random.default_rng(3)
    x = np.c_[rng.uniform(0, 50, (40, 2)), rng.uniform(0, 30, (40, 2))]
    y = np.c_[rng.uniform(0, 50, (30, 2)), rng.uniform(0, 30, (30, 2))]
    assert np.array_equal(box_iou(x, y), mask_utils.iou(x.tolist(), y.tolist(), [0] * 30))  # bit-identical
    assert np.array_equal(paired_iou(x[:30], y), np.diag(box_iou(x[:30], y)))


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.sampled_from([0.3, 0.5, 0.75]), st.sampled_from([0.0, 0.4, 0.9]))
def test_property_counts_are_consistent(seed, iou, confidence):
    s = random_scene(seed, num_images=25, num_classes=4, max_gt=5, jitter=0.1, score_levels=4)
    ev = evaluate(s.gt, s.pred, iou=iou, confidence=confidence, num_images=s.num_images)
    k = ev.scene.num_classes
    mat = ev.confusion.matrix
    support = np.bincount(s.gt.category, minlength=k)
    kept = s.pred.score >= confidence
    assert mat[:k].sum(axis=1).tolist() == support.tolist()  # every box in exactly one cell of its row
    assert mat[:, :k].sum(axis=0).tolist() == np.bincount(s.pred.category[kept], minlength=k).tolist()
    assert mat[k, k] == 0
    for c in ev.classes:
        assert c.true_positives + c.false_negatives == c.support
        assert c.true_positives + c.false_positives == c.predictions
    assert len(ev.matches) == int(kept.sum()) + int((ev.outcome.gt_status == Status.FALSE_NEGATIVE).sum())
    tp = ev.matches.filter(status=Status.TRUE_POSITIVE)
    assert (tp.iou >= min(iou, 1 - 1e-10)).all() and (tp.pred_class == tp.gt_class).all()
    cf = ev.matches.filter(status=Status.CONFUSION)
    assert (cf.iou >= iou).all() and (cf.pred_class != cf.gt_class).all()
    loc = ev.matches.take(ev.matches.localisation)
    assert ((loc.iou >= 0.1) & (loc.iou < iou)).all()
    assert ev.rows.true_positives.sum() == sum(c.true_positives for c in ev.classes)
    # Input order does not matter (scores are tie-broken by input order only among equal scores of one image).
    order = np.random.default_rng(seed).permutation(len(s.pred))
    distinct = Boxes.build(s.pred.image, s.pred.category, s.pred.xywh, s.pred.score + np.arange(len(s.pred)) * 1e-9)
    shuffled = distinct.take(order)
    a = evaluate(s.gt, distinct, iou=iou, confidence=confidence, num_images=s.num_images)
    b = evaluate(s.gt, shuffled, iou=iou, confidence=confidence, num_images=s.num_images)
    assert [c.as_dict() for c in a.classes] == [c.as_dict() for c in b.classes]
    assert np.array_equal(a.confusion.matrix, b.confusion.matrix)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 5))
def test_property_overlapping_pairs_keep_every_overlapping_pair(seed, groups):
    from apps.diagnostics.domain.matching import overlapping_pairs

    rng = np.random.default_rng(seed)
    na, nb = rng.integers(0, 40, 2)
    a_group, b_group = rng.integers(0, groups, na), rng.integers(0, groups, nb)
    a = np.c_[rng.integers(-20, 60, (na, 2)), rng.integers(0, 25, (na, 2))].astype(float)
    b = np.c_[rng.integers(-20, 60, (nb, 2)), rng.integers(0, 25, (nb, 2))].astype(float)
    pa, pb = overlapping_pairs(a_group, a, b_group, b)
    got = set(zip(pa.tolist(), pb.tolist(), strict=True))
    assert len(got) == len(pa)  # no pair twice
    assert all(a_group[i] == b_group[j] for i, j in got)
    iou = box_iou(a, b)
    wanted = {(i, j) for i in range(na) for j in range(nb) if a_group[i] == b_group[j] and iou[i, j] > 0}
    assert wanted <= got
