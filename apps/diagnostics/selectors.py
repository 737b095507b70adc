"""Reads of diagnostics: the match records of a cached result with the /rows filters (SQL, allow-listed), and the
error analysis with the data rows behind each item."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from django.db.models import OuterRef, QuerySet, Subquery

from apps.accounts.models import User
from apps.catalog.domain.packing import unpack
from apps.catalog.selectors import embedding_space_for, latest_analysis
from apps.core.db_router import reads_from_replica
from apps.core.errors import ValidationFailed
from apps.datasets.models import DataRow
from apps.datasets.selectors import data_rows_visible_to
from apps.diagnostics import overlays
from apps.diagnostics.ground_truth import ground_truth_stats
from apps.diagnostics.models import GroundTruth, MatchRecord, MetricsResult
from apps.diagnostics.services import run_classes
from apps.labeling.models import Project
from apps.predictions.models import ModelRun, ModelRunDataRow, Split
from apps.quality.selectors import project_quality

ROW_FILTERS = ("class", "iou_lt", "iou_gt", "confidence_lt", "confidence_gt", "status", "split")
PAGE_PARAMS = ("order", "cursor", "page_size", "iou", "confidence")
STATUSES = ("true_positive", "false_positive", "false_negative", "confusion", "localisation")
ORDERS: dict[str, tuple[str, ...]] = {
    "index": ("index",),
    "iou": ("iou", "index"),
    "-iou": ("-iou", "-index"),
    "confidence": ("confidence_key", "index"),
    "-confidence": ("-confidence_key", "-index"),
}
ROWS_SHOWN = 10
DEFAULT_CONSENSUS_THRESHOLD = 0.8


def check_params(params: Iterable[str], allowed: Iterable[str]) -> None:
    """400 for any parameter outside the allow-list (`metadata.<field>` is checked by the datasets helper)."""
    allowed = set(allowed)
    unknown = sorted(k for k in params if k not in allowed and not k.startswith("metadata."))
    if unknown:
        raise ValidationFailed(
            f"Unknown filter: {', '.join(unknown)}.", details={k: ["Unknown filter."] for k in unknown}
        )


def _bound(filters: Mapping[str, Any], name: str) -> float | None:
    raw = filters.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = float(raw)
    except (TypeError, ValueError):
        value = math.nan
    if not math.isfinite(value):
        raise ValidationFailed(f"{name} must be a number.", details={name: ["A number."]})
    return value


def order_of(value: str | None) -> tuple[str, ...]:
    key = value or "index"
    if key not in ORDERS:
        raise ValidationFailed(
            "Unknown order.", details={"order": [f"One of: {', '.join(k for k in ORDERS if k != 'index')}."]}
        )
    return ORDERS[key]


def match_records(*, actor: User, result: MetricsResult, filters: Mapping[str, Any]) -> QuerySet[MatchRecord]:
    """The result's match records passing every filter (class on either side, strict IoU/confidence bounds — a
    confidence bound drops missed boxes —, status, the row's split in the run, metadata.<field> exact match)."""
    check_params(filters.keys(), ROW_FILTERS + PAGE_PARAMS)
    queryset = MatchRecord.objects.filter(result=result)
    if klass := filters.get("class"):
        keys = class_keys(result.model_run, str(klass))
        queryset = queryset.filter(schema_id__in=keys) | queryset.filter(gt_schema_id__in=keys)
    if _bound(filters, "confidence_lt") is not None or _bound(filters, "confidence_gt") is not None:
        # A confidence bound is about predictions: missed boxes (plain or of a localisation error) have none.
        queryset = queryset.exclude(status="false_negative")
    for name, lookup in (
        ("iou_lt", "iou__lt"),
        ("iou_gt", "iou__gt"),
        ("confidence_lt", "confidence__lt"),
        ("confidence_gt", "confidence__gt"),
    ):
        value = _bound(filters, name)
        if value is not None:
            queryset = queryset.filter(**{lookup: value})
    if status := filters.get("status"):
        if status not in STATUSES:
            raise ValidationFailed("Unknown status.", details={"status": [f"One of: {', '.join(STATUSES)}."]})
        queryset = queryset.filter(localisation=True) if status == "localisation" else queryset.filter(status=status)
    if split := filters.get("split"):
        if split not in Split.values:
            raise ValidationFailed("Unknown split.", details={"split": [f"One of: {', '.join(Split.values)}."]})
        in_split = ModelRunDataRow.objects.filter(model_run_id=result.model_run_id, split=split)
        queryset = queryset.filter(data_row_id__in=in_split.values("data_row_id"))
    metadata = {k: str(v) for k, v in filters.items() if k.startswith("metadata.")}
    if metadata:
        rows = data_rows_visible_to(actor=actor, params=metadata)
        queryset = queryset.filter(data_row_id__in=rows.values("pk"))
    return queryset


