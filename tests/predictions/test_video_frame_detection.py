"""Per-frame detection metrics of a video model run (`frame_detection` beside `tracking`): every frame's interpolated
ground-truth boxes against the prediction's boxes on that frame, equal to pycocotools (AP at IoU 0.5) and to an
independent greedy matching (precision, recall, F1 at a confidence threshold), on all frames and on sampled ones."""

from __future__ import annotations

import numpy as np
import pytest
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from apps.diagnostics.services import _vocabularies, run_documents
from apps.diagnostics.video_frames import frame_detection_block
from apps.labeling import services as labeling_services
from apps.predictions import services as prediction_services
from tests.datasets.conftest import dataset, manager, manager_client  # noqa: F401
from tests.predictions.conftest import add_batch, ndjson
from tests.predictions.test_video_imports import KIND, box, media_root, track, video_row  # noqa: F401

pytestmark = pytest.mark.django_db

FRAMES = 45

# Ground truth: the moving rectangle (keyframes 0 and 44: left 2 + f) and a parked car on frames 0–29.
TRUTH = [
    {
        "name": "vehicle",
        "track_id": "moving",
        "keyframes": [{"frame": 0, "bbox": box(2, 10)}, {"frame": 44, "bbox": box(46, 10)}],
        "classifications": KIND,
    },
    {
        "name": "vehicle",
        "track_id": "parked",
        "keyframes": [{"frame": 0, "bbox": box(40, 30, 10, 10)}, {"frame": 30, "outside": True}],
        "classifications": KIND,
    },
]


def truth_boxes(f: int) -> list[tuple[float, float, float, float]]:
    out = [(2.0 + 44 * (f / 44), 10.0, 12.0, 8.0)]
    if f < 30:
        out.append((40.0, 30.0, 10.0, 10.0))
    return out


def predicted_boxes(f: int) -> list[tuple[tuple[float, float, float, float], float]]:
    """The predictions below, frame by frame, with their scores (the keyframe's at or before, else the track's)."""
    out = []
    left = 2.0 + 49 * (min(f, 40) / 40)  # drifts 0.225 px per frame ahead of the truth: IoU < 0.5 from frame 18
    out.append(((left, 10.0, 12.0, 8.0), 0.9 if f < 40 else 0.4))
    if f < 15:
        out.append(((41.0, 30.0, 10.0, 10.0), 0.6))  # the parked car, found on frames 0–14 only
    if 10 <= f < 20:
        out.append(((50.0, 2.0, 8.0, 8.0), 0.3))  # a ghost
    return out


PREDICTED = [
    track("clip.mp4", "a", [{"frame": 0, "bbox": box(2, 10), "confidence": 0.9},
                            {"frame": 40, "bbox": box(51, 10), "confidence": 0.4}]),
    track("clip.mp4", "p", [{"frame": 0, "bbox": box(41, 30, 10, 10)}, {"frame": 15, "outside": True}],
          confidence=0.6),
    track("clip.mp4", "ghost", [{"frame": 10, "bbox": box(50, 2, 8, 8)}, {"frame": 20, "outside": True}],
          confidence=0.3),
]  # fmt: skip


def coco_ap50(frames: list[int]) -> float:
    """pycocotools' AP at IoU 0.5 (one class, frames as images)."""
    images = [{"id": i + 1} for i in range(len(frames))]
    anns, dets = [], []
    for image, f in enumerate(frames, start=1):
        for b in truth_boxes(f):
            anns.append({"id": len(anns) + 1, "image_id": image, "category_id": 1, "bbox": list(b),
                         "area": b[2] * b[3], "iscrowd": 0})  # fmt: skip
        for b, score in predicted_boxes(f):
            dets.append({"image_id": image, "category_id": 1, "bbox": list(b), "score": score})
    gt = COCO()
    gt.dataset = {"images": images, "annotations": anns, "categories": [{"id": 1, "name": "vehicle"}]}
    gt.createIndex()
    e = COCOeval(gt, gt.loadRes(dets), "bbox")
    e.params.iouThrs = np.array([0.5])
    e.evaluate()
    e.accumulate()
    p = e.eval["precision"][0, :, 0, 0, 2]
    return float(np.mean(p[p > -1]))


def iou(a, b) -> float:
    ix = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


