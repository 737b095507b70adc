"""Detection metrics at one IoU and confidence threshold (`evaluate`); COCO mAP@[.50:.95] is `mean_ap.coco_map`.

Matching at IoU threshold t and confidence threshold c, in three stages (each greedy as in `matching`):

1. **Class-aware** (COCO's rule, per image and class): predictions with score >= c, by descending score, each take
   the not-yet-taken ground-truth box of *their class* with the highest IoU >= t → `true_positive` (both sides).
2. **Class-agnostic** among what stage 1 left (per image, any classes): each left-over prediction, by descending
   score, takes the left-over ground-truth box *of another class* with the highest IoU >= t → `confusion` (both
   sides; the confusion matrix cell is [gt class, predicted class]). So a prediction that overlaps a box of another
   class at IoU >= t is a class confusion, not a plain false positive.
3. **Localisation** among what stage 2 left (per image and class): each left-over prediction takes the left-over
   ground-truth box of its class with the highest IoU >= 0.1 (necessarily < t) → the prediction stays a
   `false_positive` and the box a `false_negative`, but both carry `localisation=True` and point at each other.

Everything else is `false_positive` (left-over predictions) or `false_negative` (left-over ground truth).
Predictions with score < c are `ignored` (status -1): they are not part of any count.

Per class k: support = ground-truth boxes of k; tp = matrix[k, k]; fp = predictions of k (score >= c) - tp, which
counts its confusions; fn = support - tp, which counts boxes of k confused as another class; precision = tp/(tp+fp)
(NaN with no prediction), recall = tp/support (NaN with no ground truth), f1 = 2tp/(2tp+fp+fn) (the harmonic mean of
the two; 0 when either is 0; NaN only for a class with neither ground truth nor predictions). AP at IoU t ignores c
(AP integrates over every score): COCO's 101-point AP over the `max_dets` best-scored predictions per image and
class; a class without ground truth has no AP (NaN) and is left out of `mean_ap`.

Ties, as COCO: equal scores are taken in input order; among equally good boxes the later one (input order) wins.
Greedy matching in score order means the stage-1 result for the predictions with score >= c does not depend on the
lower-scored ones, so one matching of every prediction serves both the thresholded counts and AP.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

import numpy as np
import numpy.typing as npt

from apps.diagnostics.domain.average_precision import (
    interpolated_precision,
    nan_mean,
)
from apps.diagnostics.domain.boxes import BoolArray, Boxes, ClassRef, FloatArray, IntArray, pair_iou
from apps.diagnostics.domain.matching import dense_groups, greedy_match, overlapping_pairs, rank_within_groups

LOCALISATION_MIN_IOU = 0.1
MAX_DETS = 100
BACKGROUND = "background"


class Status(IntEnum):
    IGNORED = -1  # a prediction below the confidence threshold
    TRUE_POSITIVE = 0
    FALSE_POSITIVE = 1
    FALSE_NEGATIVE = 2
    CONFUSION = 3


STATUS_NAMES: dict[int, str] = {
    Status.IGNORED: "ignored",
    Status.TRUE_POSITIVE: "true_positive",
    Status.FALSE_POSITIVE: "false_positive",
    Status.FALSE_NEGATIVE: "false_negative",
    Status.CONFUSION: "confusion",
}


def json_number(value: float) -> float | None:
    """NaN (undefined) → None, for JSON."""
    return None if math.isnan(value) else float(value)


def _ratio(num: float, den: float) -> float:
    return num / den if den > 0 else float("nan")


@dataclass(frozen=True, eq=False)
class Scene:
    """Ground truth and predictions of one evaluation, with the class vocabulary and the number of images."""

    gt: Boxes
    pred: Boxes
    classes: tuple[ClassRef, ...]
    num_images: int

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @classmethod
    def build(
        cls,
        gt: Boxes,
        pred: Boxes,
        classes: Sequence[ClassRef] | None = None,
        num_images: int | None = None,
    ) -> Scene:
        refs = list(classes or [])
        top_class = max([int(b.category.max()) + 1 for b in (gt, pred) if len(b)], default=0)
        refs += [ClassRef(str(i), str(i)) for i in range(len(refs), top_class)]
        top_image = max([int(b.image.max()) + 1 for b in (gt, pred) if len(b)], default=0)
        if num_images is not None and num_images < top_image:
            raise ValueError(f"num_images={num_images} but an image index is {top_image - 1}.")
        return cls(gt, pred, tuple(refs), top_image if num_images is None else num_images)

    def support(self) -> IntArray:
        return np.bincount(self.gt.category, minlength=self.num_classes).astype(np.int64)


@dataclass(frozen=True, eq=False)
class ClassMatching:
    """Stage 1 (class-aware greedy matching of all predictions), at one or more IoU thresholds."""

    thresholds: FloatArray
    match: IntArray  # (T, n_pred) matched gt index or -1
    iou: FloatArray  # (T, n_pred)
    rank: IntArray  # (n_pred,) rank inside (image, class) by descending score


def match_same_class(scene: Scene, thresholds: npt.ArrayLike, max_dets: int | None = None) -> ClassMatching:
    """Class-aware greedy matching of the predictions (only the `max_dets` best per image and class, if given)."""
    gt, pred = scene.gt, scene.pred
    thr = np.asarray(thresholds, dtype=np.float64).reshape(-1)
    k = max(scene.num_classes, 1)
    pred_group, gt_group = dense_groups(pred.image * k + pred.category, gt.image * k + gt.category)
    rank = rank_within_groups(pred_group, pred.score)
    candidates = np.arange(len(pred)) if max_dets is None else np.flatnonzero(rank < max_dets)
    pa_local, pb = overlapping_pairs(pred_group[candidates], pred.xywh[candidates], gt_group, gt.xywh)
    pa = candidates[pa_local]
    ious = pair_iou(pred, pa, gt, pb)
    match, match_iou = greedy_match(pa, pb, ious, pred_group, pred.score, len(pred), len(gt), thr)
    return ClassMatching(thr, match, match_iou, rank)


@dataclass(frozen=True, eq=False)
class Outcome:
    """Per-prediction and per-ground-truth results of the three matching stages at one (IoU, confidence)."""

    pred_status: npt.NDArray[np.int8]
    pred_gt: IntArray  # partner gt: the match (TP), the confused box, or the localisation partner; else -1
    pred_iou: FloatArray  # IoU with that partner; for other FPs the best IoU with any gt of the image
    pred_localisation: BoolArray
    gt_status: npt.NDArray[np.int8]
    gt_pred: IntArray
    gt_iou: FloatArray  # for other FNs the best IoU with any kept prediction of the image
    gt_localisation: BoolArray


def classify(
    scene: Scene,
    stage1_match: IntArray,
    stage1_iou: FloatArray,
    iou: float,
    confidence: float,
    pred_mask: BoolArray | None = None,
) -> Outcome:
    """Stages 2 and 3 on top of stage 1 (see the module docstring), for the predictions with score >= confidence
    (and in `pred_mask`, when given)."""
    gt, pred = scene.gt, scene.pred
    n_pred, n_gt = len(pred), len(gt)
    kept = pred.score >= confidence
    if pred_mask is not None:
        kept &= pred_mask
    tp = kept & (stage1_match >= 0)
    pred_gt = np.where(tp, stage1_match, -1)
    pred_iou = np.where(tp, stage1_iou, 0.0)
    gt_pred = np.full(n_gt, -1, dtype=np.int64)
    gt_iou = np.zeros(n_gt)
    tp_idx = np.flatnonzero(tp)
    gt_pred[stage1_match[tp_idx]] = tp_idx
    gt_iou[stage1_match[tp_idx]] = stage1_iou[tp_idx]
    pred_status = np.full(n_pred, Status.IGNORED, dtype=np.int8)
    pred_status[kept] = Status.FALSE_POSITIVE
    pred_status[tp] = Status.TRUE_POSITIVE
    gt_status = np.full(n_gt, Status.FALSE_NEGATIVE, dtype=np.int8)
    gt_status[gt_pred >= 0] = Status.TRUE_POSITIVE
    pred_loc = np.zeros(n_pred, dtype=bool)
    gt_loc = np.zeros(n_gt, dtype=bool)

    kept_idx = np.flatnonzero(kept)
    pa_local, pb = overlapping_pairs(pred.image[kept_idx], pred.xywh[kept_idx], gt.image, gt.xywh)
    pa = kept_idx[pa_local]
    ious = pair_iou(pred, pa, gt, pb)

    # Stage 2: class confusions among the left-overs (class-agnostic, other class only).
    left_pred = kept & ~tp
    left_gt = gt_pred < 0
    cand = left_pred[pa] & left_gt[pb] & (pred.category[pa] != gt.category[pb])
    conf_match, conf_iou = greedy_match(pa[cand], pb[cand], ious[cand], pred.image, pred.score, n_pred, n_gt, [iou])
    conf_idx = np.flatnonzero(conf_match[0] >= 0)
    conf_gt = conf_match[0, conf_idx]
    pred_status[conf_idx] = Status.CONFUSION
    gt_status[conf_gt] = Status.CONFUSION
    pred_gt[conf_idx] = conf_gt
    pred_iou[conf_idx] = conf_iou[0, conf_idx]
    gt_pred[conf_gt] = conf_idx
    gt_iou[conf_gt] = conf_iou[0, conf_idx]

    # Stage 3: localisation errors (same class, LOCALISATION_MIN_IOU <= IoU < iou) among what is left.
    left_pred[conf_idx] = False
    left_gt[conf_gt] = False
    cand = left_pred[pa] & left_gt[pb] & (pred.category[pa] == gt.category[pb])
    loc_match, loc_iou = greedy_match(
        pa[cand], pb[cand], ious[cand], pred.image, pred.score, n_pred, n_gt, [LOCALISATION_MIN_IOU]
    )
    loc_idx = np.flatnonzero(loc_match[0] >= 0)
    loc_gt = loc_match[0, loc_idx]
    pred_loc[loc_idx] = True
    gt_loc[loc_gt] = True
    pred_gt[loc_idx] = loc_gt
    pred_iou[loc_idx] = loc_iou[0, loc_idx]
    gt_pred[loc_gt] = loc_idx
    gt_iou[loc_gt] = loc_iou[0, loc_idx]

    # Plain FP / FN: the best IoU with anything on the other side of the image (evidence for the rows page).
    best_pred = np.zeros(n_pred)
    best_gt = np.zeros(n_gt)
    np.maximum.at(best_pred, pa, ious)
    np.maximum.at(best_gt, pb, ious)
    plain_fp = (pred_status == Status.FALSE_POSITIVE) & ~pred_loc
    plain_fn = (gt_status == Status.FALSE_NEGATIVE) & ~gt_loc
    pred_iou[plain_fp] = best_pred[plain_fp]
    gt_iou[plain_fn] = best_gt[plain_fn]
    return Outcome(pred_status, pred_gt, pred_iou, pred_loc, gt_status, gt_pred, gt_iou, gt_loc)


@dataclass(frozen=True)
class ClassMetrics:
    index: int
    key: str
    name: str
    support: int  # ground-truth boxes of the class
    predictions: int  # predictions of the class with score >= confidence
    true_positives: int
    false_positives: int  # includes predictions of this class confused with another class's box
    false_negatives: int  # includes boxes of this class predicted as another class
    confusions: int  # boxes of this class predicted as another class (part of false_negatives)
    precision: float
    recall: float
    f1: float
    ap: float  # COCO 101-point AP at the evaluation's IoU threshold (NaN without ground truth)

    def as_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "schema_id": self.key,
            "name": self.name,
            "support": self.support,
            "predictions": self.predictions,
            "true_positives": self.true_positives,
            "false_positives": self.false_positives,
            "false_negatives": self.false_negatives,
            "confusions": self.confusions,
            "precision": json_number(self.precision),
            "recall": json_number(self.recall),
            "f1": json_number(self.f1),
            "ap": json_number(self.ap),
        }


@dataclass(frozen=True, eq=False)
class Confusion:
    """Rows: ground-truth class (last row: background = a prediction that matched nothing); columns: predicted
    class (last column: background = a ground-truth box nothing matched). Cell [K, K] is always 0."""

    classes: tuple[ClassRef, ...]
    matrix: IntArray

    def as_dict(self) -> dict[str, Any]:
        return {
            "labels": [c.name for c in self.classes] + [BACKGROUND],
            "schema_ids": [c.key for c in self.classes] + [None],
            "matrix": self.matrix.tolist(),
        }


@dataclass(frozen=True, eq=False)
class Rows:
    """Per image (data row) counts at the evaluation's thresholds; `mean_iou` is over its true positives."""

    gt: IntArray
    predictions: IntArray
    true_positives: IntArray
    false_positives: IntArray  # includes localisation errors
    false_negatives: IntArray  # includes localisation errors
    confusions: IntArray
    localisation: IntArray
    mean_iou: FloatArray

    def __len__(self) -> int:
        return len(self.gt)

    def as_dicts(self, images: npt.ArrayLike | None = None) -> list[dict[str, Any]]:
        index = np.arange(len(self)) if images is None else np.asarray(images, dtype=np.int64)
        return [
            {
                "image": int(i),
                "gt": int(self.gt[i]),
                "predictions": int(self.predictions[i]),
                "true_positives": int(self.true_positives[i]),
                "false_positives": int(self.false_positives[i]),
                "false_negatives": int(self.false_negatives[i]),
                "confusions": int(self.confusions[i]),
                "localisation": int(self.localisation[i]),
                "mean_iou": json_number(float(self.mean_iou[i])),
            }
            for i in index
        ]


