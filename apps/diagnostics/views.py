"""Diagnostics pages: the organization's model runs, and one run's page (metric table, confusion heat map, PR
curves, IoU histogram, and a row gallery with ground truth and predictions overlaid), filtered like /rows."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from apps.accounts.access import request_user
from apps.accounts.models import User
from apps.catalog.access import access_embedding_space
from apps.catalog.selectors import embedding_spaces_visible_to
from apps.core.errors import ApplicationError, Conflict, ValidationFailed
from apps.core.models import Job
from apps.diagnostics import charts, comparison, selectors, send_back, services
from apps.diagnostics.domain import comparison as comparison_domain
from apps.diagnostics.overlays import GT_COLOR, PRED_COLOR
from apps.labeling.access import access_project, is_project_manager_of_org, projects_where
from apps.labeling.models import Project
from apps.predictions.access import access_model_run, require_model_manager
from apps.predictions.models import ModelRun

PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2"]
GALLERY_ROWS = 12
PRIORITIES_SHOWN = 10
ERROR_KINDS = (
    ("false_positive", "False positive", "a prediction that matches nothing"),
    ("false_negative", "Missed", "ground truth no prediction matches"),
    ("confusion", "Wrong class", "matched at IoU ≥ t to an object of another class"),
    ("localisation", "Localisation", "same class, 0.1 ≤ IoU < t"),
)


def _error_kinds(analysis: dict[str, Any]) -> list[dict[str, Any]]:
    """The four error kinds with their counts on boxes and, when the ontology has masks, on masks (mask IoU)."""
    boxes = analysis.get("errors", {})
    masks = analysis.get("segm", {}).get("errors") if "segm" in analysis else None
    out = []
    for kind, name, meaning in ERROR_KINDS:
        row: dict[str, Any] = {"kind": kind, "name": name, "meaning": meaning, "boxes": boxes.get(kind, {})}
        row["masks"] = masks.get(kind, {}) if masks is not None else None
        out.append(row)
    return out


def runs_link(user: User, project: Project) -> tuple[str, str] | None:
    """The project page's link to the model runs (and their diagnostics), for those who may work with models."""
    if not is_project_manager_of_org(user):
        return None
    return ("Model runs", reverse("diagnostics:runs"))


@login_required
def model_runs_page(request: HttpRequest) -> HttpResponse:
    actor = request_user(request)
    require_model_manager(actor)
    runs = ModelRun.objects.select_related("model").order_by("model__name", "-created_at")
    if not actor.is_superuser:
        runs = runs.filter(model__organization_id=actor.organization_id or "")
    return render(request, "diagnostics/runs.html", {"runs": runs[:500]})


def _gallery(run: ModelRun, actor: Any, result: Any, filters: dict[str, str], ordering: tuple[str, ...]) -> list:
    records = selectors.match_records(actor=actor, result=result, filters=filters).order_by(*ordering)
    row_ids: list[Any] = []
    for (row_id,) in records.values_list("data_row_id")[:2000]:
        if row_id not in row_ids:
            row_ids.append(row_id)
            if len(row_ids) >= GALLERY_ROWS:
                break
    if not row_ids and "segm" in result.errors:
        row_ids = _mask_rows(result, filters)
    overlays = selectors.row_overlays(model_run=run, data_row_ids=row_ids, confidence=result.confidence)
    for entry in overlays:
        entry["content_url"] = f"/api/v1/data_rows/{entry['data_row'].id}/content"
    return overlays


def _mask_rows(result: Any, filters: dict[str, str]) -> list[Any]:
    """Gallery rows of a run whose objects are masks only (no box match records): the rows of the mask error kind
    given as `status`, or, unfiltered, the first rows of the run."""
    status = filters.get("status")
    errors = result.errors["segm"].get("errors", {})
    if set(filters) - {"status"} or (status and status not in errors):
        return []
    images = errors[status]["images"] if status else range(len(result.data_rows))
    return [uuid.UUID(result.data_rows[i]) for i in list(images)[:GALLERY_ROWS] if 0 <= i < len(result.data_rows)]