def greedy_counts(frames: list[int], confidence: float) -> tuple[int, int, int]:
    """TP, FP, FN: on each frame, predictions by descending score take the best unmatched truth at IoU >= 0.5."""
    tp = fp = fn = 0
    for f in frames:
        truth = truth_boxes(f)
        taken = [False] * len(truth)
        for b, _score in sorted((p for p in predicted_boxes(f) if p[1] >= confidence), key=lambda p: -p[1]):
            best, best_iou = -1, 0.5
            for j, t in enumerate(truth):
                if not taken[j] and iou(b, t) >= best_iou:
                    best, best_iou = j, iou(b, t)
            if best >= 0:
                taken[best] = True
                tp += 1
            else:
                fp += 1
        fn += taken.count(False)
    return tp, fp, fn


@pytest.fixture
def video_run(project, members, org_admin, video_row, post_ndjson, client_for):  # noqa: F811
    add_batch(project, org_admin, [video_row])
    task = labeling_services.queue_claim(actor=members["labeler"], project=project)
    labeling_services.label_submit(actor=members["labeler"], task=task, annotations=TRUTH)
    model = prediction_services.model_create(actor=org_admin, name="tracker", ontology=project.ontology)
    run = prediction_services.model_run_create(actor=org_admin, model=model, name="v1")
    result = post_ndjson(org_admin, f"/api/v1/model_runs/{run.id}/predictions", ndjson(PREDICTED)).json()
    assert (result["created"], result["failed"]) == (3, 0), result
    admin = client_for(org_admin)
    attached = admin.post(f"/api/v1/model_runs/{run.id}/ground_truth", {"project": str(project.id)}, format="json")
    assert attached.status_code in (200, 201), attached.content
    return run, admin


def test_frame_detection_metrics_equal_pycocotools_and_greedy_matching(video_run, client, org_admin):
    run, admin = video_run
    frames = list(range(FRAMES))
    for confidence in (0.0, 0.5):
        response = admin.get(f"/api/v1/model_runs/{run.id}/metrics?iou=0.5&confidence={confidence}")
        assert response.status_code == 200, response.content
        body = response.json()
        block = body["frame_detection"]
        assert "tracking" in body  # shown beside MOTA / IDF1
        assert (block["videos"], block["frames"], block["sampled_every"]) == (1, FRAMES, 1)
        assert block["ap"] == pytest.approx(coco_ap50(frames), abs=1e-6)
        tp, fp, fn = greedy_counts(frames, confidence)
        assert (block["true_positives"], block["false_positives"], block["false_negatives"]) == (tp, fp, fn)
        assert block["precision"] == pytest.approx(tp / (tp + fp))
        assert block["recall"] == pytest.approx(tp / (tp + fn))
        assert block["f1"] == pytest.approx(2 * tp / (2 * tp + fp + fn))
    assert (tp, fp, fn) == (18 + 15, 40 - 18, 45 - 18 + 30 - 15)  # at 0.5: the ghost and frames 40–44 of `a` are out
    (vehicle,) = block["classes"]
    assert vehicle["name"] == "vehicle" and vehicle["support"] == 45 + 30

    client.force_login(org_admin)
    response = client.get(f"/model_runs/{run.id}/diagnostics/", {"iou": "0.5", "confidence": "0.5"})
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="video-metrics"' in page and 'id="mota"' in page  # beside MOTA / IDF1 on the run's page
    assert f'id="frame-precision">{tp / (tp + fp):.3f}<' in page
    assert f'id="frame-recall">{tp / (tp + fn):.3f}<' in page
    assert "over 45 frames (all frames)" in page


def test_frames_are_sampled_evenly_above_the_limit(video_run):
    run, _admin = video_run
    gt_rows, pred_docs = run_documents(run)
    classes, _q, _o = _vocabularies(run)
    block = frame_detection_block(
        [r[0] for r in gt_rows], [r[1] for r in gt_rows], pred_docs, iou=0.5, confidence=0.0, classes=classes,
        max_frames=10,
    )  # fmt: skip
    assert block is not None
    sampled = list(range(0, FRAMES, 5))  # 45 frames, at most 10: every 5th (9 frames)
    assert (block["frames"], block["sampled_every"]) == (len(sampled), 5)
    assert block["ap"] == pytest.approx(coco_ap50(sampled), abs=1e-6)
    tp, fp, fn = greedy_counts(sampled, 0.0)
    assert (block["true_positives"], block["false_positives"], block["false_negatives"]) == (tp, fp, fn)
