"""Every write of the diagnostics app: the ground-truth snapshot of a run, the cached metrics (computed here or by
a django-q2 job) with their match records, and sending rows back to labeling."""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np
import orjson
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Max, TextField
from django.db.models.functions import Cast

from apps.accounts.models import User
from apps.core.errors import Conflict, ValidationFailed
from apps.core.jobs import job_create_and_enqueue
from apps.core.models import Job
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
    evaluate,
    from_documents,
    iteration_priorities,
    slice_metrics,
)
from apps.diagnostics.domain.outliers import box_outliers
from apps.diagnostics.models import GroundTruth, MatchRecord, MetricsResult
from apps.diagnostics.segmentation import SEGM_KEYS, segm_errors, segm_evaluate
from apps.diagnostics.video_frames import frame_detection_block
from apps.diagnostics.video_tracking import tracking_block
from apps.predictions.models import ModelRun, ModelRunDataRow, Prediction

ENGINE_VERSION = "3"  # 2: row counts (with/without predictions), thresholds echoed; 3: mask error kinds (segm)
JOB_KIND = "diagnostics.metrics"
MAX_ITEM_IMAGES = 5000  # images kept per error-analysis item (the response shows the first few)
MAX_SLICE_VALUES = 50  # a metadata field with more distinct values is not a slice dimension
MAX_SLICE_FIELDS = 8  # each field costs one oracle pass over the errors
MAX_RESULTS_PER_RUN = 20  # cached (iou, confidence) results kept per run; the least recently computed go first
IOU_BINS = 20
DEFAULT_IOU = 0.5
DEFAULT_CONFIDENCE = 0.0  # no prediction is dropped unless the caller asks


def sync_max_rows() -> int:
    return int(getattr(settings, "DIAGNOSTICS_SYNC_MAX_ROWS", 2000))


# -- the cache key and its fingerprint ----------------------------------------------------------------------------


def parse_thresholds(iou: Any, confidence: Any) -> tuple[float, float]:
    """`iou` in (0, 1] (default 0.5), `confidence` in [0, 1] (default 0), rounded to 4 places (the cache key)."""
    details: dict[str, list[str]] = {}
    values = []
    for name, raw, default, low_open in (
        ("iou", iou, DEFAULT_IOU, True),
        ("confidence", confidence, DEFAULT_CONFIDENCE, False),
    ):
        if raw is None or raw == "":
            values.append(default)
            continue
        try:
            value = float(raw)
        except (TypeError, ValueError):
            value = math.nan
        if not math.isfinite(value) or value > 1 or value < 0 or (low_open and value == 0):
            details[name] = ["A number in (0, 1]." if low_open else "A number in [0, 1]."]
            values.append(default)
        else:
            values.append(round(value, 4))
    if details:
        raise ValidationFailed("Invalid thresholds.", details=details)
    return values[0], values[1]


def run_fingerprint(model_run: ModelRun) -> tuple[str, int]:
    """A hash of what the metrics depend on (rows, predictions, ground truth: counts and latest changes), and the
    number of ground-truth rows (the size of the computation)."""
    preds = Prediction.objects.filter(model_run=model_run).aggregate(n=Count("id"), last=Max("updated_at"))
    gt = GroundTruth.objects.filter(model_run=model_run).aggregate(n=Count("id"), last=Max("created_at"))
    rows = ModelRunDataRow.objects.filter(model_run=model_run).aggregate(n=Count("id"), last=Max("created_at"))
    splits = sorted(
        ModelRunDataRow.objects.filter(model_run=model_run).values_list("split").annotate(n=Count("id"))
    )  # rows moving between splits change the slices
    text = "|".join(
        str(v)
        for v in (
            ENGINE_VERSION,
            preds["n"],
            preds["last"] and preds["last"].isoformat(),
            gt["n"],
            gt["last"] and gt["last"].isoformat(),
            rows["n"],
            rows["last"] and rows["last"].isoformat(),
            model_run.ontology_version_id,
            splits,
        )
    )
    return hashlib.sha256(text.encode()).hexdigest(), int(gt["n"])


def fresh_result(model_run: ModelRun, iou: float, confidence: float) -> MetricsResult | None:
    fingerprint, _ = run_fingerprint(model_run)
    return MetricsResult.objects.filter(
        model_run=model_run, iou=iou, confidence=confidence, fingerprint=fingerprint
    ).first()