@dataclass(frozen=True, eq=False)
class Matches:
    """One record per kept prediction (TP, FP, confusion) and per missed ground-truth box (FN).

    `pred`/`gt` index the input boxes (-1: none). A TP or confusion record names both sides. An FP record names
    `gt` (and `gt_class`) only when it is a localisation error (then it is the nearby box of its class it missed);
    likewise an FN record names `pred`, `pred_class` and `score` only for a localisation error. `iou` is the IoU of
    the two sides; for an FP/FN that is not a localisation error, the best IoU with any box of the other side in the
    image (0 when none).
    """

    image: IntArray
    pred: IntArray
    gt: IntArray
    pred_class: IntArray
    gt_class: IntArray
    score: FloatArray
    iou: FloatArray
    status: npt.NDArray[np.int8]
    localisation: BoolArray

    def __len__(self) -> int:
        return len(self.image)

    def take(self, index: IntArray | BoolArray) -> Matches:
        return Matches(
            self.image[index],
            self.pred[index],
            self.gt[index],
            self.pred_class[index],
            self.gt_class[index],
            self.score[index],
            self.iou[index],
            self.status[index],
            self.localisation[index],
        )

    def filter(
        self,
        *,
        category: int | None = None,
        status: Status | None = None,
        iou_gt: float | None = None,
        iou_lt: float | None = None,
        confidence_gt: float | None = None,
        confidence_lt: float | None = None,
        images: npt.ArrayLike | None = None,
    ) -> Matches:
        """Records matching every given filter: `category` is either side's class; bounds are strict; a
        confidence bound drops records without a score (FN); `images` is a list of image indexes or a boolean mask
        over images."""
        keep = np.ones(len(self), dtype=bool)
        if category is not None:
            keep &= (self.pred_class == category) | (self.gt_class == category)
        if status is not None:
            keep &= self.status == int(status)
        if iou_gt is not None:
            keep &= self.iou > iou_gt
        if iou_lt is not None:
            keep &= self.iou < iou_lt
        if confidence_gt is not None:
            keep &= self.score > confidence_gt
        if confidence_lt is not None:
            keep &= self.score < confidence_lt
        if images is not None:
            selected = np.asarray(images)
            if selected.dtype == bool:
                keep &= selected[self.image]
            else:
                keep &= np.isin(self.image, selected)
        return self.take(keep)

    def order_by(self, key: str, descending: bool = False) -> Matches:
        """Sorted by `iou` or `score` (stable; NaN scores last)."""
        values = getattr(self, key)
        values = np.where(np.isnan(values), np.inf if not descending else -np.inf, values)
        order = np.argsort(-values if descending else values, kind="stable")
        return self.take(order)

    def as_dicts(self, classes: Sequence[ClassRef]) -> list[dict[str, Any]]:
        def ref(k: int) -> str | None:
            return classes[k].key if k >= 0 else None

        return [
            {
                "image": int(self.image[i]),
                "pred": int(self.pred[i]) if self.pred[i] >= 0 else None,
                "gt": int(self.gt[i]) if self.gt[i] >= 0 else None,
                "pred_class": ref(int(self.pred_class[i])),
                "gt_class": ref(int(self.gt_class[i])),
                "score": json_number(float(self.score[i])),
                "iou": float(self.iou[i]),
                "status": STATUS_NAMES[int(self.status[i])],
                "localisation": bool(self.localisation[i]),
            }
            for i in range(len(self))
        ]


