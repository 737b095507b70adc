"""Boxes with extreme sizes or aspect ratios: robust z-scores (median and MAD) of log(area) and log(width/height)
over every box of one side (ground truth or predictions) of a run, per class when the class has enough boxes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from apps.diagnostics.domain.boxes import Boxes, ClassRef, FloatArray, IntArray

MIN_CLASS_BOXES = 20  # fewer boxes of a class: compare with every box of the side instead
Z_LIMIT = 3.5
_MAD_SCALE = 1.4826  # MAD of a normal distribution → its standard deviation


def robust_z(values: FloatArray) -> FloatArray:
    """(x - median) / (1.4826 · MAD); 0 everywhere when the MAD is 0."""
    if len(values) == 0:
        return np.zeros(0)
    median = float(np.median(values))
    mad = float(np.median(np.abs(values - median))) * _MAD_SCALE
    if mad == 0:
        return np.zeros(len(values))
    return (values - median) / mad


@dataclass(frozen=True)
class BoxOutlier:
    side: str  # "ground_truth" | "prediction"
    box: int
    image: int
    category: int
    xywh: tuple[float, float, float, float]
    area_z: float
    aspect_z: float
    reasons: tuple[str, ...]  # "large" "small" "wide" "tall"

    def as_dict(self, classes: tuple[ClassRef, ...] | list[ClassRef]) -> dict[str, Any]:
        ref = classes[self.category] if 0 <= self.category < len(classes) else None
        return {
            "side": self.side,
            "image": self.image,
            "schema_id": ref.key if ref else None,
            "name": ref.name if ref else None,
            "box": [round(v, 3) for v in self.xywh],
            "area_z": round(self.area_z, 3),
            "aspect_z": round(self.aspect_z, 3),
            "reasons": list(self.reasons),
        }


def box_outliers(
    boxes: Boxes, *, side: str, mask: IntArray | None = None, z_limit: float = Z_LIMIT, limit: int = 50
) -> list[BoxOutlier]:
    """The boxes (of `mask`, default all) whose |z| of log area or log aspect ratio exceeds `z_limit`, most extreme
    first, at most `limit`."""
    index = np.arange(len(boxes)) if mask is None else np.asarray(mask, dtype=np.int64)
    if len(index) == 0:
        return []
    wh = np.maximum(boxes.xywh[index, 2:], 1e-6)
    log_area = np.log(wh[:, 0] * wh[:, 1])
    log_aspect = np.log(wh[:, 0] / wh[:, 1])
    category = boxes.category[index]
    area_z = robust_z(log_area)
    aspect_z = robust_z(log_aspect)
    for k in np.unique(category):
        members = category == k
        if members.sum() >= MIN_CLASS_BOXES:
            area_z[members] = robust_z(log_area[members])
            aspect_z[members] = robust_z(log_aspect[members])
    worst = np.maximum(np.abs(area_z), np.abs(aspect_z))
    flagged = np.flatnonzero(worst > z_limit)
    flagged = flagged[np.argsort(-worst[flagged], kind="stable")][:limit]
    out = []
    for p in flagged:
        reasons = []
        if area_z[p] > z_limit:
            reasons.append("large")
        if area_z[p] < -z_limit:
            reasons.append("small")
        if aspect_z[p] > z_limit:
            reasons.append("wide")
        if aspect_z[p] < -z_limit:
            reasons.append("tall")
        b = int(index[p])
        x, y, w, h = (float(v) for v in boxes.xywh[b])
        out.append(
            BoxOutlier(
                side,
                b,
                int(boxes.image[b]),
                int(boxes.category[b]),
                (x, y, w, h),
                float(area_z[p]),
                float(aspect_z[p]),
                tuple(reasons),
            )
        )
    return out
