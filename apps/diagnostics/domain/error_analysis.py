"""Error analysis on top of an `Evaluation`: class frequency, metadata slices, the four error kinds, and a ranked
list of where to iterate next.

The four error kinds (disjoint; see `detection` for the matching stages), at the evaluation's IoU t and confidence:

- `false_positive`: a kept prediction that matched nothing and is not a localisation error (class: its own);
- `false_negative`: a ground-truth box nothing matched and not a localisation error (class: its own);
- `confusion`: a prediction matched at IoU >= t to a box of another class (one error per pair; class: the box's);
- `localisation`: a prediction and a box of the same class left unmatched with 0.1 <= IoU < t (one error per pair;
  class: theirs).

Estimated gain (`iteration_priorities`): the increase of the mean AP at IoU t (over classes with ground truth, the
evaluation's `mean_ap`) if a set of errors were fixed by an oracle, everything else unchanged. For AP every
prediction counts whatever its score (the `max_dets` best per image and class), so for the gains the error kinds
are recomputed over exactly those predictions, without the confidence threshold. Fixes:

- false positive → the prediction is removed;
- localisation → the prediction becomes a true positive at its score (its box was left unmatched);
- confusion → the prediction is relabelled with the box's class: removed from its class, a true positive of the
  box's class at its score;
- false negative → the box is detected: a true positive of its class scored above every prediction.

Targets: each kind over all errors (`target="all"`), per class (errors attributed to that class), per slice
(errors in that slice's images). Ranked by gain, then by number of errors.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from apps.diagnostics.domain.average_precision import ap_from_precision, ap_order, interpolated_precision_sorted
from apps.diagnostics.domain.boxes import BoolArray, FloatArray, IntArray
from apps.diagnostics.domain.detection import Evaluation, Outcome, Status, classify, json_number

FALSE_POSITIVE = "false_positive"
FALSE_NEGATIVE = "false_negative"
CONFUSION = "confusion"
LOCALISATION = "localisation"
ERROR_KINDS = (FALSE_POSITIVE, FALSE_NEGATIVE, CONFUSION, LOCALISATION)

SliceInput = Sequence[Hashable | None] | Mapping[int, Hashable | None]


# -- class frequency ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClassFrequency:
    index: int
    key: str
    name: str
    support: int
    share: float  # support / all ground-truth boxes
    recall: float
    precision: float
    low_support: bool
    low_recall: bool

    @property
    def flagged(self) -> bool:
        return self.low_support and self.low_recall

    def as_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "schema_id": self.key,
            "name": self.name,
            "support": self.support,
            "share": json_number(self.share),
            "recall": json_number(self.recall),
            "precision": json_number(self.precision),
            "low_support": self.low_support,
            "low_recall": self.low_recall,
            "flagged": self.flagged,
        }


def class_frequency(
    evaluation: Evaluation,
    *,
    support_below: float | None = None,
    recall_below: float = 0.5,
) -> list[ClassFrequency]:
    """Every class with its support and recall; `low_support`: support < `support_below` (default: half the
    median support of the classes that have ground truth); `low_recall`: recall < `recall_below` or undefined (no
    ground truth). Flagged classes (both) first, then by recall (undefined first) and support, ascending."""
    support = np.array([c.support for c in evaluation.classes], dtype=np.int64)
    total = int(support.sum())
    if support_below is None:
        present = support[support > 0]
        support_below = 0.5 * float(np.median(present)) if len(present) else 1.0
    rows = []
    for c in evaluation.classes:
        rows.append(
            ClassFrequency(
                index=c.index,
                key=c.key,
                name=c.name,
                support=c.support,
                share=c.support / total if total else float("nan"),
                recall=c.recall,
                precision=c.precision,
                low_support=bool(c.support < support_below),
                low_recall=bool(math.isnan(c.recall) or c.recall < recall_below),
            )
        )
    rows.sort(key=lambda r: (not r.flagged, -1.0 if math.isnan(r.recall) else r.recall, r.support, r.index))
    return rows


# -- slices ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SliceCodes:
    codes: IntArray  # per image: slice index, -1 for no value
    values: tuple[Hashable, ...]


def slice_codes(slices: SliceInput, num_images: int) -> SliceCodes:
    """Dense codes for a mapping image index → slice value (a sequence over images or a dict; None = no value)."""
    codes = np.full(num_images, -1, dtype=np.int64)
    index: dict[Hashable, int] = {}
    items = slices.items() if isinstance(slices, Mapping) else enumerate(slices)
    for image, value in items:
        if value is None:
            continue
        if not 0 <= image < num_images:
            raise ValueError(f"Slice given for image {image}, outside 0..{num_images - 1}.")
        codes[image] = index.setdefault(value, len(index))
    return SliceCodes(codes, tuple(index))


def _z(success_a: int, n_a: int, success_b: int, n_b: int) -> float:
    """Two-proportion z statistic of a vs b (pooled); NaN when undefined."""
    if n_a == 0 or n_b == 0:
        return float("nan")
    pooled = (success_a + success_b) / (n_a + n_b)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
    if se == 0:
        return 0.0
    return (success_a / n_a - success_b / n_b) / se


@dataclass(frozen=True)
class SliceMetrics:
    value: Hashable
    images: int
    gt: int
    predictions: int
    true_positives: int
    precision: float
    recall: float
    f1: float
    rest_precision: float  # over every image not in the slice
    rest_recall: float
    precision_drop: float  # rest - slice (positive: the slice is worse)
    recall_drop: float
    precision_z: float  # two-proportion z statistic, slice vs rest (negative: the slice is worse)
    recall_z: float
    significant: bool  # a drop >= min_drop with z <= -z_critical, in precision or recall

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"value": self.value}
        for key in ("images", "gt", "predictions", "true_positives"):
            out[key] = getattr(self, key)
        for key in (
            "precision",
            "recall",
            "f1",
            "rest_precision",
            "rest_recall",
            "precision_drop",
            "recall_drop",
            "precision_z",
            "recall_z",
        ):
            out[key] = json_number(getattr(self, key))
        out["significant"] = self.significant
        return out


def _div(a: float, b: float) -> float:
    return a / b if b else float("nan")


def slice_metrics(
    evaluation: Evaluation,
    slices: SliceInput,
    *,
    min_drop: float = 0.05,
    z_critical: float = 1.96,
) -> list[SliceMetrics]:
    """Precision/recall/F1 of each slice (images sharing a value) at the evaluation's thresholds, compared with
    the rest of the images; significant drops flagged. Sorted: significant first, then by size, descending."""
    sc = slice_codes(slices, evaluation.scene.num_images)
    rows = evaluation.rows
    has = sc.codes >= 0
    n_slices = len(sc.values)

    def per_slice(values: IntArray) -> IntArray:
        return np.bincount(sc.codes[has], weights=values[has], minlength=n_slices).astype(np.int64)

    images = np.bincount(sc.codes[has], minlength=n_slices)
    gt, pred, tp = per_slice(rows.gt), per_slice(rows.predictions), per_slice(rows.true_positives)
    all_gt, all_pred, all_tp = int(rows.gt.sum()), int(rows.predictions.sum()), int(rows.true_positives.sum())
    out = []
    for s, value in enumerate(sc.values):
        g, p, t = int(gt[s]), int(pred[s]), int(tp[s])
        rg, rp, rt = all_gt - g, all_pred - p, all_tp - t
        precision, recall = _div(t, p), _div(t, g)
        rest_precision, rest_recall = _div(rt, rp), _div(rt, rg)
        precision_drop, recall_drop = rest_precision - precision, rest_recall - recall
        precision_z, recall_z = _z(t, p, rt, rp), _z(t, g, rt, rg)
        significant = any(
            not math.isnan(drop) and drop >= min_drop and not math.isnan(z) and z <= -z_critical
            for drop, z in ((precision_drop, precision_z), (recall_drop, recall_z))
        )
        out.append(
            SliceMetrics(
                value=value,
                images=int(images[s]),
                gt=g,
                predictions=p,
                true_positives=t,
                precision=precision,
                recall=recall,
                f1=_div(2 * t, p + g),
                rest_precision=rest_precision,
                rest_recall=rest_recall,
                precision_drop=precision_drop,
                recall_drop=recall_drop,
                precision_z=precision_z,
                recall_z=recall_z,
                significant=significant,
            )
        )
    out.sort(key=lambda m: (not m.significant, -m.images))
    return out


# -- the four error kinds ---------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class ErrorSet:
    """Errors of one kind: `pred`/`gt` give each error's prediction and box (-1 when the kind has none)."""

    kind: str
    pred: IntArray
    gt: IntArray
    image: IntArray
    category: IntArray  # the class the error is attributed to

    def __len__(self) -> int:
        return len(self.image)

    @property
    def images(self) -> IntArray:
        return np.unique(self.image)

    def by_class(self, num_classes: int) -> IntArray:
        return np.bincount(self.category, minlength=num_classes).astype(np.int64)

    def take(self, mask: BoolArray) -> ErrorSet:
        return ErrorSet(self.kind, self.pred[mask], self.gt[mask], self.image[mask], self.category[mask])


