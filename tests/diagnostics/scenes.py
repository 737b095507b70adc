"""Seeded random detection scenes and a bridge to pycocotools' COCOeval (the reference)."""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass

import numpy as np

from apps.diagnostics.domain.boxes import Boxes


@dataclass
class Scene:
    gt: Boxes
    pred: Boxes
    num_images: int
    num_classes: int


def random_scene(
    seed: int,
    num_images: int = 300,
    num_classes: int = 6,
    max_gt: int = 8,
    *,
    jitter: float = 0.15,
    miss: float = 0.2,
    swap: float = 0.1,
    extra: float = 1.5,
    duplicate: float = 0.1,
    score_levels: int | None = None,
    integer_coords: bool = False,
) -> Scene:
    """Ground truth boxes; predictions = jittered copies (some missed, some with another class, some duplicated)
    plus random false positives; random scores (quantised to `score_levels` values to create ties)."""
    rng = np.random.default_rng(seed)
    counts = rng.integers(0, max_gt + 1, num_images)
    image = np.repeat(np.arange(num_images), counts)
    n = len(image)
    category = rng.integers(0, num_classes, n)
    w = rng.uniform(5, 120, n)
    h = rng.uniform(5, 120, n)
    x = rng.uniform(0, 500, n)
    y = rng.uniform(0, 500, n)
    gt_xywh = np.stack([x, y, w, h], axis=1)
    if integer_coords:
        gt_xywh = np.round(gt_xywh)
        gt_xywh[:, 2:] = np.maximum(gt_xywh[:, 2:], 1)
    # Predictions derived from ground truth.
    keep = rng.random(n) >= miss
    src = np.flatnonzero(keep)
    dup = src[rng.random(len(src)) < duplicate]
    src = np.concatenate([src, dup])
    p_xywh = gt_xywh[src].copy()
    scale = p_xywh[:, 2:].repeat(2, axis=1)
    p_xywh += rng.normal(0, jitter, (len(src), 4)) * scale
    p_xywh[:, 2:] = np.abs(p_xywh[:, 2:]) + 0.5
    p_cat = category[src].copy()
    swapped = rng.random(len(src)) < swap
    p_cat[swapped] = rng.integers(0, num_classes, swapped.sum())
    p_img = image[src]
    # Random false positives.
    n_fp = rng.poisson(extra, num_images)
    fp_img = np.repeat(np.arange(num_images), n_fp)
    m = len(fp_img)
    fp_xywh = np.stack(
        [rng.uniform(0, 500, m), rng.uniform(0, 500, m), rng.uniform(5, 120, m), rng.uniform(5, 120, m)], 1
    )
    fp_cat = rng.integers(0, num_classes, m)
    pred_img = np.concatenate([p_img, fp_img])
    pred_cat = np.concatenate([p_cat, fp_cat])
    pred_xywh = np.concatenate([p_xywh, fp_xywh])
    if integer_coords:
        pred_xywh = np.round(pred_xywh)
        pred_xywh[:, 2:] = np.maximum(pred_xywh[:, 2:], 1)
    score = rng.random(len(pred_img))
    score[: len(src)] = np.clip(score[: len(src)] + 0.3, 0, 1)  # true detections tend to score higher
    if score_levels:
        score = np.round(score * score_levels) / score_levels
    # Shuffle predictions so they are not grouped by image (the engine must not rely on order).
    order = rng.permutation(len(pred_img))
    return Scene(
        gt=Boxes.build(image, category, gt_xywh),
        pred=Boxes.build(pred_img[order], pred_cat[order], pred_xywh[order], score[order]),
        num_images=num_images,
        num_classes=num_classes,
    )


def cocoeval(gt: Boxes, pred: Boxes, num_images: int, num_classes: int, max_dets: int = 100):
    """Run pycocotools' COCOeval (bbox) on the same boxes. Image id = index + 1, category id = class + 1."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    dataset = {
        "images": [{"id": i + 1, "width": 1000, "height": 1000} for i in range(num_images)],
        "categories": [{"id": k + 1, "name": str(k)} for k in range(num_classes)],
        "annotations": [
            {
                "id": j + 1,
                "image_id": int(gt.image[j]) + 1,
                "category_id": int(gt.category[j]) + 1,
                "bbox": [float(v) for v in gt.xywh[j]],
                "area": float(gt.xywh[j, 2] * gt.xywh[j, 3]),
                "iscrowd": 0,
            }
            for j in range(len(gt))
        ],
    }
    results = [
        {
            "image_id": int(pred.image[j]) + 1,
            "category_id": int(pred.category[j]) + 1,
            "bbox": [float(v) for v in pred.xywh[j]],
            "score": float(pred.score[j]),
        }
        for j in range(len(pred))
    ]
    with contextlib.redirect_stdout(io.StringIO()):
        coco_gt = COCO()
        coco_gt.dataset = dataset
        coco_gt.createIndex()
        coco_dt = coco_gt.loadRes(results) if results else COCO()
        if not results:
            coco_dt.dataset = {"images": dataset["images"], "categories": dataset["categories"], "annotations": []}
            coco_dt.createIndex()
        ev = COCOeval(coco_gt, coco_dt, "bbox")
        ev.params.maxDets = [1, 10, max_dets]
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    precision = ev.eval["precision"][:, :, :, 0, -1]  # (T, R, K)
    per_threshold = np.where((precision > -1).all(axis=1), precision.mean(axis=1), np.nan)  # (T, K)
    return ev, per_threshold
