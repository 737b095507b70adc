"""Every write of the diagnostics app: the ground-truth snapshot of a run, the cached metrics (computed here or by
a django-q2 job) with their match records, and sending rows back to labeling."""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Sequence
from typing import Any

import orjson
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Max, TextField
from django.db.models.functions import Cast
from django.utils import timezone

from apps.accounts.models import User
from apps.catalog.selectors import MAX_K, rows_similar_to
from apps.core.audit import audit_record
from apps.core.errors import Conflict, ValidationFailed
from apps.core.jobs import job_create_and_enqueue
from apps.core.models import Job
from apps.diagnostics.domain import evaluate, from_documents
from apps.diagnostics.models import GroundTruth, MatchRecord, MetricsResult
from apps.diagnostics.result_documents import MATCH_COLUMNS, error_analysis, match_rows, metrics_json, vocabularies
from apps.labeling import selectors as labeling_selectors
from apps.labeling import services as labeling_services
from apps.labeling.models import Project
from apps.predictions import services as prediction_services
from apps.predictions.models import ModelRun, ModelRunDataRow, Prediction, Split

ENGINE_VERSION = "1"
JOB_KIND = "diagnostics.metrics"
MAX_RESULTS_PER_RUN = 20  # cached (iou, confidence) results kept per run; the least recently computed go first


def sync_max_rows() -> int:
    return int(getattr(settings, "DIAGNOSTICS_SYNC_MAX_ROWS", 2000))


# -- ground truth ---------------------------------------------------------------------------------------------


@transaction.atomic
def ground_truth_snapshot(*, actor: User, model_run: ModelRun, project: Project) -> dict[str, Any]:
    """Copy the current labels of the project's `done` tasks for the run's rows (all done rows of the project,
    added to the run as `unassigned`, when the run has none yet) into the run's ground truth, replacing the last
    snapshot. A row with several done labels (consensus slots) takes the first slot's."""
    if project.organization_id != model_run.model.organization_id:
        raise ValidationFailed("The project is not in the run's organization.", details={"project": ["Not found."]})
    ModelRun.objects.select_for_update().filter(pk=model_run.pk).values_list("pk", flat=True).first()
    run_rows = ModelRunDataRow.objects.filter(model_run=model_run)
    has_rows = run_rows.exists()
    labels = labeling_selectors.done_labels(
        project=project, data_row_ids=run_rows.values("data_row_id") if has_rows else None
    ).values_list("id", "data_row_id", "revision", "annotations", "ontology_version_id")
    chosen: dict[Any, tuple[Any, int, Any, Any]] = {}
    for label_id, row_id, revision, document, version_id in labels.iterator(chunk_size=2000):
        chosen.setdefault(row_id, (label_id, revision, document, version_id))
    if not has_rows and chosen:
        prediction_services.model_run_rows_set(
            actor=actor, model_run=model_run, split=Split.UNASSIGNED, data_row_ids=[str(r) for r in chosen]
        )
    splits = dict(run_rows.values_list("data_row_id", "split"))
    GroundTruth.objects.filter(model_run=model_run).delete()
    now = timezone.now()
    GroundTruth.objects.bulk_create(
        [
            GroundTruth(
                model_run=model_run,
                project=project,
                data_row_id=row_id,
                label_id=label_id,
                label_revision=revision,
                ontology_version_id=version_id,
                split=splits.get(row_id, Split.UNASSIGNED),
                annotations=document,
                created_at=now,
            )
            for row_id, (label_id, revision, document, version_id) in chosen.items()
        ],
        batch_size=2000,
    )
    total_rows = run_rows.count()
    audit_record(
        action="model_run.ground_truth",
        actor=actor,
        organization=model_run.model.organization,
        target=model_run,
        extra={"project": str(project.id), "rows": len(chosen)},
    )
    return {
        "model_run": str(model_run.id),
        "project": str(project.id),
        "rows": len(chosen),
        "rows_without_ground_truth": total_rows - len(chosen),
        "added_to_run": 0 if has_rows else len(chosen),
        "created_at": now.isoformat(),
    }


# -- the cache key and its fingerprint ----------------------------------------------------------------------------


def parse_thresholds(iou: Any, confidence: Any) -> tuple[float, float]:
    """`iou` in (0, 1] (default 0.5), `confidence` in [0, 1] (default 0), rounded to 4 places (the cache key)."""
    details: dict[str, list[str]] = {}
    values = []
    for name, raw, default, low_open in (("iou", iou, 0.5, True), ("confidence", confidence, 0.0, False)):
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


def _write_matches(result: MetricsResult, rows: list[tuple[Any, ...]]) -> None:
    """COPY on PostgreSQL (a run's records are ~10× its rows), bulk_create elsewhere."""
    if connection.vendor != "postgresql":
        MatchRecord.objects.bulk_create(
            [
                MatchRecord(
                    result=result,
                    **{
                        k: (json.loads(v) if k.endswith("_box") and v is not None else v)
                        for k, v in zip(MATCH_COLUMNS, row, strict=True)
                    },
                )
                for row in rows
            ],
            batch_size=5000,
        )
        return
    quote = connection.ops.quote_name
    columns = ", ".join(quote(c) for c in ("result_id", *MATCH_COLUMNS))
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
    classes, questions, options = vocabularies(model_run)
    inp = from_documents(list(gt_docs), list(pred_docs), classes=classes, questions=questions, options=options)
    ev = evaluate(inp.gt, inp.pred, iou=iou, confidence=confidence, classes=inp.classes, num_images=inp.num_images)
    return metrics_json(ev, inp, confidence)