@dataclass(frozen=True, eq=False)
class Evaluation:
    """Everything `evaluate` computes; see the module docstring for the rules."""

    scene: Scene
    iou: float
    confidence: float
    max_dets: int
    classes: list[ClassMetrics]
    confusion: Confusion
    rows: Rows
    matches: Matches
    outcome: Outcome
    stage1: ClassMatching
    mean_ap: float  # mean AP at `iou` over classes with ground truth (e.g. mAP@0.5)
    pr_curves: FloatArray  # (K, 101) interpolated precision at RECALL_THRESHOLDS (NaN rows: no ground truth)
    totals: dict[str, Any] = field(default_factory=dict)  # micro-averaged counts and precision/recall/f1

    def as_dict(self) -> dict[str, Any]:
        return {
            "iou": self.iou,
            "confidence": self.confidence,
            "classes": [c.as_dict() for c in self.classes],
            "map_at_iou": json_number(self.mean_ap),
            "totals": {k: json_number(v) if isinstance(v, float) else v for k, v in self.totals.items()},
            "confusion": self.confusion.as_dict(),
        }


def _counts_by(index: IntArray, weights: npt.ArrayLike | None, size: int) -> IntArray:
    return np.bincount(index, weights=weights, minlength=size).astype(np.int64)


def evaluate(
    gt: Boxes,
    pred: Boxes,
    *,
    iou: float = 0.5,
    confidence: float = 0.0,
    classes: Sequence[ClassRef] | None = None,
    num_images: int | None = None,
    max_dets: int = MAX_DETS,
) -> Evaluation:
    """Per-class metrics, confusion matrix, per-image rows and match records at one IoU and confidence threshold."""
    if not 0.0 < iou <= 1.0:
        raise ValueError("iou must be in (0, 1].")
    scene = Scene.build(gt, pred, classes, num_images)
    k_count, n_images = scene.num_classes, scene.num_images
    stage1 = match_same_class(scene, [iou])
    outcome = classify(scene, stage1.match[0], stage1.iou[0], iou, confidence)

    # AP at `iou` (confidence ignored), over the max_dets best predictions per image and class.
    support = scene.support()
    in_ap = stage1.rank < max_dets
    q = interpolated_precision(
        pred.category[in_ap],
        pred.score[in_ap],
        (pred.image[in_ap], stage1.rank[in_ap]),
        (stage1.match[0] >= 0)[in_ap][None, :],
        support,
    )[0]
    ap = np.full(k_count, np.nan)
    ap[support > 0] = q[support > 0].mean(axis=1)

    # Confusion matrix.
    ps, gs = outcome.pred_status, outcome.gt_status
    bg = k_count
    size = k_count + 1
    paired = (ps == Status.TRUE_POSITIVE) | (ps == Status.CONFUSION)
    cells = [
        gt.category[outcome.pred_gt[paired]] * size + pred.category[paired],
        bg * size + pred.category[ps == Status.FALSE_POSITIVE],
        gt.category[gs == Status.FALSE_NEGATIVE] * size + bg,
    ]
    matrix = _counts_by(np.concatenate(cells).astype(np.int64), None, size * size).reshape(size, size)

    # Per class.
    kept = ps != Status.IGNORED
    predictions = _counts_by(pred.category[kept], None, k_count)
    tp = np.diag(matrix)[:k_count]
    fp = predictions - tp
    fn = support - tp
    confused = matrix[:k_count, :k_count].sum(axis=1) - tp
    metrics = []
    for k, ref in enumerate(scene.classes):
        precision = _ratio(tp[k], tp[k] + fp[k])
        recall = _ratio(tp[k], support[k])
        f1 = _ratio(2 * tp[k], 2 * tp[k] + fp[k] + fn[k])
        metrics.append(
            ClassMetrics(
                k,
                ref.key,
                ref.name,
                int(support[k]),
                int(predictions[k]),
                int(tp[k]),
                int(fp[k]),
                int(fn[k]),
                int(confused[k]),
                precision,
                recall,
                f1,
                float(ap[k]),
            )
        )
    t_tp, t_fp, t_fn = int(tp.sum()), int(fp.sum()), int(fn.sum())
    totals: dict[str, Any] = {
        "support": int(support.sum()),
        "predictions": int(predictions.sum()),
        "true_positives": t_tp,
        "false_positives": t_fp,
        "false_negatives": t_fn,
        "confusions": int(confused.sum()),
        "precision": _ratio(t_tp, t_tp + t_fp),
        "recall": _ratio(t_tp, t_tp + t_fn),
        "f1": _ratio(2 * t_tp, 2 * t_tp + t_fp + t_fn),
    }

    # Per image.
    pi, gi = pred.image, gt.image
    tp_mask = ps == Status.TRUE_POSITIVE
    tp_count = _counts_by(pi[tp_mask], None, n_images)
    iou_sum = np.bincount(pi[tp_mask], weights=outcome.pred_iou[tp_mask], minlength=n_images)
    mean_iou = np.full(n_images, np.nan)
    np.divide(iou_sum, tp_count, out=mean_iou, where=tp_count > 0)
    rows = Rows(
        gt=_counts_by(gi, None, n_images),
        predictions=_counts_by(pi[kept], None, n_images),
        true_positives=tp_count,
        false_positives=_counts_by(pi[ps == Status.FALSE_POSITIVE], None, n_images),
        false_negatives=_counts_by(gi[gs == Status.FALSE_NEGATIVE], None, n_images),
        confusions=_counts_by(pi[ps == Status.CONFUSION], None, n_images),
        localisation=_counts_by(pi[outcome.pred_localisation], None, n_images),
        mean_iou=mean_iou,
    )
    return Evaluation(
        scene=scene,
        iou=float(iou),
        confidence=float(confidence),
        max_dets=max_dets,
        classes=metrics,
        confusion=Confusion(scene.classes, matrix),
        rows=rows,
        matches=_matches(scene, outcome),
        outcome=outcome,
        stage1=stage1,
        mean_ap=nan_mean(ap),
        pr_curves=q,
        totals=totals,
    )


