"""`/metrics` with filters and slices: `split=`, `metadata.<field>=<value>` restrict the rows the metrics are
computed on (a filter is applied or refused with a 400, never ignored), `slice_by=split|metadata.<field>` adds the
metrics of each value of that field. Computed in the request from the run's documents (not cached); the rows
evaluated are the run's ground-truth rows, those without predictions included."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.db.models import QuerySet

from apps.accounts.models import User
from apps.core.errors import Conflict, ValidationFailed
from apps.datasets.importer import metadata_specs
from apps.datasets.models import DataRow
from apps.datasets.selectors import data_rows_visible_to
from apps.diagnostics import services
from apps.diagnostics.models import GroundTruth
from apps.predictions.models import ModelRun, ModelRunDataRow, Split

FILTER_PARAMS = ("split", "slice_by")
MAX_SLICE_VALUES = 50
SUMMARY_KEYS = ("map50", "map", "map75", "map_at_iou", "totals", "rows", "images")


def max_rows() -> int:
    return int(getattr(settings, "DIAGNOSTICS_FILTER_MAX_ROWS", 20_000))


def wants_filtered(params: Mapping[str, str]) -> bool:
    return any(k in FILTER_PARAMS or k.startswith("metadata.") for k in params)


def _slice_field(value: str, organization_id: Any) -> str:
    if value == "split":
        return value
    if value.startswith("metadata.") and value[9:] in metadata_specs(organization_id):
        return value
    raise ValidationFailed(
        "Unknown slice_by.", details={"slice_by": ["split, or metadata.<field> of a metadata field that exists."]}
    )


def _selected_rows(*, actor: User, model_run: ModelRun, params: Mapping[str, str]) -> list[Any]:
    truth = GroundTruth.objects.filter(model_run=model_run)
    if not truth.exists():
        raise Conflict(
            "The run has no ground truth: POST /api/v1/model_runs/{id}/ground_truth first.", code="no_ground_truth"
        )
    ids: QuerySet[Any] = truth.values_list("data_row_id", flat=True)
    if split := params.get("split"):
        if split not in Split.values:
            raise ValidationFailed("Unknown split.", details={"split": [f"One of: {', '.join(Split.values)}."]})
        in_split = ModelRunDataRow.objects.filter(model_run=model_run, split=split, data_row_id__in=ids)
        ids = in_split.values_list("data_row_id", flat=True)
    metadata = {k: str(v) for k, v in params.items() if k.startswith("metadata.")}
    if metadata:  # unknown field or a value of the wrong kind: 400 (the datasets helper)
        ids = data_rows_visible_to(actor=actor, params=metadata).filter(pk__in=ids).values_list("pk", flat=True)
    return sorted(ids)


def _slice_values(model_run: ModelRun, field: str, row_ids: list[Any]) -> dict[Any, Any]:
    if field == "split":
        return dict(
            ModelRunDataRow.objects.filter(model_run=model_run, data_row_id__in=row_ids).values_list(
                "data_row_id", "split"
            )
        )
    return dict(DataRow.objects.filter(pk__in=row_ids).values_list("pk", f"metadata__{field[9:]}"))


def _summary(metrics: dict[str, Any]) -> dict[str, Any]:
    classes = [
        {k: c[k] for k in ("name", "schema_id", "precision", "recall", "f1", "ap", "support")}
        for c in metrics["classes"]
    ]
    return {**{k: metrics[k] for k in SUMMARY_KEYS}, "classes": classes}


def metrics_filtered(
    *, actor: User, model_run: ModelRun, iou: float, confidence: float, params: Mapping[str, str]
) -> dict[str, Any]:
    """The metrics of the run's ground-truth rows that pass the filters, and per value of `slice_by`."""
    slice_by = params.get("slice_by") or None
    field = _slice_field(slice_by, model_run.model.organization_id) if slice_by else None
    row_ids = _selected_rows(actor=actor, model_run=model_run, params=params)
    if len(row_ids) > max_rows():
        raise Conflict(
            f"Filtered metrics are computed in the request for at most {max_rows()} rows; this filter keeps "
            f"{len(row_ids)}. Narrow it.",
            code="too_many_rows",
            details={"rows": len(row_ids), "limit": max_rows()},
        )
    gt_rows, pred_docs = services.run_documents(model_run, row_ids)
    documents = [g[1] for g in gt_rows]
    answer = services.metrics_of_documents(model_run, documents, pred_docs, iou=iou, confidence=confidence)
    answer["filters"] = {k: v for k, v in params.items() if k == "split" or k.startswith("metadata.")}
    if field is None:
        return answer
    values = _slice_values(model_run, field, [g[0] for g in gt_rows])
    groups: dict[str, list[int]] = {}
    for i, (row_id, _, _) in enumerate(gt_rows):
        value = values.get(row_id)
        groups.setdefault("" if value is None else str(value), []).append(i)
    if len(groups) > MAX_SLICE_VALUES:
        raise ValidationFailed(
            f"{field} has {len(groups)} values among these rows; slices are shown for at most {MAX_SLICE_VALUES}.",
            details={"slice_by": ["Too many distinct values."]},
        )
    slices = []
    for value in sorted(groups):
        members = groups[value]
        metrics = services.metrics_of_documents(
            model_run, [gt_rows[i][1] for i in members], [pred_docs[i] for i in members], iou=iou, confidence=confidence
        )
        slices.append({"value": value or None, **_summary(metrics)})
    answer["slice_by"] = field
    answer["slices"] = slices
    return answer