@login_required
def model_run_page(request: HttpRequest, run_id: str) -> HttpResponse:
    actor = request_user(request)
    run = access_model_run(actor, run_id)
    params = request.GET
    selectors.check_params(params.keys(), selectors.ROW_FILTERS + selectors.PAGE_PARAMS)
    iou, confidence = services.parse_thresholds(params.get("iou"), params.get("confidence"))
    ordering = selectors.order_of(params.get("order"))
    filters: dict[str, str] = {k: str(v) for k, v in params.items() if k not in selectors.PAGE_PARAMS and v != ""}
    context: dict[str, Any] = {
        "run": run,
        "iou": iou,
        "confidence": confidence,
        "filters": filters,
        "params": params,
        "statuses": selectors.STATUSES,
        "orders": [k for k in selectors.ORDERS if k != "index"],
        "splits": ["train", "valid", "test", "unassigned"],
        "gt_color": GT_COLOR,
        "pred_color": PRED_COLOR,
        "query": urlencode({"iou": iou, "confidence": confidence, **filters}),
    }
    try:
        found = services.metrics_get_or_enqueue(actor=actor, model_run=run, iou=iou, confidence=confidence)
    except Conflict as exc:
        context["problem"] = exc.message
        return render(request, "diagnostics/run.html", context)
    if isinstance(found, Job):
        context["job"] = found
        return render(request, "diagnostics/run.html", context)
    metrics = found.metrics
    # Box figures unless the run is masks only (no box on either side): then the charts show the masks' (`segm`).
    show_boxes = "segm" not in metrics or bool(metrics["totals"]["support"] or metrics["totals"]["predictions"])
    shown = metrics if show_boxes else metrics["segm"]
    confusion = shown["confusion"]
    curves = shown["pr_curves"]
    hist = shown["iou_histogram"]
    context.update(
        {
            "result": found,
            "metrics": metrics,
            "segm": metrics.get("segm"),
            "show_boxes": show_boxes,
            "gt_summary": selectors.ground_truth_summary(model_run=run),
            "classes": metrics["classes"],  # the gallery filter's (box match records)
            "class_rows": metrics["classes"] if show_boxes else metrics["segm"]["classes"],
            "heat_map": charts.heat_map(confusion["labels"], confusion["matrix"]),
            "pr": charts.pr_curves(curves["classes"], curves["recall"], PALETTE),
            "histogram": charts.histogram(hist["edges"], hist["true_positive"]),
            "gallery": _gallery(run, actor, found, filters, ordering),
            "priorities": list(enumerate(found.errors.get("priorities", [])[:PRIORITIES_SHOWN])),
            "error_kinds": _error_kinds(found.errors),
            "has_mask_errors": "segm" in found.errors,
            "class_support": [c for c in found.errors.get("class_frequency", []) if c.get("support")],
            "embeddings": embedding_spaces_visible_to(actor=actor).order_by("name")[:100],
            "compare_with": ModelRun.objects.filter(model__ontology_id=run.model.ontology_id)
            .exclude(pk=run.pk)
            .select_related("model")
            .order_by("-created_at")[:100],
            "target_projects": projects_where(actor, "manage").filter(archived=False).order_by("name")[:200],
        }
    )
    return render(request, "diagnostics/run.html", context)