def class_keys(model_run: ModelRun, value: str) -> list[str]:
    """The schema_ids a `class=` filter names: a class's schema_id, or its name (every class of that name, any
    letter case); anything else is a 400 listing the classes."""
    classes = run_classes(model_run)
    if any(ref.key == value for ref in classes):
        return [value]
    named = [ref.key for ref in classes if ref.name.casefold() == value.casefold()]
    if not named:
        choices = ", ".join(sorted({ref.name for ref in classes})[:50])
        raise ValidationFailed(
            f"Unknown class {value[:100]!r}.", details={"class": [f"A schema_id or a class name: {choices}."]}
        )
    return named


def with_row_fields(queryset: QuerySet[MatchRecord], model_run: ModelRun) -> QuerySet[MatchRecord]:
    split = ModelRunDataRow.objects.filter(model_run=model_run, data_row_id=OuterRef("data_row_id")).values("split")
    return queryset.select_related("data_row").annotate(split=Subquery(split[:1]))


def filtered_row_ids(*, actor: User, result: MetricsResult, filters: Mapping[str, Any]) -> list[str]:
    """The distinct data rows behind the filtered records, in record order."""
    ids = match_records(actor=actor, result=result, filters=filters).order_by("index").values_list("data_row_id")
    return [str(r) for r in dict.fromkeys(row for (row,) in ids)]


@reads_from_replica
def ground_truth_summary(*, model_run: ModelRun) -> dict[str, Any]:
    """The snapshot, with the warnings the run page shows: ground-truth rows without any prediction (all misses)
    and done rows of the project that are not in the snapshot (left out by `scope=run`, or labeled since)."""
    rows = GroundTruth.objects.filter(model_run=model_run)
    first = rows.order_by("id").values("project", "created_at").first()
    project = Project.objects.filter(pk=first["project"]).first() if first else None
    return {
        "model_run": str(model_run.id),
        "project": str(first["project"]) if first else None,
        "rows": rows.count(),
        "created_at": first["created_at"].isoformat() if first else None,
        **ground_truth_stats(model_run=model_run, project=project),
    }


