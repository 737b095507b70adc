"""Tracking metrics equal py-motmetrics on generated tracks; video track agreement (per-frame IoU over the union of
frames, tracks paired by maximum total agreement)."""

from __future__ import annotations

import random
from typing import Any

import motmetrics as mm
import numpy as np
import pytest

from apps.diagnostics.domain.tracking import iou_distance, tracking_metrics
from apps.ontologies.domain.video import Keyframe, Track
from apps.quality.domain.video_agreement import track_agreement, video_agreement


def generated_tracks(seed: int, frames: int = 60, objects: int = 6) -> tuple[dict[int, list], dict[int, list]]:
    """Ground truth: objects moving on straight lines, appearing and leaving. Predictions: noisy copies with missed
    frames, false positives and id swaps (a tracker's typical mistakes)."""
    rng = random.Random(seed)
    gt: dict[int, list] = {f: [] for f in range(frames)}
    pred: dict[int, list] = {f: [] for f in range(frames)}
    for n in range(objects):
        start, end = sorted(rng.sample(range(frames), 2))
        x, y, vx, vy = rng.uniform(0, 300), rng.uniform(0, 300), rng.uniform(-3, 3), rng.uniform(-3, 3)
        w, h = rng.uniform(20, 60), rng.uniform(20, 60)
        swap_at = rng.randrange(frames)
        for f in range(start, end + 1):
            box = (x + vx * f, y + vy * f, w, h)
            gt[f].append((n, box))
            if rng.random() < 0.1:
                continue  # missed
            noisy = (box[0] + rng.gauss(0, 4), box[1] + rng.gauss(0, 4), w * rng.uniform(0.8, 1.2), h)
            pred_id = 100 + n if f < swap_at else 200 + (n + 1) % objects  # an id switch mid-track
            pred[f].append((pred_id, noisy))
        for f in range(frames):
            if rng.random() < 0.05:
                pred[f].append((900 + f, (rng.uniform(0, 300), rng.uniform(0, 300), 30, 30)))
    return gt, pred


@pytest.fixture(autouse=True)
def numpy_asfarray(monkeypatch: pytest.MonkeyPatch) -> None:
    """motmetrics 1.4.0 (the latest release) calls `np.asfarray`, removed in NumPy 2: give it back for the test."""
    if not hasattr(np, "asfarray"):
        monkeypatch.setattr(np, "asfarray", lambda a, dtype=float: np.asarray(a, dtype=dtype), raising=False)


def motmetrics_reference(gt: dict[int, list], pred: dict[int, list]) -> dict[str, Any]:
    acc = mm.MOTAccumulator(auto_id=False)
    for f in sorted(set(gt) | set(pred)):
        g, p = gt.get(f, []), pred.get(f, [])
        distances = mm.distances.iou_matrix([b for _, b in g], [b for _, b in p], max_iou=0.5)
        acc.update([i for i, _ in g], [i for i, _ in p], distances, frameid=f)
    metrics = ["mota", "motp", "idf1", "idp", "idr", "num_switches", "num_misses", "num_false_positives"]
    return mm.metrics.create().compute(acc, metrics=metrics, name="x").iloc[0].to_dict()


@pytest.mark.parametrize("seed", range(12))
def test_tracking_metrics_equal_motmetrics(seed: int) -> None:
    gt, pred = generated_tracks(seed)
    ours = tracking_metrics(gt, pred)
    ref = motmetrics_reference(gt, pred)
    assert ours.id_switches == ref["num_switches"]
    assert ours.misses == ref["num_misses"] and ours.false_positives == ref["num_false_positives"]
    assert ours.mota == pytest.approx(ref["mota"], abs=1e-12)
    assert ours.motp == pytest.approx(ref["motp"], abs=1e-12)
    assert ours.idf1 == pytest.approx(ref["idf1"], abs=1e-12)
    assert ours.idr == pytest.approx(ref["idr"], abs=1e-12)
    # IDP: ours is IDTP / predictions (the MOT Challenge definition, consistent with IDF1 = 2 / (1/IDP + 1/IDR));
    # motmetrics 1.4's IDP uses a different IDFP and is not compared
    assert ours.idf1 == pytest.approx(2 / (1 / ours.idp + 1 / ours.idr), abs=1e-12)


def test_generated_tracks_exercise_every_error_kind() -> None:
    totals = [tracking_metrics(*generated_tracks(seed)) for seed in range(12)]
    assert sum(t.id_switches for t in totals) > 0
    assert sum(t.misses for t in totals) > 0 and sum(t.false_positives for t in totals) > 0
    assert len({round(t.mota, 6) for t in totals}) > 6  # not a constant


