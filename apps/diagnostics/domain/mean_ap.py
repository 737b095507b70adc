"""COCO mAP@[.50:.95] (`coco_map`): the stage-1 (class-aware) matching of `detection` at every IoU threshold, COCO's
101-point AP per class, AP50/AP75, and their means over the classes with ground truth."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from apps.diagnostics.domain.average_precision import COCO_IOU_THRESHOLDS, interpolated_precision, nan_mean
from apps.diagnostics.domain.boxes import Boxes, ClassRef, FloatArray
from apps.diagnostics.domain.detection import MAX_DETS, Scene, json_number, match_same_class


@dataclass(frozen=True)
class ClassAP:
    index: int
    key: str
    name: str
    support: int
    ap: float  # mean over the IoU thresholds (COCO's AP@[.50:.95]); NaN without ground truth
    ap50: float
    ap75: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "schema_id": self.key,
            "name": self.name,
            "support": self.support,
            "ap": json_number(self.ap),
            "ap50": json_number(self.ap50),
            "ap75": json_number(self.ap75),
        }


@dataclass(frozen=True, eq=False)
class MapResult:
    classes: list[ClassAP]
    map: float  # COCO's AP (stats[0]): mean over classes with ground truth and over the IoU thresholds
    map50: float  # stats[1]
    map75: float  # stats[2]
    iou_thresholds: FloatArray
    ap_per_threshold: FloatArray  # (T, K)

    def as_dict(self) -> dict[str, Any]:
        return {
            "map": json_number(self.map),
            "map50": json_number(self.map50),
            "map75": json_number(self.map75),
            "classes": [c.as_dict() for c in self.classes],
        }


def coco_map(
    gt: Boxes,
    pred: Boxes,
    *,
    classes: Sequence[ClassRef] | None = None,
    num_images: int | None = None,
    max_dets: int = MAX_DETS,
    iou_thresholds: npt.ArrayLike = COCO_IOU_THRESHOLDS,
) -> MapResult:
    """COCO bbox evaluation (areaRng "all", maxDets `max_dets` per image and class, no crowd boxes): per-class AP
    averaged over `iou_thresholds` plus AP50/AP75, and their means over classes with ground truth."""
    scene = Scene.build(gt, pred, classes, num_images)
    thr = np.asarray(iou_thresholds, dtype=np.float64).reshape(-1)
    stage1 = match_same_class(scene, thr, max_dets=max_dets)
    in_ap = stage1.rank < max_dets
    support = scene.support()
    q = interpolated_precision(
        pred.category[in_ap],
        pred.score[in_ap],
        (pred.image[in_ap], stage1.rank[in_ap]),
        (stage1.match >= 0)[:, in_ap],
        support,
    )
    has = support > 0
    per_threshold = np.full(q.shape[:2], np.nan)
    per_threshold[:, has] = q[:, has, :].mean(axis=2)
    ap = np.full(scene.num_classes, np.nan)
    ap[has] = per_threshold[:, has].mean(axis=0)

    def at(value: float) -> FloatArray:
        hit = np.flatnonzero(np.isclose(thr, value))
        return per_threshold[int(hit[0])] if len(hit) else np.full(scene.num_classes, np.nan)

    ap50, ap75 = at(0.5), at(0.75)
    refs = scene.classes
    per_class = [
        ClassAP(k, refs[k].key, refs[k].name, int(support[k]), float(ap[k]), float(ap50[k]), float(ap75[k]))
        for k in range(scene.num_classes)
    ]
    return MapResult(per_class, nan_mean(ap), nan_mean(ap50), nan_mean(ap75), thr, per_threshold)