@login_required
@require_POST
def send_to_labeling_page(request: HttpRequest, run_id: str) -> HttpResponse:
    """One click from the ranked list: the rows of a priority become a batch in the chosen project."""
    actor = request_user(request)
    run = access_model_run(actor, run_id)
    iou, confidence = services.parse_thresholds(request.POST.get("iou"), request.POST.get("confidence"))
    back = f"{reverse('diagnostics:run', args=[run.id])}?{urlencode({'iou': iou, 'confidence': confidence})}"
    try:
        project = access_project(actor, request.POST.get("project", ""), "manage")
        raw = request.POST.get("priority", "")
        if not raw.isdigit():
            raise ApplicationError("Choose an item of the list.")
        result = services.fresh_result(run, iou, confidence)
        if result is None:
            raise ApplicationError("The metrics changed since this page was shown: reload it.")
        row_ids = selectors.slice_row_ids(result=result, slice_spec={"priority": int(raw)})
        item = result.errors["priorities"][int(raw)]
        name = request.POST.get("batch_name") or f"{run.name} · {item['kind']} #{int(raw) + 1}"
        batch = send_back.send_to_labeling(
            actor=actor, model_run=run, project=project, data_row_ids=row_ids, batch_name=name[:200], priority=4
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect(back)
    messages.success(request, f"Batch “{batch.batch.name}” in {project.name}: {batch.added} row(s) queued.")
    return redirect(back)


@login_required
@require_POST
def mine_similar_page(request: HttpRequest, run_id: str) -> HttpResponse:
    """One click from a class of the run page: rows similar to its ground-truth rows become a batch."""
    actor = request_user(request)
    run = access_model_run(actor, run_id)
    back = reverse("diagnostics:run", args=[run.id])
    try:
        project = access_project(actor, request.POST.get("project", ""), "manage")
        space = access_embedding_space(actor, request.POST.get("embedding", ""))
        raw_limit = request.POST.get("limit", "")
        if not raw_limit.isdigit():
            raise ApplicationError("The number of rows must be a whole number.")
        result = send_back.mine_similar(
            actor=actor,
            model_run=run,
            project=project,
            space=space,
            schema_id=request.POST.get("class", ""),
            limit=int(raw_limit),
            priority=4,
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect(back)
    messages.success(request, f"Batch “{result['name']}” in {project.name}: {result['added']} similar row(s) queued.")
    return redirect(back)


FLIPS_SHOWN = 12


@login_required
def compare_page(request: HttpRequest) -> HttpResponse:
    """Metric deltas of runs against the first one (per class, overall, per slice) and a gallery of flipped rows."""
    actor = request_user(request)
    params = request.GET
    selectors.check_params(params.keys(), ("runs", "run", "iou", "confidence", "slice_by", "direction", "class"))
    raw = params.get("runs") or ",".join(params.getlist("run"))
    runs = comparison.runs_or_400(actor, raw)
    if not params.get("runs"):  # ticked on a page (`run=` repeated): the oldest run is the baseline
        runs.sort(key=lambda r: (r.created_at, str(r.pk)))
    iou, confidence = services.parse_thresholds(params.get("iou"), params.get("confidence"))
    direction = params.get("direction") or None
    if direction not in (None, *comparison_domain.DIRECTIONS):
        raise ValidationFailed("Unknown direction.", details={"direction": list(comparison_domain.DIRECTIONS)})
    slice_by = (params.get("slice_by") or "").strip()[:200] or None
    context: dict[str, Any] = {
        "runs": runs,
        "runs_param": ",".join(str(r.pk) for r in runs),
        "iou": iou,
        "confidence": confidence,
        "slice_by": slice_by or "",
        "direction": direction or "",
        "klass": params.get("class") or "",
        "gt_color": GT_COLOR,
        "pred_color": PRED_COLOR,
    }
    try:
        found = comparison.compare_prepare(actor=actor, runs=runs, iou=iou, confidence=confidence)
        if isinstance(found, Job):
            context["job"] = found
            return render(request, "diagnostics/compare.html", context)
        report = comparison.compare_report(found, iou=iou, confidence=confidence, slice_by=slice_by)
    except Conflict as exc:
        context["problem"] = exc.message
        return render(request, "diagnostics/compare.html", context)
    flips = comparison.flipped(found, 1, klass=context["klass"] or None, direction=direction)
    shown = flips[:FLIPS_SHOWN]
    ids = [uuid.UUID(f.data_row) for f in shown]
    overlays = [
        {
            str(e["data_row"].pk): e
            for e in selectors.row_overlays(model_run=run, data_row_ids=ids, confidence=confidence)
        }
        for run in (runs[0], runs[1])
    ]
    gallery = []
    for flip in shown:
        a, b = overlays[0].get(flip.data_row), overlays[1].get(flip.data_row)
        if a is None or b is None:
            continue
        row = a["data_row"]
        gallery.append(
            {
                "flip": flip,
                "data_row": row,
                "content_url": f"/api/v1/data_rows/{row.id}/content",
                "width": a["width"],
                "height": a["height"],
                "ground_truth": a["ground_truth"],
                "gt_polygons": a["gt_polygons"],
                "gt_mask": a["gt_mask"],
                "sides": [
                    {"boxes": side["predictions"], "polygons": side["pred_polygons"], "mask": side["pred_mask"]}
                    for side in (a, b)
                ],
            }
        )
    classes = report["comparisons"][0]["classes"] if report["comparisons"] else []
    context.update({"report": report, "gallery": gallery, "flip_count": len(flips), "classes": classes})
    return render(request, "diagnostics/compare.html", context)
