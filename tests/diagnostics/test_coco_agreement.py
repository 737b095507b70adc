"""The engine against pycocotools' COCOeval on the same boxes (the reference COCO evaluation)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.diagnostics.domain import Boxes, coco_map, evaluate
from tests.diagnostics.scenes import cocoeval, random_scene

TOLERANCE = 1e-3

SCENES = [
    # seed, keyword arguments of random_scene
    (1, {}),
    (2, {"jitter": 0.05, "miss": 0.1, "swap": 0.05}),
    (3, {"jitter": 0.03, "score_levels": 5}),  # many score ties across and inside images
    (4, {"jitter": 0.08, "integer_coords": True, "duplicate": 0.3}),  # IoU ties, duplicates
    (5, {"num_classes": 12, "max_gt": 3, "extra": 4.0}),  # many false positives, rare classes
    (6, {"num_images": 200, "num_classes": 3, "jitter": 0.02, "miss": 0.0, "swap": 0.0, "extra": 0.0}),
]


def _engine_and_reference(scene):
    ours = coco_map(scene.gt, scene.pred, num_images=scene.num_images)
    reference, per_threshold = cocoeval(scene.gt, scene.pred, scene.num_images, scene.num_classes)
    return ours, reference, per_threshold


@pytest.mark.parametrize(("seed", "options"), SCENES)
def test_map_and_per_class_ap_agree_with_cocoeval(seed, options):
    scene = random_scene(seed, **options)
    ours, reference, per_threshold = _engine_and_reference(scene)
    assert len(scene.gt) > 100 and len(scene.pred) > 100
    # Per class and per IoU threshold (includes per-class AP50 and AP75).
    ours_table = ours.ap_per_threshold[:, : scene.num_classes]
    assert np.array_equal(np.isnan(ours_table), np.isnan(per_threshold))
    assert np.nanmax(np.abs(ours_table - per_threshold)) < TOLERANCE
    ap50 = np.array([c.ap50 for c in ours.classes])
    assert np.nanmax(np.abs(ap50 - per_threshold[0])) < TOLERANCE
    # Overall: COCOeval.stats[0] = AP@[.50:.95], [1] = AP50, [2] = AP75.
    assert abs(ours.map - reference.stats[0]) < TOLERANCE
    assert abs(ours.map50 - reference.stats[1]) < TOLERANCE
    assert abs(ours.map75 - reference.stats[2]) < TOLERANCE
    assert 0.05 < ours.map50 <= 1.0  # a scene where the numbers mean something


@pytest.mark.parametrize("iou", [0.5, 0.75])
def test_evaluate_ap_equals_coco_ap_at_that_threshold(iou):
    scene = random_scene(7, jitter=0.05)
    _, _, per_threshold = _engine_and_reference(scene)
    row = int(np.flatnonzero(np.isclose(np.linspace(0.5, 0.95, 10), iou))[0])
    evaluation = evaluate(scene.gt, scene.pred, iou=iou, num_images=scene.num_images)
    ap = np.array([c.ap for c in evaluation.classes])
    assert np.nanmax(np.abs(ap - per_threshold[row])) < TOLERANCE
    assert abs(evaluation.mean_ap - np.nanmean(per_threshold[row])) < TOLERANCE


@pytest.mark.parametrize("confidence", [0.0, 0.5, 0.8])
def test_precision_recall_at_confidence_agree_with_coco_matches(confidence):
    """COCO's per-image matches (evalImgs at IoU 0.5) restricted to scores >= confidence give the same TP counts."""
    scene = random_scene(8, jitter=0.05, max_gt=6)
    reference, _ = cocoeval(scene.gt, scene.pred, scene.num_images, scene.num_classes)
    tp = np.zeros(scene.num_classes, dtype=int)
    kept = np.zeros(scene.num_classes, dtype=int)
    for e in reference.evalImgs:
        if e is None or e["aRng"] != [0, 1e10]:
            continue
        k = e["category_id"] - 1
        scores = np.asarray(e["dtScores"])
        matched = np.asarray(e["dtMatches"][0]) > 0  # row 0 = IoU 0.5
        tp[k] += int((matched & (scores >= confidence)).sum())
        kept[k] += int((scores >= confidence).sum())
    support = np.bincount(scene.gt.category, minlength=scene.num_classes)
    evaluation = evaluate(scene.gt, scene.pred, iou=0.5, confidence=confidence, num_images=scene.num_images)
    for c in evaluation.classes:
        assert c.true_positives == tp[c.index]
        assert c.predictions == kept[c.index]
        assert kept[c.index] > 0
        assert abs(c.precision - tp[c.index] / kept[c.index]) < 1e-12
        assert abs(c.recall - tp[c.index] / support[c.index]) < 1e-12