def error_sets(evaluation: Evaluation, outcome: Outcome | None = None) -> dict[str, ErrorSet]:
    """The four kinds of error of an outcome (default: the evaluation's own, at its thresholds)."""
    o = outcome or evaluation.outcome
    gt, pred = evaluation.scene.gt, evaluation.scene.pred
    fp = np.flatnonzero((o.pred_status == Status.FALSE_POSITIVE) & ~o.pred_localisation)
    fn = np.flatnonzero((o.gt_status == Status.FALSE_NEGATIVE) & ~o.gt_localisation)
    conf = np.flatnonzero(o.pred_status == Status.CONFUSION)
    loc = np.flatnonzero(o.pred_localisation)
    none_fp, none_fn = np.full(len(fp), -1, np.int64), np.full(len(fn), -1, np.int64)
    conf_gt, loc_gt = o.pred_gt[conf], o.pred_gt[loc]
    return {
        FALSE_POSITIVE: ErrorSet(FALSE_POSITIVE, fp, none_fp, pred.image[fp], pred.category[fp]),
        FALSE_NEGATIVE: ErrorSet(FALSE_NEGATIVE, none_fn, fn, gt.image[fn], gt.category[fn]),
        CONFUSION: ErrorSet(CONFUSION, conf, conf_gt, pred.image[conf], gt.category[conf_gt]),
        LOCALISATION: ErrorSet(LOCALISATION, loc, loc_gt, pred.image[loc], pred.category[loc]),
    }


