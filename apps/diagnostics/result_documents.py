"""What a computed evaluation is stored as: the metrics JSON (per class, curves, COCO mAP, classification
questions), the error analysis (confused pairs, slices, outliers, priorities) and the match record rows."""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np
import orjson
from django.db.models import TextField
from django.db.models.functions import Cast

from apps.datasets.models import DataRow
from apps.diagnostics.domain import (
    RECALL_THRESHOLDS,
    STATUS_NAMES,
    ClassRef,
    Evaluation,
    Status,
    class_frequency,
    classification_metrics,
    coco_map,
    error_summary,
    iteration_priorities,
    slice_metrics,
)
from apps.diagnostics.domain.outliers import box_outliers
from apps.predictions.models import ModelRun

MAX_ITEM_IMAGES = 5000  # images kept per error-analysis item (the response shows the first few)
MAX_SLICE_VALUES = 50  # a metadata field with more distinct values is not a slice dimension
MAX_SLICE_FIELDS = 8  # each field costs one oracle pass over the errors
IOU_BINS = 20


def vocabularies(model_run: ModelRun) -> tuple[list[ClassRef], list[ClassRef], list[ClassRef]]:
    """The run ontology's box tools (classes) and top-level radio questions with their options, in tree order."""
    tree = model_run.ontology_version.tree or {}
    classes = [
        ClassRef(str(t["schema_id"]), str(t["name"]))
        for t in tree.get("tools", [])
        if t.get("tool") == "bbox" and t.get("schema_id") and not t.get("archived")
    ]
    questions, options = [], []
    for c in tree.get("classifications", []):
        if c.get("type") == "radio" and c.get("schema_id"):
            questions.append(ClassRef(str(c["schema_id"]), str(c["name"])))
            for o in c.get("options", []):
                if o.get("schema_id"):
                    options.append(ClassRef(str(o["schema_id"]), str(o.get("value") or o.get("name") or "")))
    return classes, questions, options


def _json(value: float) -> float | None:
    return None if value is None or not math.isfinite(value) else round(float(value), 6)


def _images(values: Any) -> list[int]:
    return [int(v) for v in list(values)[:MAX_ITEM_IMAGES]]


def _slice_dimensions(row_ids: Sequence[Any], splits: dict[Any, str]) -> dict[str, list[Hashable | None]]:
    """`split` and every metadata field with 2..MAX_SLICE_VALUES distinct scalar values over the run's rows."""
    metadata = {
        row_id: orjson.loads(text) if text else None
        for row_id, text in DataRow.objects.filter(pk__in=list(row_ids))
        .annotate(text=Cast("metadata", TextField()))
        .values_list("id", "text")
    }
    dims: dict[str, list[Hashable | None]] = {"split": [splits.get(r) for r in row_ids]}
    fields: dict[str, list[Hashable | None]] = {}
    for i, row_id in enumerate(row_ids):
        for key, value in (metadata.get(row_id) or {}).items():
            if isinstance(value, str | int | float | bool):
                fields.setdefault(key, [None] * len(row_ids))[i] = value
    for key in sorted(fields)[: MAX_SLICE_FIELDS * 4]:
        distinct = {v for v in fields[key] if v is not None}
        if 2 <= len(distinct) <= MAX_SLICE_VALUES and len(dims) <= MAX_SLICE_FIELDS:
            dims[f"metadata.{key}"] = fields[key]
    if len({v for v in dims["split"] if v is not None}) < 2:
        dims.pop("split")
    return dims