def _matches(scene: Scene, outcome: Outcome) -> Matches:
    gt, pred = scene.gt, scene.pred
    kept = np.flatnonzero(outcome.pred_status != Status.IGNORED)
    missed = np.flatnonzero(outcome.gt_status == Status.FALSE_NEGATIVE)
    kept_gt = outcome.pred_gt[kept]
    missed_pred = outcome.gt_pred[missed]
    image = np.concatenate([pred.image[kept], gt.image[missed]])
    pred_idx = np.concatenate([kept, missed_pred])
    gt_idx = np.concatenate([kept_gt, missed])
    pred_class = np.where(pred_idx >= 0, pred.category[np.maximum(pred_idx, 0)] if len(pred) else -1, -1)
    gt_class = np.where(gt_idx >= 0, gt.category[np.maximum(gt_idx, 0)] if len(gt) else -1, -1)
    score = np.where(pred_idx >= 0, pred.score[np.maximum(pred_idx, 0)] if len(pred) else np.nan, np.nan)
    records = Matches(
        image=image.astype(np.int64),
        pred=pred_idx.astype(np.int64),
        gt=gt_idx.astype(np.int64),
        pred_class=np.asarray(pred_class, dtype=np.int64),
        gt_class=np.asarray(gt_class, dtype=np.int64),
        score=np.asarray(score, dtype=np.float64),
        iou=np.concatenate([outcome.pred_iou[kept], outcome.gt_iou[missed]]),
        status=np.concatenate([outcome.pred_status[kept], outcome.gt_status[missed]]).astype(np.int8),
        localisation=np.concatenate([outcome.pred_localisation[kept], outcome.gt_localisation[missed]]),
    )
    return records.take(np.lexsort((records.gt, records.pred, records.image)))