def error_summary(evaluation: Evaluation) -> dict[str, dict[str, Any]]:
    """Per kind at the evaluation's thresholds: count, images behind it, counts per class (by schema_id)."""
    k = evaluation.scene.num_classes
    refs = evaluation.scene.classes
    out = {}
    for kind, errors in error_sets(evaluation).items():
        counts = errors.by_class(k)
        out[kind] = {
            "kind": kind,
            "count": len(errors),
            "images": errors.images.tolist(),
            "by_class": {refs[i].key: int(counts[i]) for i in np.flatnonzero(counts)},
        }
    return out


# -- where to iterate next --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Priority:
    target: str  # "all" | "class" | "slice"
    kind: str
    errors: int
    images: tuple[int, ...]
    gain: float  # estimated increase of mean AP at the evaluation's IoU
    class_index: int | None = None
    class_key: str | None = None
    class_name: str | None = None
    slice_value: Hashable | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"target": self.target, "kind": self.kind, "errors": self.errors}
        if self.target == "class":
            out["class"] = {"index": self.class_index, "schema_id": self.class_key, "name": self.class_name}
        if self.target == "slice":
            out["slice"] = self.slice_value
        out["gain"] = json_number(self.gain)
        out["images"] = list(self.images)
        return out


class _Oracle:
    """AP at the evaluation's IoU before and after fixing a set of errors (see the module docstring).

    The AP entries (the `max_dets` best predictions per image and class) are put in COCO's order once; a fix then
    drops entries, flips entries to true positives, or inserts true positives at their place by score (after
    entries of an equal score), so no fix needs a new sort of everything.
    """

    def __init__(self, evaluation: Evaluation) -> None:
        scene, stage1 = evaluation.scene, evaluation.stage1
        pred = scene.pred
        in_ap = stage1.rank < evaluation.max_dets
        index = np.flatnonzero(in_ap)
        order = ap_order(pred.category[index], pred.score[index], (pred.image[index], stage1.rank[index]))
        self.scene = scene
        self.k = scene.num_classes
        self.sorted_index = index[order]
        self.cat = pred.category[self.sorted_index]
        self.neg_score = -pred.score[self.sorted_index]
        self.tp = stage1.match[0, self.sorted_index] >= 0
        self.support = scene.support()
        self.valid = int((self.support > 0).sum())
        q = interpolated_precision_sorted(self.cat, self.tp[None, :], self.support)
        self.ap = ap_from_precision(q, self.support)[0]
        self.position = np.full(len(pred), -1, dtype=np.int64)  # place of each prediction in the sorted entries
        self.position[self.sorted_index] = np.arange(len(self.sorted_index))
        if in_ap.all() and (pred.score >= evaluation.confidence).all():
            outcome = evaluation.outcome  # the same predictions are kept: nothing to recompute
        else:
            outcome = classify(scene, stage1.match[0], stage1.iou[0], evaluation.iou, -np.inf, pred_mask=in_ap)
        self.errors = error_sets(evaluation, outcome)

    def fixed_ap(
        self,
        affected: BoolArray,
        drop: IntArray,
        flip: IntArray,
        add_category: IntArray,
        add_score: FloatArray,
    ) -> FloatArray:
        """AP per class after dropping/flipping sorted entries and adding true positives (affected classes)."""
        keep = affected[self.cat]  # only the affected classes' entries take part
        keep[drop] = False
        tp = self.tp.copy()
        tp[flip] = True
        cat, neg_score, tp = self.cat[keep], self.neg_score[keep], tp[keep]
        if len(add_category):
            bounds = np.searchsorted(cat, np.arange(self.k + 1))
            at = np.empty(len(add_category), dtype=np.int64)
            for c in np.unique(add_category):
                sel = np.flatnonzero(add_category == c)
                lo, hi = int(bounds[c]), int(bounds[c + 1])
                at[sel] = lo + np.searchsorted(neg_score[lo:hi], -add_score[sel], side="right")
            order = np.lexsort((-add_score, at))
            cat = np.insert(cat, at[order], add_category[order])
            tp = np.insert(tp, at[order], True)
        support = np.where(affected, self.support, 0)
        return ap_from_precision(interpolated_precision_sorted(cat, tp[None, :], support), support)[0]

    def gain(self, errors: ErrorSet) -> float:
        if len(errors) == 0 or self.valid == 0:
            return 0.0
        pred = self.scene.pred
        affected = np.zeros(self.k, dtype=bool)
        none = np.zeros(0, np.int64)
        at = self.position[errors.pred] if errors.kind != FALSE_NEGATIVE else none
        if errors.kind == FALSE_POSITIVE:
            affected[pred.category[errors.pred]] = True
            fixed = self.fixed_ap(affected, at, none, none, np.zeros(0))
        elif errors.kind == LOCALISATION:
            affected[pred.category[errors.pred]] = True
            fixed = self.fixed_ap(affected, none, at, none, np.zeros(0))
        elif errors.kind == CONFUSION:
            affected[pred.category[errors.pred]] = True
            affected[errors.category] = True
            fixed = self.fixed_ap(affected, at, none, errors.category, pred.score[errors.pred])
        else:
            affected[errors.category] = True
            fixed = self.fixed_ap(affected, none, none, errors.category, np.full(len(errors), np.inf))
        has = affected & (self.support > 0)
        return float((fixed[has] - self.ap[has]).sum() / self.valid)