def _row_refs(ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    wanted = list(dict.fromkeys(ids))
    found = DataRow.objects.filter(pk__in=wanted).values("id", "global_key", "external_id")
    return {
        str(r["id"]): {"id": str(r["id"]), "global_key": r["global_key"], "external_id": r["external_id"]}
        for r in found
    }


def _low_consensus(result: MetricsResult) -> list[dict[str, Any]]:
    """Features of the ground-truth project whose mean labeler consensus is under the project's threshold, with
    the run's rows that have ground truth of that class."""
    project = result.project
    if project is None:
        return []
    threshold = project.settings.get("quality", {}).get("consensus_threshold") or DEFAULT_CONSENSUS_THRESHOLD
    out = []
    for feature in project_quality(project=project)["consensus"]["by_feature"]:
        if feature["mean"] is None or feature["mean"] >= float(threshold):
            continue
        rows = MatchRecord.objects.filter(result=result, gt_schema_id=str(feature["schema_id"]))
        ids = [str(r) for r in rows.values_list("data_row_id", flat=True).distinct()]
        out.append({**feature, "threshold": float(threshold), "image_count": len(ids), "row_ids": ids})
    return out


EMBEDDING_OUTLIERS = 20


def embedding_outliers(*, actor: User, result: MetricsResult, space_id: str) -> dict[str, Any]:
    """The run's rows farthest from the rest in an embedding space: the catalog's cached outlier scores (its latest
    analysis of the space), restricted to the rows of the result, highest first."""
    space = embedding_space_for(actor=actor, space_id=space_id)
    found = latest_analysis(space=space)
    if found is None:
        return {"embedding": str(space.pk), "status": "not_computed", "rows": []}
    arrays = unpack(found.data)
    ours = set(result.data_rows)
    scored = sorted(
        (
            (float(arrays.outlier_scores[p]), float(arrays.outlier_ranks[p]), r)
            for p, r in enumerate(arrays.row_ids)
            if r in ours
        ),
        key=lambda item: (-item[0], item[2]),
    )[:EMBEDDING_OUTLIERS]
    refs = _row_refs(r for _, _, r in scored)
    return {
        "embedding": str(space.pk),
        "status": "stale" if found.space_version != space.version else "ok",
        "rows": [
            {"data_row": refs[r], "outlier_score": score, "outlier_rank": rank}
            for score, rank, r in scored
            if r in refs
        ],
    }


@reads_from_replica
def error_report(*, result: MetricsResult, actor: User | None = None, embedding: str | None = None) -> dict[str, Any]:
    """The stored error analysis with, for each item, `row_count` and the first rows behind it (`rows`); with an
    `embedding`, the catalog's outlier rows of the run too."""
    analysis: dict[str, Any] = result.errors
    data_rows: list[str] = result.data_rows
    items: list[dict[str, Any]] = []

    def collect(item: dict[str, Any]) -> dict[str, Any]:
        out = {k: v for k, v in item.items() if k not in ("images", "row_ids")}
        ids = item.get("row_ids") or [data_rows[i] for i in item.get("images", []) if 0 <= i < len(data_rows)]
        out["row_count"] = item.get("image_count", len(ids))
        out["row_ids"] = ids[:ROWS_SHOWN]
        items.append(out)
        return out

    low = _low_consensus(result)
    outlier_boxes: list[dict[str, Any]] = []
    class_rows: list[dict[str, Any]] = [
        {**c, "filters": {"class": c["schema_id"]}} for c in analysis.get("class_frequency", [])
    ]
    report: dict[str, Any] = {
        "model_run": str(result.model_run_id),
        "iou": result.iou,
        "confidence": result.confidence,
        "class_frequency": class_rows,
        "concept_clarity": {
            "confused_pairs": [collect(p) for p in analysis.get("concept_clarity", {}).get("confused_pairs", [])],
            "low_consensus": [collect({**f, "filters": {"class": str(f["schema_id"])}}) for f in low],
        },
        "data_distribution": [collect(s) for s in analysis.get("data_distribution", [])],
        "outliers": {
            "boxes": outlier_boxes,
            "embedding": embedding_outliers(actor=actor, result=result, space_id=embedding)
            if embedding and actor is not None
            else None,
        },
        "errors": {kind: collect(entry) for kind, entry in analysis.get("errors", {}).items()},
        "priorities": [collect(p) for p in analysis.get("priorities", [])],
    }
    if "segm" in analysis:  # the ontology has mask tools: the same four kinds on masks (mask IoU)
        report["segm"] = {"errors": {kind: collect(e) for kind, e in analysis["segm"].get("errors", {}).items()}}
    for box in analysis.get("outliers", {}).get("boxes", []):
        image = box["image"]
        row = {k: v for k, v in box.items() if k != "image"}
        row["row_ids"] = [data_rows[image]] if 0 <= image < len(data_rows) else []
        row["row_count"] = len(row["row_ids"])
        items.append(row)
        outlier_boxes.append(row)
    # The rows behind each item, with their keys, in one query.
    refs = _row_refs(r for item in items for r in item["row_ids"])
    for item in items:
        item["rows"] = [refs[r] for r in item.pop("row_ids") if r in refs]
    # Class frequency: the rows behind each class are the rows with its ground truth.
    for c in class_rows:
        behind = MatchRecord.objects.filter(result=result, gt_schema_id=c["schema_id"]).values_list("data_row_id")
        first = [str(r) for r in dict.fromkeys(row for (row,) in behind.order_by("index")[:500])][:ROWS_SHOWN]
        found = _row_refs(first)
        c["rows"] = [found[r] for r in first if r in found]
    return report


def slice_row_ids(*, result: MetricsResult, slice_spec: Mapping[str, Any]) -> list[str]:
    """The data rows of a stored error-analysis item: `{"priority": n}` (the ranked list, 0-based) or
    `{"field": "split"|"metadata.<f>", "value": v}` (a data distribution slice)."""
    analysis: dict[str, Any] = result.errors
    data_rows: list[str] = result.data_rows
    if "priority" in slice_spec:
        index = slice_spec["priority"]
        priorities = analysis.get("priorities", [])
        if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < len(priorities):
            raise ValidationFailed("Unknown priority.", details={"slice": ["priority: an index of the ranked list."]})
        images = priorities[index]["images"]
    else:
        field, value = slice_spec.get("field"), slice_spec.get("value")
        found = [
            s for s in analysis.get("data_distribution", []) if s["field"] == field and str(s["value"]) == str(value)
        ]
        if not found:
            raise ValidationFailed("Unknown slice.", details={"slice": ["No such field and value in this run."]})
        images = found[0]["images"]
    return [data_rows[i] for i in images if 0 <= i < len(data_rows)]


@reads_from_replica
def row_overlays(*, model_run: ModelRun, data_row_ids: list[Any], confidence: float) -> list[dict[str, Any]]:
    """Per data row (in the given order): its ground truth and its predictions with score >= confidence, as gallery
    shapes (`apps.diagnostics.overlays`: boxes, polygons, and each side's masks as one translucent PNG layer)."""
    from apps.predictions.models import Prediction

    rows = {r.pk: r for r in DataRow.objects.filter(pk__in=data_row_ids)}
    gt: dict[Any, list[Any]] = {}
    for row_id, document in GroundTruth.objects.filter(model_run=model_run, data_row_id__in=data_row_ids).values_list(
        "data_row_id", "annotations"
    ):
        gt.setdefault(row_id, []).extend(document or [])
    preds: dict[Any, list[Any]] = {}
    scores: dict[Any, list[float | None]] = {}
    for row_id, annotation, score in Prediction.objects.filter(
        model_run=model_run, data_row_id__in=data_row_ids
    ).values_list("data_row_id", "annotation", "confidence"):
        if score is not None and score < confidence:
            continue
        preds.setdefault(row_id, []).append(annotation)
        scores.setdefault(row_id, []).append(score)
    out = []
    for row_id in data_row_ids:
        row = rows.get(row_id)
        if row is None:
            continue
        truth = overlays.side(gt.get(row_id, []))
        predicted = overlays.side(preds.get(row_id, []), scores.get(row_id, []))
        out.append(overlays.finish({"data_row": row}, truth, predicted))
    return out