def metrics_get_or_enqueue(*, actor: User, model_run: ModelRun, iou: float, confidence: float) -> MetricsResult | Job:
    """The fresh cached result; else computed now for a small run, else a (deduplicated) background job."""
    fingerprint, gt_rows = run_fingerprint(model_run)
    found = MetricsResult.objects.filter(
        model_run=model_run, iou=iou, confidence=confidence, fingerprint=fingerprint
    ).first()
    if found is not None:
        return found
    if gt_rows == 0:
        raise Conflict(
            "The run has no ground truth: POST /api/v1/model_runs/{id}/ground_truth first.", code="no_ground_truth"
        )
    if gt_rows <= sync_max_rows():
        return metrics_compute(model_run=model_run, iou=iou, confidence=confidence)
    params = {"model_run": str(model_run.id), "iou": iou, "confidence": confidence}
    running = Job.objects.filter(
        kind=JOB_KIND,
        organization_id=model_run.model.organization_id,
        status__in=[Job.Status.QUEUED, Job.Status.RUNNING],
        params=params,
    ).first()
    if running is not None:
        return running
    return job_create_and_enqueue(user=actor, kind=JOB_KIND, func="apps.diagnostics.tasks.metrics_job", params=params)


# -- computing ----------------------------------------------------------------------------------------------------


def _vocabularies(model_run: ModelRun) -> tuple[list[ClassRef], list[ClassRef], list[ClassRef]]:
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


def run_classes(model_run: ModelRun) -> list[ClassRef]:
    """The box classes of the run's ontology (what `class=` filters may name)."""
    return _vocabularies(model_run)[0]


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


def _error_analysis(
    ev: Evaluation, row_ids: Sequence[Any], splits: dict[Any, str], confidence: float
) -> dict[str, Any]:
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


def thresholds_echo(iou: float, confidence: float) -> dict[str, Any]:
    """The thresholds an answer was computed at, echoed in every diagnostics answer (and on the run page)."""
    return {"iou": iou, "confidence": confidence, "defaults": {"iou": DEFAULT_IOU, "confidence": DEFAULT_CONFIDENCE}}


def row_counts(pred_docs: Sequence[Sequence[Any]]) -> dict[str, int]:
    """Rows evaluated (those with ground truth) and how many of them have no prediction at all: every ground-truth
    box on those is a miss, and they count in recall and AP."""
    without = sum(1 for doc in pred_docs if not doc)
    total = len(pred_docs)
    return {"ground_truth": total, "with_predictions": total - without, "without_predictions": without}


def _metrics_json(ev: Evaluation, inp: Any, confidence: float, pred_docs: Sequence[Sequence[Any]]) -> dict[str, Any]:
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
        "rows": row_counts(pred_docs),
        "thresholds": thresholds_echo(ev.iou, confidence),
        "skipped": inp.skipped,
    }