def iteration_priorities(
    evaluation: Evaluation,
    *,
    slices: SliceInput | None = None,
    max_slices: int = 20,
    kinds: Sequence[str] = ERROR_KINDS,
) -> list[Priority]:
    """Ranked "where to iterate next" (see the module docstring). Slices: the `max_slices` largest ones."""
    oracle = _Oracle(evaluation)
    refs = evaluation.scene.classes
    out: list[Priority] = []
    for kind in kinds:
        errors = oracle.errors[kind]
        if len(errors) == 0:
            continue
        out.append(Priority("all", kind, len(errors), tuple(errors.images.tolist()), oracle.gain(errors)))
        for k in np.unique(errors.category):
            subset = errors.take(errors.category == k)
            ref = refs[int(k)]
            out.append(
                Priority(
                    "class",
                    kind,
                    len(subset),
                    tuple(subset.images.tolist()),
                    oracle.gain(subset),
                    class_index=int(k),
                    class_key=ref.key,
                    class_name=ref.name,
                )
            )
    if slices is not None:
        sc = slice_codes(slices, evaluation.scene.num_images)
        sizes = np.bincount(sc.codes[sc.codes >= 0], minlength=len(sc.values))
        largest = np.argsort(-sizes, kind="stable")[:max_slices]
        for kind in kinds:
            errors = oracle.errors[kind]
            error_slice = sc.codes[errors.image] if len(errors) else np.zeros(0, np.int64)
            for s in largest:
                subset = errors.take(error_slice == s)
                if len(subset) == 0:
                    continue
                out.append(
                    Priority(
                        "slice",
                        kind,
                        len(subset),
                        tuple(subset.images.tolist()),
                        oracle.gain(subset),
                        slice_value=sc.values[int(s)],
                        extra={"slice_images": int(sizes[s])},
                    )
                )
    out.sort(key=lambda p: (-p.gain, -p.errors, p.target, p.kind))
    return out


@dataclass(frozen=True, eq=False)
class ErrorReport:
    class_frequency: list[ClassFrequency]
    slices: list[SliceMetrics]
    summary: dict[str, dict[str, Any]]
    priorities: list[Priority]

    def as_dict(self) -> dict[str, Any]:
        return {
            "class_frequency": [c.as_dict() for c in self.class_frequency],
            "slices": [s.as_dict() for s in self.slices],
            "errors": self.summary,
            "priorities": [p.as_dict() for p in self.priorities],
        }


def errors(
    evaluation: Evaluation,
    *,
    slices: SliceInput | None = None,
    support_below: float | None = None,
    recall_below: float = 0.5,
    max_slices: int = 20,
) -> ErrorReport:
    """The whole error analysis of an evaluation (each part is also available on its own)."""
    return ErrorReport(
        class_frequency=class_frequency(evaluation, support_below=support_below, recall_below=recall_below),
        slices=slice_metrics(evaluation, slices) if slices is not None else [],
        summary=error_summary(evaluation),
        priorities=iteration_priorities(evaluation, slices=slices, max_slices=max_slices),
    )
