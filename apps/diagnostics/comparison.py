"""Comparing model runs on their common ground truth: reads the runs' cached metric results (computing or
enqueueing them like `/metrics`), recomputes with the engine only what the cache cannot answer (a subset of rows,
metadata slices), and takes flipped rows from the cached match records. The math is `domain.comparison`."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from django.db.models import TextField
from django.db.models.functions import Cast

from apps.accounts.models import User
from apps.core.errors import Conflict, ValidationFailed
from apps.core.ids import is_uuid
from apps.core.models import Job
from apps.datasets.models import DataRow
from apps.diagnostics import services
from apps.diagnostics.domain import comparison
from apps.diagnostics.models import GroundTruth, MatchRecord, MetricsResult
from apps.predictions.access import access_model_run
from apps.predictions.models import ModelRun

MAX_RUNS = 5
MAX_SLICE_VALUES = 50


@dataclass(frozen=True)
class Comparison:
    runs: list[ModelRun]
    results: list[MetricsResult]
    common: list[str]  # data row ids with the same ground truth in every run, in id order
    differing: int  # rows in every run's ground truth whose label or revision differs


def runs_or_400(actor: User, raw: str | None) -> list[ModelRun]:
    """`runs=a,b[,c…]`: 2 to MAX_RUNS distinct runs the actor may see (others: 404) on one ontology (else 400)."""
    ids = [part.strip() for part in (raw or "").split(",") if part.strip()]
    if len(ids) < 2 or len(ids) > MAX_RUNS or len(set(ids)) != len(ids):
        raise ValidationFailed(
            f"Give 2 to {MAX_RUNS} distinct model runs.", details={"runs": ["A comma-separated list of run ids."]}
        )
    runs = [access_model_run(actor, run_id) for run_id in ids]
    if len({run.model.ontology_id for run in runs}) != 1:
        raise ValidationFailed(
            "The runs must be of models on the same ontology.", details={"runs": ["Different ontologies."]}
        )
    return runs


def _ground_truth_keys(run: ModelRun) -> dict[str, tuple[Any, int]]:
    rows = GroundTruth.objects.filter(model_run=run).values_list("data_row_id", "label_id", "label_revision")
    return {str(row): (label, revision) for row, label, revision in rows}


def compare_prepare(*, actor: User, runs: list[ModelRun], iou: float, confidence: float) -> Comparison | Job:
    """The runs' fresh cached results (a job while one is being computed) and their common ground truth."""
    keys = [_ground_truth_keys(run) for run in runs]
    shared = set(keys[0]).intersection(*keys[1:])
    common = sorted(r for r in shared if all(k[r] == keys[0][r] for k in keys[1:]))
    if not common:
        raise Conflict(
            "The runs have no ground truth in common: snapshot the same project's labels into each run first.",
            code="no_common_ground_truth",
        )
    results = []
    for run in runs:
        found = services.metrics_get_or_enqueue(actor=actor, model_run=run, iou=iou, confidence=confidence)
        if isinstance(found, Job):
            return found
        results.append(found)
    return Comparison(runs=runs, results=results, common=common, differing=len(shared) - len(common))


def _too_large(common: Sequence[str], what: str) -> None:
    if len(common) > services.sync_max_rows():
        raise Conflict(
            f"{what} is computed in the request for at most {services.sync_max_rows()} common rows.",
            code="comparison_too_large",
        )


def _metrics_over(run: ModelRun, row_ids: Sequence[str], iou: float, confidence: float) -> dict[str, Any]:
    gt_rows, preds = services.run_documents(run, row_ids)
    return services.metrics_of_documents(run, [g[1] for g in gt_rows], preds, iou=iou, confidence=confidence)


