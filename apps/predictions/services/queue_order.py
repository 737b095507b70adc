"""Active learning: rank a project's open queue by the `queue` setting (uncertainty of the latest predictions,
diversity in an embedding space, or a mix) in the background, and store the ranks on the tasks (labeling's
`queue_ranks_set`), which the claim orders by. Recomputed when the setting changes, after a prediction import of a
run the setting uses, and on request (API, admin action); rows that join the project are ranked as they join."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from django.conf import settings
from django.db import transaction
from django_q.tasks import async_task

from apps.accounts.models import User
from apps.catalog.models import EmbeddingSpace
from apps.catalog.selectors import row_vectors
from apps.core.audit import audit_record
from apps.core.ids import is_uuid
from apps.core.jobs import job_create_and_enqueue
from apps.core.models import Job
from apps.labeling import selectors as labeling_selectors
from apps.labeling import services as labeling_services
from apps.labeling.models import Project
from apps.predictions.domain import queue_order
from apps.predictions.models import ModelRun, Prediction

JOB_KIND = "predictions.queue_order"
ROWS_PER_QUERY = 5000
USES_PREDICTIONS = ("uncertainty", "mix")


def _queue(project: Project) -> dict[str, Any]:
    return dict(project.settings.get("queue") or {})


def _confidences(project: Project, rows: Sequence[Any], run_id: str | None) -> tuple[np.ndarray, np.ndarray]:
    """(row position, confidence) of every scored prediction of the rows: from `run_id`, else per row from the
    latest run (of a model on the project's ontology, in its organization) that predicted it."""
    position = {str(r): i for i, r in enumerate(rows)}
    codes: list[int] = []
    values: list[float] = []
    runs = ModelRun.objects.filter(
        model__organization_id=project.organization_id, model__ontology_id=project.ontology_id
    )
    if run_id:
        runs = runs.filter(pk=run_id)
    for start in range(0, len(rows), ROWS_PER_QUERY):
        chunk = rows[start : start + ROWS_PER_QUERY]
        found = (
            Prediction.objects.filter(model_run__in=runs, data_row_id__in=chunk, confidence__isnull=False)
            .order_by()
            .values_list("data_row_id", "model_run__created_at", "model_run_id", "confidence")
        )
        latest: dict[str, tuple[Any, Any]] = {}
        per_run: dict[tuple[str, Any], list[float]] = {}
        for row_id, created_at, model_run_id, confidence in found.iterator(chunk_size=ROWS_PER_QUERY):
            key = str(row_id)
            per_run.setdefault((key, model_run_id), []).append(float(confidence or 0.0))
            if key not in latest or (created_at, str(model_run_id)) > latest[key]:
                latest[key] = (created_at, str(model_run_id))
        for (key, model_run_id), scores in per_run.items():
            if latest[key][1] == str(model_run_id):
                codes.extend([position[key]] * len(scores))
                values.extend(scores)
    return np.asarray(codes, dtype=np.intp), np.asarray(values, dtype=np.float64)


def _uncertainty(project: Project, rows: Sequence[Any], queue: dict[str, Any]) -> np.ndarray:
    codes, confidence = _confidences(project, rows, queue.get("model_run"))
    if queue.get("uncertainty") == "entropy":
        return queue_order.max_entropy(codes, confidence, len(rows))
    return queue_order.least_confidence(codes, confidence, len(rows))


def _diversity(project: Project, rows: Sequence[Any], queue: dict[str, Any]) -> np.ndarray:
    space_id = queue.get("embedding")
    scores = np.full(len(rows), np.nan)
    space = (
        EmbeddingSpace.objects.filter(organization_id=project.organization_id, pk=space_id).first()
        if space_id and is_uuid(space_id)
        else None
    )
    if space is None:
        return scores
    candidates, found = row_vectors(space=space, row_ids=rows)
    labeled, _ = row_vectors(space=space, row_ids=labeling_selectors.labeled_row_ids(project=project))
    if found:
        scores[np.asarray(found, dtype=np.intp)] = queue_order.nearest_distance(candidates, labeled)
    return scores


def queue_order_compute(*, project: Project) -> dict[str, Any]:
    """Rank the project's open rows by its `queue` setting and store the ranks (none for `priority`)."""
    project = Project.objects.get(pk=project.pk)
    queue = _queue(project)
    order = queue.get("order") or "priority"
    rows = labeling_selectors.ranked_queue_rows(project=project)
    if order == "priority" or not rows:
        written = labeling_services.queue_ranks_set(project=project, ranks=None)
        return {"project": str(project.pk), "order": order, "rows": len(rows), "scored": 0, "written": written}
    parts: dict[str, np.ndarray] = {}
    if order in ("uncertainty", "mix"):
        parts["uncertainty"] = _uncertainty(project, rows, queue)
    if order in ("diversity", "mix"):
        parts["diversity"] = _diversity(project, rows, queue)
    if order == "mix":
        weights = queue.get("weights") or {"uncertainty": 0.5, "diversity": 0.5}
        scores = queue_order.mix(parts, weights)
    else:
        scores = parts[order]
    ranks = queue_order.queue_ranks(scores)
    written = labeling_services.queue_ranks_set(
        project=project, ranks={row: rank for row, rank in zip(rows, ranks, strict=True) if rank is not None}
    )
    return {
        "project": str(project.pk),
        "order": order,
        "rows": len(rows),
        "scored": int(np.isfinite(scores).sum()),
        "written": written,
    }


def queue_order_rows_joined(project: Project, data_row_ids: list[str]) -> None:
    """Labeling's rows-joined listener (a batch added rows): rank them now, inside the batch's transaction, so the
    first claim after it already follows the order. Uncertainty and diversity score each row on its own: only the
    new rows are scored and written. A mix ranks by percentiles of the whole queue: recomputed whole here when the
    queue is at most `TDP_QUEUE_ORDER_SYNC_ROWS` rows, else by the worker (new rows wait, unranked, meanwhile)."""
    queue = _queue(project)
    order = queue.get("order") or "priority"
    if order == "priority" or not data_row_ids:
        return
    if order == "mix":
        if len(labeling_selectors.ranked_queue_rows(project=project)) <= sync_rows():
            queue_order_compute(project=project)
        else:
            queue_order_enqueue(project_id=project.pk)
        return
    rows = list(dict.fromkeys(str(r) for r in data_row_ids))
    scores = _uncertainty(project, rows, queue) if order == "uncertainty" else _diversity(project, rows, queue)
    ranks = queue_order.queue_ranks(scores)
    labeling_services.queue_ranks_set(
        project=project,
        ranks={row: rank for row, rank in zip(rows, ranks, strict=True) if rank is not None},
        only_rows=rows,
    )


def sync_rows() -> int:
    return int(getattr(settings, "TDP_QUEUE_ORDER_SYNC_ROWS", 20_000))


def queue_order_enqueue(*, project_id: Any) -> None:
    """Recompute in the worker once the current transaction commits."""
    pid = str(project_id)
    transaction.on_commit(
        lambda: async_task("apps.predictions.tasks.queue_order_project", pid, task_name=f"queue_order:{pid}")
    )


def queue_order_request(*, actor: User, project: Project) -> Job:
    """The API/admin action: a job that recomputes the order."""
    audit_record(action="project.queue_order_requested", actor=actor, organization=project.organization, target=project)
    return job_create_and_enqueue(
        user=actor, kind=JOB_KIND, func="apps.predictions.tasks.queue_order_job", params={"project": str(project.pk)}
    )


def queue_settings_changed(project: Project, previous: dict[str, Any]) -> None:
    """Labeling's settings listener: a changed `queue` block reorders the queue."""
    if (previous.get("queue") or {}) != _queue(project):
        queue_order_enqueue(project_id=project.pk)


def queue_order_after_import(*, model_run: ModelRun) -> None:
    """After predictions of a run are imported: reorder the projects whose order uses them (that run, or each row's
    latest run of a model on the project's ontology)."""
    projects = Project.objects.filter(
        organization_id=model_run.model.organization_id, ontology_id=model_run.model.ontology_id, archived=False
    ).only("id", "settings")
    for project in projects:
        queue = _queue(project)
        if queue.get("order") in USES_PREDICTIONS and queue.get("model_run") in (None, "", str(model_run.pk)):
            queue_order_enqueue(project_id=project.pk)


def queue_settings_errors(organization_id: Any, settings: dict[str, Any]) -> dict[str, list[str]]:
    """Labeling's settings check: the run and the embedding of the `queue` block are the organization's."""
    queue = settings.get("queue") or {}
    errors: dict[str, list[str]] = {}
    run_id = queue.get("model_run")
    if run_id and not (
        is_uuid(run_id) and ModelRun.objects.filter(pk=run_id, model__organization_id=organization_id).exists()
    ):
        errors["queue.model_run"] = ["No such model run in your organization."]
    space_id = queue.get("embedding")
    if space_id and not (
        is_uuid(space_id) and EmbeddingSpace.objects.filter(pk=space_id, organization_id=organization_id).exists()
    ):
        errors["queue.embedding"] = ["No such embedding in your organization."]
    return errors
