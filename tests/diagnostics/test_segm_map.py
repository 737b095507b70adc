"""Segmentation mAP (COCO "segm") from stored documents equals pycocotools' COCOeval(iouType="segm") within 1e-3,
for mask predictions against mask ground truth and against polygon ground truth (rasterised as COCO does)."""

from __future__ import annotations

import contextlib
import io

import numpy as np
import pytest
from pycocotools import mask as cmask
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from apps.diagnostics.domain.documents import from_documents
from apps.diagnostics.domain.mean_ap import coco_map
from apps.ontologies.domain import rle as R

H, W = 60, 80
CLASSES = ["weed", "crop", "stone"]


def _blob(rng: np.random.Generator) -> np.ndarray:
    m = np.zeros((H, W), np.uint8)
    cy, cx = rng.integers(5, H - 5), rng.integers(5, W - 5)
    ry, rx = rng.integers(4, 14), rng.integers(4, 14)
    yy, xx = np.ogrid[:H, :W]
    m[((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1] = 1
    return m


def _perturb(m: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    shift = (int(rng.integers(-2, 3)), int(rng.integers(-2, 3)))
    out = np.roll(m, shift, axis=(0, 1))
    ys, xs = np.nonzero(out | m)
    window = np.zeros_like(m, dtype=bool)
    window[max(ys.min() - 2, 0) : ys.max() + 3, max(xs.min() - 2, 0) : xs.max() + 3] = True
    out = np.where(window & (rng.random((H, W)) < 0.03), 1 - out, out).astype(np.uint8)
    return out if out.any() else m


def _polygon(rng: np.random.Generator) -> list[float]:
    cx, cy = rng.uniform(10, W - 10), rng.uniform(10, H - 10)
    angles = np.sort(rng.uniform(0, 2 * np.pi, int(rng.integers(5, 9))))
    radius = rng.uniform(8, 16, len(angles))
    xs = np.clip(cx + radius * np.cos(angles), 0, W)
    ys = np.clip(cy + radius * np.sin(angles), 0, H)
    return [float(v) for xy in zip(xs, ys, strict=True) for v in xy]


def _scene(seed: int, polygon_gt: bool):
    rng = np.random.default_rng(seed)
    gt_docs, pred_docs, coco_gt, coco_dt = [], [], [], []
    for image in range(40):
        gt_doc, pred_doc = [], []
        for _ in range(int(rng.integers(0, 6))):
            k = int(rng.integers(0, len(CLASSES)))
            if polygon_gt:
                xy = _polygon(rng)
                truth = cmask.decode(cmask.frPyObjects([xy], H, W)[0])
                gt_doc.append(
                    {
                        "schema_id": CLASSES[k],
                        "name": CLASSES[k],
                        "tool": "polygon",
                        "polygon": [{"x": xy[i], "y": xy[i + 1]} for i in range(0, len(xy), 2)],
                    }
                )
                segmentation = [xy]
            else:
                truth = _blob(rng)
                gt_doc.append(
                    {"schema_id": CLASSES[k], "name": CLASSES[k], "tool": "mask", "mask": R.encode(truth).document()}
                )
                segmentation = cmask.encode(np.asfortranarray(truth))
            if not truth.any():
                gt_doc.pop()
                continue
            coco_gt.append(
                {
                    "image_id": image + 1,
                    "category_id": k + 1,
                    "segmentation": segmentation,
                    "area": float(truth.sum()),
                    "iscrowd": 0,
                }
            )
            detections = []
            if rng.random() < 0.8:  # found, maybe with the wrong class
                kp = k if rng.random() < 0.85 else int(rng.integers(0, len(CLASSES)))
                detections.append((kp, _perturb(truth, rng)))
            if rng.random() < 0.2:  # a duplicate
                detections.append((k, _perturb(truth, rng)))
            for kp, m in detections:
                score = round(float(rng.random()), 4)
                pred_doc.append(
                    {
                        "schema_id": CLASSES[kp],
                        "name": CLASSES[kp],
                        "tool": "mask",
                        "mask": R.encode(m).document(),
                        "confidence": score,
                    }
                )
                coco_dt.append(
                    {
                        "image_id": image + 1,
                        "category_id": kp + 1,
                        "segmentation": cmask.encode(np.asfortranarray(m)),
                        "score": score,
                    }
                )
        for _ in range(int(rng.integers(0, 3))):  # false positives
            kp = int(rng.integers(0, len(CLASSES)))
            m = _blob(rng)
            score = round(float(rng.random()), 4)
            pred_doc.append(
                {
                    "schema_id": CLASSES[kp],
                    "name": CLASSES[kp],
                    "tool": "mask",
                    "mask": R.encode(m).document(),
                    "confidence": score,
                }
            )
            coco_dt.append(
                {
                    "image_id": image + 1,
                    "category_id": kp + 1,
                    "segmentation": cmask.encode(np.asfortranarray(m)),
                    "score": score,
                }
            )
        gt_docs.append(gt_doc)
        pred_docs.append(pred_doc)
    return gt_docs, pred_docs, coco_gt, coco_dt


def _cocoeval(coco_gt: list, coco_dt: list) -> COCOeval:
    dataset = {
        "images": [{"id": i + 1, "width": W, "height": H} for i in range(40)],
        "categories": [{"id": k + 1, "name": n} for k, n in enumerate(CLASSES)],
        "annotations": [{**a, "id": n + 1} for n, a in enumerate(coco_gt)],
    }
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO()
        gt.dataset = dataset
        gt.createIndex()
        dt = gt.loadRes(coco_dt)
        ev = COCOeval(gt, dt, "segm")
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return ev


@pytest.mark.parametrize("polygon_gt", [False, True], ids=["mask-gt", "polygon-gt"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_segm_map_equals_cocoeval(seed: int, polygon_gt: bool) -> None:
    gt_docs, pred_docs, coco_gt, coco_dt = _scene(seed, polygon_gt)
    evaluation = from_documents(gt_docs, pred_docs, segm=True, image_sizes=[(W, H)] * len(gt_docs))
    assert evaluation.skipped == {"ground_truth": 0, "predictions": 0}
    assert len(evaluation.gt) == len(coco_gt) and len(evaluation.pred) == len(coco_dt)
    order = [evaluation.classes.index(c) for c in evaluation.classes]
    assert order == list(range(len(evaluation.classes)))
    ours = coco_map(evaluation.gt, evaluation.pred, classes=evaluation.classes, num_images=evaluation.num_images)
    ev = _cocoeval(coco_gt, coco_dt)
    assert ours.map == pytest.approx(ev.stats[0], abs=1e-3)
    assert ours.map50 == pytest.approx(ev.stats[1], abs=1e-3)
    assert ours.map75 == pytest.approx(ev.stats[2], abs=1e-3)
    precision = ev.eval["precision"][:, :, :, 0, -1]  # (T, R, K) for area "all", maxDets 100
    for ref, result in zip(evaluation.classes, ours.classes, strict=True):
        k = CLASSES.index(ref.key)
        column = precision[:, :, k]
        expected = float(column[column > -1].mean()) if (column > -1).any() else float("nan")
        if np.isnan(expected):
            assert np.isnan(result.ap)
        else:
            assert result.ap == pytest.approx(expected, abs=1e-3)
    assert 0.05 < ours.map < 0.95  # a scene that tests something: neither empty nor perfect


def test_segm_mode_differs_from_box_mode_on_masks() -> None:
    """A box evaluation would skip mask tools; the segm evaluation uses them, and masks with disjoint pixels but
    overlapping boxes do not match."""
    ring = np.zeros((H, W), np.uint8)
    ring[10:40, 10:40] = 1
    ring[15:35, 15:35] = 0
    inside = np.zeros((H, W), np.uint8)
    inside[18:32, 18:32] = 1
    gt = [[{"schema_id": "weed", "name": "weed", "tool": "mask", "mask": R.encode(ring).document()}]]
    pred = [
        [{"schema_id": "weed", "name": "weed", "tool": "mask", "mask": R.encode(inside).document(), "confidence": 0.9}]
    ]
    boxes = from_documents(gt, pred)
    assert len(boxes.gt) == 0 and boxes.skipped == {"ground_truth": 1, "predictions": 1}
    masks = from_documents(gt, pred, segm=True, image_sizes=[(W, H)])
    assert coco_map(masks.gt, masks.pred, classes=masks.classes).map == 0.0