def metrics_compute(*, model_run: ModelRun, iou: float, confidence: float) -> MetricsResult:
    """Compute metrics, error analysis and match records of the run at (iou, confidence) over its rows with ground
    truth, and store them as the cached result of that key (replacing a stale one)."""
    started = time.perf_counter()
    fingerprint, _ = run_fingerprint(model_run)
    gt_rows, pred_docs = run_documents(model_run)
    row_ids = [r[0] for r in gt_rows]
    classes, questions, options = vocabularies(model_run)
    inp = from_documents([r[1] for r in gt_rows], pred_docs, classes=classes, questions=questions, options=options)
    ev = evaluate(inp.gt, inp.pred, iou=iou, confidence=confidence, classes=inp.classes, num_images=inp.num_images)
    splits = dict(ModelRunDataRow.objects.filter(model_run=model_run).values_list("data_row_id", "split"))
    metrics = metrics_json(ev, inp, confidence)
    analysis = error_analysis(ev, row_ids, splits, confidence)
    records = match_rows(ev, inp, row_ids)
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


# -- back to labeling -----------------------------------------------------------------------------------------


def send_to_labeling(
    *, actor: User, model_run: ModelRun, project: Project, data_row_ids: Sequence[str], batch_name: str, priority: int
) -> labeling_services.BatchResult:
    """A batch in `project` with exactly these rows (of the run)."""
    if not data_row_ids:
        raise ValidationFailed("No rows match.", details={"rows": ["The selection is empty."]})
    result = labeling_services.batch_create(
        actor=actor, project=project, name=batch_name, data_row_ids=list(data_row_ids), priority=priority
    )
    audit_record(
        action="model_run.sent_to_labeling",
        actor=actor,
        organization=model_run.model.organization,
        target=model_run,
        extra={"project": str(project.id), "batch": str(result.batch.id), "rows": len(data_row_ids)},
    )
    return result


# -- mine more like this --------------------------------------------------------------------------------------

MAX_MINED = 1000


def class_rows(*, model_run: ModelRun, schema_id: str) -> list[str]:
    """The run's ground-truth rows with at least one annotation of the class (box tool schema_id)."""
    found = []
    rows = (
        GroundTruth.objects.filter(model_run=model_run)
        .order_by("data_row_id")
        .annotate(text=Cast("annotations", TextField()))
        .values_list("data_row_id", "text")
    )
    for row_id, text in rows.iterator(chunk_size=2000):
        document = orjson.loads(text) if text else []
        if any(isinstance(a, dict) and a.get("schema_id") == schema_id for a in document or []):
            found.append(str(row_id))
    return found


def mine_similar(
    *,
    actor: User,
    model_run: ModelRun,
    project: Project,
    space: Any,
    schema_id: str,
    limit: int,
    priority: int,
    batch_name: str = "",
) -> dict[str, Any]:
    """ "Mine more like this": the `limit` rows most similar (in the embedding `space`) to the run's ground-truth rows
    of the class, leaving out the run's ground-truth rows and rows already in the project, become one batch of
    `project` (through the catalog's similarity search)."""
    classes, _, _ = vocabularies(model_run)
    names = {c.key: c.name for c in classes}
    if schema_id not in names:
        raise ValidationFailed("Unknown class.", details={"class": ["A box class (schema_id) of the run's ontology."]})
    if not 1 <= limit <= MAX_MINED:
        raise ValidationFailed(f"limit must be from 1 to {MAX_MINED}.", details={"limit": ["Out of range."]})
    seeds = class_rows(model_run=model_run, schema_id=schema_id)
    if not seeds:
        raise ValidationFailed(
            "The run's ground truth has no row of this class.", details={"class": ["No ground-truth row."]}
        )
    known = [str(r) for r in GroundTruth.objects.filter(model_run=model_run).values_list("data_row_id", flat=True)]
    chosen: list[str] = []
    k = min(MAX_K, limit * 2)
    while True:
        neighbors = rows_similar_to(actor=actor, space=space, seed_row_ids=seeds, k=k, exclude_row_ids=known)
        ids = [str(n.data_row.pk) for n in neighbors]
        queued = {str(r) for r in labeling_selectors.data_rows_in_project(project=project, data_row_ids=ids)}
        chosen = [r for r in ids if r not in queued][:limit]
        if len(chosen) >= limit or len(neighbors) < k or k >= MAX_K:
            break
        k = min(MAX_K, k * 2)
    if not chosen:
        raise ValidationFailed("No similar row is left to label.", details={"class": ["No candidate rows."]})
    name = batch_name or f"{model_run.name} · more {names[schema_id]} · {timezone.now():%Y-%m-%d %H:%M:%S}"
    result = send_to_labeling(
        actor=actor, model_run=model_run, project=project, data_row_ids=chosen, batch_name=name[:200], priority=priority
    )
    return {
        "batch": str(result.batch.id),
        "project": str(project.id),
        "name": result.batch.name,
        "class": {"schema_id": schema_id, "name": names[schema_id]},
        "embedding": str(space.pk),
        "seeds": len(seeds),
        "rows": chosen,
        "added": result.added,
    }