_MATCH_COLUMNS = (
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


def _match_rows(ev: Evaluation, inp: Any, row_ids: Sequence[Any]) -> list[tuple[Any, ...]]:
    """The engine's match records as rows of `_MATCH_COLUMNS` (boxes as JSON text)."""
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


def _write_matches(result: MetricsResult, rows: list[tuple[Any, ...]]) -> None:
    """COPY on PostgreSQL (a run's records are ~10× its rows), bulk_create elsewhere."""
    if connection.vendor != "postgresql":
        MatchRecord.objects.bulk_create(
            [
                MatchRecord(
                    result=result,
                    **{
                        k: (json.loads(v) if k.endswith("_box") and v is not None else v)
                        for k, v in zip(_MATCH_COLUMNS, row, strict=True)
                    },
                )
                for row in rows
            ],
            batch_size=5000,
        )
        return
    quote = connection.ops.quote_name
    columns = ", ".join(quote(c) for c in ("result_id", *_MATCH_COLUMNS))
    with connection.cursor() as cursor:
        raw = cursor.cursor  # the driver cursor: COPY, without debug logging of big statements
        with raw.copy(f"COPY {quote(MatchRecord._meta.db_table)} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row((result.pk, *row))


def run_documents(
    model_run: ModelRun, data_row_ids: Sequence[Any] | None = None
) -> tuple[list[tuple[Any, Any, Any]], list[list[dict[str, Any]]]]:
    """The run's ground-truth rows `(data row id, annotation document, project id)` in data row order (only these
    rows when given) and, aligned with them, each row's predicted annotations (with their confidence)."""
    # JSON comes as text and is parsed with orjson (Django's json.loads per value is the slowest part otherwise).
    truth = GroundTruth.objects.filter(model_run=model_run)
    predictions = Prediction.objects.filter(model_run=model_run)
    if data_row_ids is not None:
        truth = truth.filter(data_row_id__in=list(data_row_ids))
        predictions = predictions.filter(data_row_id__in=list(data_row_ids))
    gt_rows = [
        (row_id, orjson.loads(text), project_id)
        for row_id, text, project_id in truth.order_by("data_row_id")
        .annotate(text=Cast("annotations", TextField()))
        .values_list("data_row_id", "text", "project_id")
    ]
    index = {row_id: i for i, (row_id, _, _) in enumerate(gt_rows)}
    pred_docs: list[list[dict[str, Any]]] = [[] for _ in gt_rows]
    scored = predictions.annotate(text=Cast("annotation", TextField())).values_list("data_row_id", "text", "confidence")
    for row_id, text, score in scored.iterator(chunk_size=5000):
        i = index.get(row_id)
        if i is None:
            continue
        annotation = orjson.loads(text)
        if not isinstance(annotation, dict):
            continue
        if score is not None:
            annotation["confidence"] = score
        pred_docs[i].append(annotation)
    return gt_rows, pred_docs


def metrics_of_documents(
    model_run: ModelRun,
    gt_docs: Sequence[Any],
    pred_docs: Sequence[list[dict[str, Any]]],
    *,
    iou: float,
    confidence: float,
) -> dict[str, Any]:
    """The metrics JSON of `/metrics` over the given documents (e.g. a subset of the run's rows), not cached."""
    classes, questions, options = _vocabularies(model_run)
    inp = from_documents(list(gt_docs), list(pred_docs), classes=classes, questions=questions, options=options)
    ev = evaluate(inp.gt, inp.pred, iou=iou, confidence=confidence, classes=inp.classes, num_images=inp.num_images)
    return _with_segm(_metrics_json(ev, inp, confidence, pred_docs), model_run, gt_docs, pred_docs, None, confidence)


def _with_segm(
    metrics: dict[str, Any],
    run: ModelRun,
    gt: Any,
    pred: Any,
    rows: Any,
    confidence: float,
    analysis: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Adds the `segm` block (mask IoU metrics, `apps.diagnostics.segmentation`) when the ontology has mask tools,
    and the mask error kinds to `analysis` (the stored error analysis) when given."""
    rows = rows if rows is not None else [None] * len(gt)
    found = segm_evaluate(run, gt, pred, rows, iou=metrics["iou"], confidence=confidence)
    if found is not None:
        ev, inp = found
        full = _metrics_json(ev, inp, confidence, pred)
        metrics["segm"] = {key: full[key] for key in SEGM_KEYS}
        if analysis is not None:
            analysis["segm"] = {"errors": segm_errors(ev, MAX_ITEM_IMAGES)}
    return metrics


def metrics_compute(*, model_run: ModelRun, iou: float, confidence: float) -> MetricsResult:
    """Compute metrics, error analysis and match records of the run at (iou, confidence) over its rows with ground
    truth, and store them as the cached result of that key (replacing a stale one)."""
    started = time.perf_counter()
    fingerprint, _ = run_fingerprint(model_run)
    gt_rows, pred_docs = run_documents(model_run)
    row_ids = [r[0] for r in gt_rows]
    classes, questions, options = _vocabularies(model_run)
    inp = from_documents([r[1] for r in gt_rows], pred_docs, classes=classes, questions=questions, options=options)
    ev = evaluate(inp.gt, inp.pred, iou=iou, confidence=confidence, classes=inp.classes, num_images=inp.num_images)
    splits = dict(ModelRunDataRow.objects.filter(model_run=model_run).values_list("data_row_id", "split"))
    analysis = _error_analysis(ev, row_ids, splits, confidence)
    metrics = _with_segm(
        _metrics_json(ev, inp, confidence, pred_docs),
        model_run,
        [r[1] for r in gt_rows],
        pred_docs,
        row_ids,
        confidence,
        analysis,
    )
    tracking = tracking_block(row_ids, [r[1] for r in gt_rows], pred_docs, iou=iou, confidence=confidence)
    if tracking is not None:
        metrics["tracking"] = tracking
        frames = frame_detection_block(
            row_ids, [r[1] for r in gt_rows], pred_docs, iou=iou, confidence=confidence, classes=classes
        )
        if frames is not None:
            metrics["frame_detection"] = frames
    records = _match_rows(ev, inp, row_ids)
    project_id = gt_rows[0][2] if gt_rows else None
    with transaction.atomic():
        result, _ = MetricsResult.objects.select_for_update().get_or_create(
            model_run=model_run, iou=iou, confidence=confidence, defaults={"fingerprint": ""}
        )
        result.matches.all().delete()
        result.fingerprint = fingerprint
        result.metrics = metrics
        result.errors = analysis
        result.data_rows = [str(r) for r in row_ids]
        result.project_id = project_id
        result.seconds = round(time.perf_counter() - started, 3)
        result.save()
        _write_matches(result, records)
        old = MetricsResult.objects.filter(model_run=model_run).order_by("-updated_at", "-id")[MAX_RESULTS_PER_RUN:]
        MetricsResult.objects.filter(pk__in=list(old.values_list("pk", flat=True))).delete()
    return result
