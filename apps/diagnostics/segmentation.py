"""Segmentation metrics of a model run (COCO "segm"): mask predictions against mask or polygon ground truth.

When the run's ontology has mask tools, the metrics JSON gains a `segm` block computed like the box metrics, but on
masks: objects are the mask tools (and polygon tools, rasterised at the row's size as pycocotools does), IoU is the
masks' IoU. Boxes are not part of it (they keep their own block at the top level).

The error analysis gains the four error kinds on masks (`segm_errors`): false positive, false negative, confusion and
localisation, decided exactly as for boxes (`apps.diagnostics.domain.error_analysis`) but with the masks' IoU, so a
prediction whose box covers the truth's box but whose pixels miss it is a false positive, not a localisation error.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from apps.datasets.models import DataRow
from apps.diagnostics.domain import ClassRef
from apps.diagnostics.domain.detection import Evaluation, evaluate
from apps.diagnostics.domain.documents import EvaluationInput, from_documents
from apps.diagnostics.domain.error_analysis import error_summary
from apps.predictions.models import ModelRun

SEGM_TOOLS = ("mask", "polygon")
# The keys of the metrics JSON the `segm` block repeats (classifications and row counts are the same as the boxes').
SEGM_KEYS = ("classes", "map", "map50", "map75", "map_at_iou", "totals", "confusion", "pr_curves", "iou_histogram")


def segm_classes(model_run: ModelRun) -> list[ClassRef]:
    """The run ontology's mask and polygon tools, in tree order; empty when it has no mask tool."""
    tools = [t for t in (model_run.ontology_version.tree or {}).get("tools", []) if t.get("schema_id")]
    if not any(t.get("tool") == "mask" for t in tools):
        return []
    return [
        ClassRef(str(t["schema_id"]), str(t["name"]))
        for t in tools
        if t.get("tool") in SEGM_TOOLS and not t.get("archived")
    ]


def segm_input(
    model_run: ModelRun, gt_docs: Sequence[Any], pred_docs: Sequence[Any], row_ids: Sequence[Any]
) -> EvaluationInput | None:
    """The masks of both sides (None when the ontology has no mask tool). `row_ids[i]` is image i's data row."""
    classes = segm_classes(model_run)
    if not classes:
        return None
    sizes = {
        row_id: (int(w), int(h)) if w and h else None
        for row_id, w, h in DataRow.objects.filter(pk__in=list(row_ids)).values_list("id", "width", "height")
    }
    return from_documents(
        list(gt_docs), list(pred_docs), classes=classes, segm=True, image_sizes=[sizes.get(r) for r in row_ids]
    )


def segm_evaluate(
    model_run: ModelRun,
    gt_docs: Sequence[Any],
    pred_docs: Sequence[Any],
    row_ids: Sequence[Any],
    *,
    iou: float,
    confidence: float,
) -> tuple[Evaluation, EvaluationInput] | None:
    """The mask evaluation at (iou, confidence) and its input; None when the ontology has no mask tool."""
    inp = segm_input(model_run, gt_docs, pred_docs, row_ids)
    if inp is None:
        return None
    ev = evaluate(inp.gt, inp.pred, iou=iou, confidence=confidence, classes=inp.classes, num_images=inp.num_images)
    return ev, inp


def segm_errors(ev: Evaluation, max_images: int) -> dict[str, dict[str, Any]]:
    """The four error kinds of a mask evaluation, stored like the box ones: per kind `count`, `by_class`,
    `image_count` and the first `max_images` image indexes (`images`)."""
    summary = error_summary(ev)
    for entry in summary.values():
        entry["image_count"] = len(entry["images"])
        entry["images"] = [int(v) for v in entry["images"][:max_images]]
    return summary