def test_max_dets_limits_predictions_per_image_and_class_like_coco():
    rng = np.random.default_rng(11)
    # 3 images, one class; image 0 gets 150 predictions (50 beyond maxDets).
    gt = Boxes.build(
        np.repeat([0, 1, 2], 30), np.zeros(90, int), np.c_[rng.uniform(0, 400, (90, 2)), np.full((90, 2), 40.0)]
    )
    src = rng.integers(0, 90, 220)
    image = np.where(np.arange(220) < 150, 0, gt.image[src])
    xy = np.where(
        (np.arange(220) < 150)[:, None], rng.uniform(0, 400, (220, 2)), gt.xywh[src, :2] + rng.normal(0, 3, (220, 2))
    )
    pred = Boxes.build(image, np.zeros(220, int), np.c_[xy, np.full((220, 2), 40.0)], rng.random(220))
    ours = coco_map(gt, pred, num_images=3)
    reference, per_threshold = cocoeval(gt, pred, 3, 1)
    assert abs(ours.map - reference.stats[0]) < TOLERANCE
    assert abs(ours.classes[0].ap50 - per_threshold[0, 0]) < TOLERANCE
    unlimited = coco_map(gt, pred, num_images=3, max_dets=1000)
    assert unlimited.classes[0].ap50 != pytest.approx(ours.classes[0].ap50)  # the limit did matter here


@st.composite
def small_scenes(draw):
    num_images = draw(st.integers(1, 6))
    num_classes = draw(st.integers(1, 3))

    def boxes(max_size, scored):
        n = draw(st.integers(0, max_size))
        image = draw(st.lists(st.integers(0, num_images - 1), min_size=n, max_size=n))
        category = draw(st.lists(st.integers(0, num_classes - 1), min_size=n, max_size=n))
        coords = draw(st.lists(st.tuples(*[st.integers(0, 12)] * 2, *[st.integers(1, 8)] * 2), min_size=n, max_size=n))
        score = draw(st.lists(st.sampled_from([0.1, 0.5, 0.5, 0.9, 1.0]), min_size=n, max_size=n)) if scored else None
        return Boxes.build(
            np.array(image, dtype=np.int64), np.array(category, dtype=np.int64), np.array(coords, dtype=float), score
        )

    return num_images, num_classes, boxes(12, False), boxes(14, True)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_scenes())
def test_property_tiny_scenes_with_ties_agree_with_cocoeval_exactly(scene):
    """Integer boxes on a small grid and five score levels: IoU ties, score ties, crowded images, empty classes."""
    num_images, num_classes, gt, pred = scene
    ours = coco_map(gt, pred, num_images=num_images)
    reference, per_threshold = cocoeval(gt, pred, num_images, num_classes)
    table = np.full((10, num_classes), np.nan)
    table[:, : ours.ap_per_threshold.shape[1]] = ours.ap_per_threshold[:, :num_classes]
    assert np.array_equal(np.isnan(table), np.isnan(per_threshold))
    if not np.isnan(per_threshold).all():
        assert np.nanmax(np.abs(table - per_threshold)) < 1e-9
        assert abs(ours.map - reference.stats[0]) < 1e-9
    else:
        assert np.isnan(ours.map) and reference.stats[0] == -1