def test_perfect_predictions_score_one() -> None:
    gt, _pred = generated_tracks(3)
    same = tracking_metrics(gt, {f: [(f"p{i}", b) for i, b in objs] for f, objs in gt.items()})
    assert (same.mota, same.idf1, same.id_switches) == (1.0, 1.0, 0)
    assert same.motp == pytest.approx(0.0, abs=1e-12)


def test_iou_distance_threshold() -> None:
    d = iou_distance([(0, 0, 10, 10)], [(0, 0, 10, 10), (5, 0, 10, 10), (0, 0, 20, 10)], 0.5)
    assert d[0, 0] == 0 and np.isnan(d[0, 1]) and d[0, 2] == 0.5  # IoU 1, 1/3, exactly 0.5


def box(left: float, top: float, width: float, height: float) -> dict[str, float]:
    return {"top": top, "left": left, "height": height, "width": width}


def test_track_agreement_averages_iou_over_the_union_of_frames() -> None:
    a = Track("a", "bbox", "s", "car", [Keyframe(0, box(0, 0, 10, 10)), Keyframe(10, None, True)])  # frames 0-9
    b = Track("b", "bbox", "s", "car", [Keyframe(5, box(0, 0, 10, 20)), Keyframe(15, None, True)])  # frames 5-14
    # both on 5..9 with IoU 0.5; union 0..14 = 15 frames
    assert track_agreement(a, b, 30) == pytest.approx(5 * 0.5 / 15)
    assert track_agreement(a, a, 30) == 1.0


def track_item(track_id: str, keyframes: list[dict[str, Any]], schema_id: str = "s-car") -> dict[str, Any]:
    return {"schema_id": schema_id, "name": "car", "tool": "bbox", "track_id": track_id, "keyframes": keyframes}


def test_tracks_are_paired_by_maximum_total_agreement() -> None:
    left = [{"frame": 0, "bbox": box(0, 0, 10, 10)}]
    right = [{"frame": 0, "bbox": box(100, 0, 10, 10)}]
    a = [track_item("l", left), track_item("r", right)]
    b = [track_item("R", right), track_item("L", [{"frame": 0, "bbox": box(1, 0, 10, 10)}]), track_item("x", right)]
    result = video_agreement(a, b, frame_count=20)
    pairs = {(x, y) for x, y, _ in result.pairs["s-car"]}
    assert pairs == {("l", "L"), ("r", "R")}
    expected = (1.0 + 9 / 11) / 3  # Σ paired agreements / max(2, 3)
    assert result.features["s-car"] == pytest.approx(expected) and result.score == pytest.approx(expected)
    assert video_agreement(a, a, frame_count=20).score == 1.0
    assert video_agreement(a, b, frame_count=20).score == pytest.approx(video_agreement(b, a, frame_count=20).score)


def test_per_frame_and_whole_video_classifications() -> None:
    a = [
        {"schema_id": "w", "name": "weather", "answer": {"schema_id": "sun"}, "frames": [[0, 9]]},
        {"schema_id": "c", "name": "caption", "answer": "street"},
    ]
    b = [
        {"schema_id": "w", "name": "weather", "answer": {"schema_id": "sun"}, "frames": [[5, 14]]},
        {"schema_id": "c", "name": "caption", "answer": "Street "},
    ]
    result = video_agreement(a, b, frame_count=20)
    assert result.features["w"] == pytest.approx(5 / 15)
    assert result.features["c"] == 1.0
    assert video_agreement([], [], frame_count=5).score == 1.0


def test_dense_boxes_equal_the_per_frame_track_lookup() -> None:
    from apps.quality.domain.video_agreement import _dense_boxes

    track = Track(
        "t",
        "bbox",
        "s",
        "car",
        [
            Keyframe(3, box(0, 0, 10, 10)),
            Keyframe(13, box(10, 5, 20, 10)),
            Keyframe(20, None, True),
            Keyframe(25, box(1, 1, 3, 3)),
        ],
    )
    visible, boxes = _dense_boxes(track, 40)
    for f in range(40):
        hit = track.at(f, 40)
        assert visible[f] == (hit is not None)
        if hit is not None:
            g = hit[0]
            expected = [g["left"], g["top"], g["left"] + g["width"], g["top"] + g["height"]]
            assert boxes[f].tolist() == pytest.approx(expected, abs=1e-9)