def error_analysis(ev: Evaluation, row_ids: Sequence[Any], splits: dict[Any, str], confidence: float) -> dict[str, Any]:
    refs = ev.scene.classes
    k = len(refs)
    summary = error_summary(ev)
    for entry in summary.values():
        entry["image_count"] = len(entry["images"])
        entry["images"] = _images(entry["images"])
    matches = ev.matches
    # Concept clarity: the class pairs the model confuses (cell [gt, predicted] of the confusion matrix).
    matrix = ev.confusion.matrix
    support = matrix[:k].sum(axis=1)
    pairs: list[dict[str, Any]] = []
    for i, j in zip(*np.nonzero(matrix[:k, :k]), strict=True):
        if i == j:
            continue
        images = np.unique(
            matches.image[(matches.status == Status.CONFUSION) & (matches.gt_class == i) & (matches.pred_class == j)]
        )
        pairs.append(
            {
                "ground_truth": {"schema_id": refs[i].key, "name": refs[i].name},
                "predicted": {"schema_id": refs[j].key, "name": refs[j].name},
                "count": int(matrix[i, j]),
                "share": _json(matrix[i, j] / support[i]) if support[i] else None,
                "image_count": len(images),
                "images": _images(images),
                "filters": {"class": refs[i].key, "status": "confusion"},
            }
        )
    pairs.sort(key=lambda p: -p["count"])
    # Data distribution: each slice dimension (split, metadata fields) against the rest.
    distribution: list[dict[str, Any]] = []
    slice_priorities: list[dict[str, Any]] = []
    for field, values in _slice_dimensions(row_ids, splits).items():
        for metrics in slice_metrics(ev, values):
            item = metrics.as_dict()
            members = [i for i, v in enumerate(values) if v == metrics.value]
            item.update(
                {
                    "field": field,
                    "value": metrics.value,
                    "image_count": len(members),
                    "images": _images(members),
                    "filters": {field: str(metrics.value)},
                }
            )
            distribution.append(item)
        for priority in iteration_priorities(ev, slices=values, max_slices=10):
            if priority.target != "slice":
                continue
            item = priority.as_dict()
            item["slice"] = {"field": field, "value": priority.slice_value, **priority.extra}
            slice_priorities.append(item)
    distribution.sort(key=lambda s: (not s["significant"], -(s["recall_drop"] or 0)))
    # Outliers: extreme box sizes and aspect ratios on either side.
    kept = np.flatnonzero(ev.scene.pred.score >= confidence)
    outliers = [o.as_dict(refs) for o in box_outliers(ev.scene.gt, side="ground_truth")]
    outliers += [o.as_dict(refs) for o in box_outliers(ev.scene.pred, side="prediction", mask=kept)]
    outliers.sort(key=lambda o: -max(abs(o["area_z"]), abs(o["aspect_z"])))
    # Where to iterate next: every kind overall, per class and per slice, ranked by estimated gain.
    ranked = [p.as_dict() for p in iteration_priorities(ev)] + slice_priorities
    ranked.sort(key=lambda p: (-(p["gain"] or 0), -p["errors"]))
    for p in ranked:
        p["image_count"] = len(p["images"])
        p["images"] = _images(p["images"])
        filters: dict[str, str] = {}
        if p["kind"] in ("false_positive", "false_negative", "confusion"):
            filters["status"] = p["kind"]
        else:
            filters["status"] = "localisation"
        if "class" in p:
            filters["class"] = p["class"]["schema_id"]
        if "slice" in p:
            filters[p["slice"]["field"]] = str(p["slice"]["value"])
        p["filters"] = filters
    return {
        "class_frequency": [c.as_dict() for c in class_frequency(ev)],
        "concept_clarity": {"confused_pairs": pairs[:50]},
        "data_distribution": distribution,
        "outliers": {"boxes": outliers[:100]},
        "errors": summary,
        "priorities": ranked[:200],
    }


def _histogram(values: np.ndarray) -> list[int]:
    counts, _ = np.histogram(np.clip(values, 0, 1), bins=IOU_BINS, range=(0.0, 1.0))
    return [int(c) for c in counts]