def _summary(metrics: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    totals = metrics.get("totals") or {}
    overall = {
        "map50": metrics.get("map50"),
        "map": metrics.get("map"),
        "precision": totals.get("precision"),
        "recall": totals.get("recall"),
    }
    classes = [
        {
            "schema_id": c["schema_id"],
            "name": c["name"],
            "support": c.get("support"),
            "ap50": c.get("ap50"),
            "map": c.get("ap_coco"),
            "precision": c.get("precision"),
            "recall": c.get("recall"),
        }
        for c in metrics.get("classes", [])
    ]
    return overall, classes


def _run_metrics(cmp: Comparison, i: int, iou: float, confidence: float) -> dict[str, Any]:
    """The cached result when it covers exactly the common rows, else the engine over the common rows."""
    result = cmp.results[i]
    if sorted(result.data_rows) == cmp.common:
        return dict(result.metrics)
    _too_large(cmp.common, "A comparison on part of the runs' rows")
    return _metrics_over(cmp.runs[i], cmp.common, iou, confidence)


def _slice_values(cmp: Comparison, slice_by: str) -> dict[str, list[str]]:
    """Value → common rows, for `split` (the baseline run's snapshot) or a metadata field."""
    field = slice_by.removeprefix("metadata.")
    values: dict[str, list[str]] = {}
    if slice_by == "split":
        found = GroundTruth.objects.filter(model_run=cmp.runs[0], data_row_id__in=cmp.common).values_list(
            "data_row_id", "split"
        )
        for row, split in found:
            values.setdefault(split or "unassigned", []).append(str(row))
    else:
        rows = (
            DataRow.objects.filter(pk__in=cmp.common)
            .annotate(text=Cast("metadata", TextField()))
            .values_list("id", "text")
        )
        for row, text in rows:
            value = (orjson.loads(text) if text else {}) or {}
            found_value = value.get(field) if isinstance(value, dict) else None
            if isinstance(found_value, str | int | float | bool):
                values.setdefault(str(found_value), []).append(str(row))
    if len(values) > MAX_SLICE_VALUES:
        raise ValidationFailed(
            f"{slice_by} has more than {MAX_SLICE_VALUES} values among the rows.",
            details={"slice_by": ["Too many distinct values."]},
        )
    return {k: sorted(v) for k, v in sorted(values.items())}


def errors_by_row(result: MetricsResult, rows: set[str]) -> dict[str, set[str]]:
    """Row → the classes its error records (anything but a true positive) involve, among `rows`."""
    out: dict[str, set[str]] = {}
    records = (
        MatchRecord.objects.filter(result=result)
        .exclude(status="true_positive")
        .values_list("data_row_id", "schema_id", "gt_schema_id", "pred_schema_id")
    )
    for row_id, *classes in records.iterator(chunk_size=5000):
        key = str(row_id)
        if key in rows:
            out.setdefault(key, set()).update(c for c in classes if c)
    return out


def flipped(cmp: Comparison, other: int, *, klass: str | None = None, direction: str | None = None) -> list[Any]:
    common = set(cmp.common)
    base = errors_by_row(cmp.results[0], common)
    mine = errors_by_row(cmp.results[other], common)
    return comparison.flips(cmp.common, base, mine, klass=klass, direction=direction)


def compare_report(cmp: Comparison, *, iou: float, confidence: float, slice_by: str | None = None) -> dict[str, Any]:
    summaries = [_summary(_run_metrics(cmp, i, iou, confidence)) for i in range(len(cmp.runs))]
    slices: dict[str, list[str]] = {}
    if slice_by:
        _too_large(cmp.common, "A comparison by slice")
        slices = _slice_values(cmp, slice_by)
    slice_metrics: dict[str, list[tuple[dict[str, Any], list[dict[str, Any]]]]] = {
        value: [_summary(_metrics_over(run, rows, iou, confidence)) for run in cmp.runs]
        for value, rows in slices.items()
    }
    base_overall, base_classes = summaries[0]
    comparisons = []
    for i in range(1, len(cmp.runs)):
        overall, classes = summaries[i]
        entry: dict[str, Any] = {
            "run": str(cmp.runs[i].pk),
            "against": str(cmp.runs[0].pk),
            "overall": comparison.metric_deltas(base_overall, overall, comparison.OVERALL_METRICS),
            "classes": comparison.class_deltas(base_classes, classes),
            "flipped": comparison.flip_counts(flipped(cmp, i)),
        }
        if slice_by:
            entry["slices"] = [
                {
                    "field": slice_by,
                    "value": value,
                    "rows": len(slices[value]),
                    "overall": comparison.metric_deltas(per_run[0][0], per_run[i][0], comparison.OVERALL_METRICS),
                    "classes": comparison.class_deltas(per_run[0][1], per_run[i][1]),
                }
                for value, per_run in slice_metrics.items()
            ]
        comparisons.append(entry)
    return {
        "runs": [
            {"id": str(run.pk), "name": run.name, "model": str(run.model_id), "model_name": run.model.name}
            for run in cmp.runs
        ],
        "baseline": str(cmp.runs[0].pk),
        "iou": iou,
        "confidence": confidence,
        "common_rows": len(cmp.common),
        "ground_truth_differs": cmp.differing,
        "metrics": [{"run": str(run.pk), "overall": summaries[i][0]} for i, run in enumerate(cmp.runs)],
        "comparisons": comparisons,
    }


DEFAULT_PAGE = 50
MAX_PAGE = 1000


def other_index(cmp: Comparison, run_id: str | None) -> int:
    """The position of `run` (default: the second run) among the compared runs; never the baseline."""
    if not run_id:
        return 1
    for i, run in enumerate(cmp.runs[1:], start=1):
        if str(run.pk) == run_id.strip().lower():
            return i
    raise ValidationFailed("run must be one of the compared runs (not the first).", details={"run": ["Not compared."]})


def page_of(flips: Sequence[Any], cursor: str | None, page_size: str | None) -> tuple[list[Any], str | None]:
    """Keyset paging over flips in data row order: the cursor is the last row of the previous page (opaque)."""
    try:
        size = int(page_size) if page_size else DEFAULT_PAGE
    except ValueError:
        size = -1
    if not 1 <= size <= MAX_PAGE:
        raise ValidationFailed(f"page_size must be from 1 to {MAX_PAGE}.", details={"page_size": ["Out of range."]})
    after = ""
    if cursor:
        try:
            padded = cursor.encode() + b"=" * (-len(cursor) % 4)
            after = base64.b64decode(padded, altchars=b"-_", validate=True).decode()
        except (ValueError, UnicodeDecodeError):
            after = ""
        if not is_uuid(after):
            raise ValidationFailed("Invalid cursor.", details={"cursor": ["Invalid."]})
    rest = [f for f in flips if f.data_row > after]
    page = rest[:size]
    if len(rest) <= size:
        return page, None
    return page, base64.urlsafe_b64encode(page[-1].data_row.encode()).decode().rstrip("=")


def serialize_flips(flips: Sequence[Any]) -> list[dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {
        str(r["id"]): dict(r)
        for r in DataRow.objects.filter(pk__in=[f.data_row for f in flips]).values("id", "global_key", "external_id")
    }
    out = []
    for flip in flips:
        row = rows.get(flip.data_row, {})
        out.append(
            {
                **flip.as_dict(),
                "data_row": {
                    "id": flip.data_row,
                    "global_key": row.get("global_key"),
                    "external_id": row.get("external_id"),
                },
            }
        )
    return out