def metrics_json(ev: Evaluation, inp: Any, confidence: float) -> dict[str, Any]:
    cm = coco_map(inp.gt, inp.pred, classes=inp.classes, num_images=inp.num_images)
    coco = {c.key: c for c in cm.classes}
    classes = []
    curves = []
    for c, curve in zip(ev.classes, ev.pr_curves, strict=True):
        ca = coco[c.key]
        classes.append(
            {
                "name": c.name,
                "schema_id": c.key,
                "precision": _json(c.precision),
                "recall": _json(c.recall),
                "f1": _json(c.f1),
                "ap": _json(c.ap),
                "support": c.support,
                "predictions": c.predictions,
                "true_positives": c.true_positives,
                "false_positives": c.false_positives,
                "false_negatives": c.false_negatives,
                "confusions": c.confusions,
                "ap50": _json(ca.ap50),
                "ap75": _json(ca.ap75),
                "ap_coco": _json(ca.ap),
            }
        )
        if c.support:
            curves.append(
                {"schema_id": c.key, "name": c.name, "ap": _json(c.ap), "precision": [_json(v) for v in curve]}
            )
    questions = classification_metrics(
        inp.gt_answers, inp.pred_answers, confidence=confidence, questions=inp.questions, options=inp.options
    )
    m = ev.matches
    tp_iou = m.iou[m.status == Status.TRUE_POSITIVE]
    other_iou = m.iou[(m.status == Status.CONFUSION) | (m.localisation & (m.status == Status.FALSE_POSITIVE))]
    return {
        "iou": ev.iou,
        "confidence": ev.confidence,
        "classes": classes,
        "map50": _json(cm.map50),
        "map": _json(cm.map),
        "map75": _json(cm.map75),
        "map_at_iou": _json(ev.mean_ap),
        "totals": {k: _json(v) if isinstance(v, float) else v for k, v in ev.totals.items()},
        "confusion": ev.confusion.as_dict(),
        "classifications": [q.as_dict() for q in questions],
        "pr_curves": {"recall": [round(float(r), 2) for r in RECALL_THRESHOLDS], "classes": curves},
        "iou_histogram": {
            "edges": [round(i / IOU_BINS, 4) for i in range(IOU_BINS + 1)],
            "true_positive": _histogram(tp_iou),
            "other": _histogram(other_iou),
        },
        "images": inp.num_images,
        "skipped": inp.skipped,
    }


MATCH_COLUMNS = (
    "data_row_id",
    "schema_id",
    "gt_schema_id",
    "pred_schema_id",
    "status",
    "localisation",
    "iou",
    "confidence",
    "confidence_key",
    "index",
    "gt_box",
    "pred_box",
)


def match_rows(ev: Evaluation, inp: Any, row_ids: Sequence[Any]) -> list[tuple[Any, ...]]:
    """The engine's match records as rows of `MATCH_COLUMNS` (boxes as JSON text)."""
    keys = [ref.key for ref in inp.classes]
    m = ev.matches
    gt_xywh, pred_xywh = np.round(inp.gt.xywh, 3), np.round(inp.pred.xywh, 3)
    out = []
    for n, (image, pred, gt, pc, gc, score, iou, status, loc) in enumerate(
        zip(
            m.image.tolist(),
            m.pred.tolist(),
            m.gt.tolist(),
            m.pred_class.tolist(),
            m.gt_class.tolist(),
            m.score.tolist(),
            m.iou.tolist(),
            m.status.tolist(),
            m.localisation.tolist(),
            strict=True,
        )
    ):
        has_score = math.isfinite(score)
        out.append(
            (
                row_ids[image],
                keys[pc] if pc >= 0 else keys[gc],
                keys[gc] if gc >= 0 else "",
                keys[pc] if pc >= 0 else "",
                STATUS_NAMES[status],
                bool(loc),
                float(iou),
                score if has_score else None,
                score if has_score else -1.0,
                n,
                orjson.dumps(gt_xywh[gt].tolist()).decode() if gt >= 0 else None,
                orjson.dumps(pred_xywh[pred].tolist()).decode() if pred >= 0 else None,
            )
        )
    return out
