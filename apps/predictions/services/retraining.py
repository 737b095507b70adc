"""The retraining hook: after `settings.model.retrain_after` new done labels (checked by a coalesced django-q2 task
after tasks become done) or on demand, the project's `model.retrain_endpoint` is called with a signed, expiring
link to a reproducible training-data snapshot (diagnostics' ground truth of a run + its `training_data` export).
TDP protocol: `POST /train`; Label Studio ML backend: `POST /webhook` with a `START_TRAINING` event. Each call is a
`RetrainCall` (time, done label count, rows, status, error in words, the model version the server reported)."""

from __future__ import annotations

import logging
import time
from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.core.audit import audit_record
from apps.core.errors import Conflict
from apps.core.ids import is_uuid
from apps.core.queue import enqueue_coalesced_on_commit, enqueue_on_commit
from apps.labeling import selectors as labeling_selectors
from apps.labeling.models import Project, Task
from apps.predictions import registry
from apps.predictions.domain import endpoint_protocols as protocols
from apps.predictions.models import (
    EndpointKind,
    EndpointProtocol,
    ModelEndpoint,
    ModelRun,
    RetrainCall,
    RetrainStatus,
)
from apps.predictions.services import retrain_follow
from apps.predictions.services.endpoint_client import EndpointCallError, call
from apps.predictions.services.endpoints import ontology_features

logger = logging.getLogger(__name__)
RETRAIN_KINDS = (EndpointKind.DETECTOR, EndpointKind.CLASSIFIER, EndpointKind.INTERACTIVE)


def retrain_endpoint(project: Project) -> ModelEndpoint | None:
    endpoint_id = (project.settings.get("model") or {}).get("retrain_endpoint")
    if not isinstance(endpoint_id, str) or not is_uuid(endpoint_id):
        return None
    return (
        ModelEndpoint.objects.select_related("model", "ontology")
        .filter(pk=endpoint_id, organization_id=project.organization_id, kind__in=RETRAIN_KINDS)
        .first()
    )


def done_label_count(project: Project) -> int:
    return labeling_selectors.done_labels(project=project).values("data_row_id").distinct().count()


def _queue(*, project: Project, endpoint: ModelEndpoint, trigger: str, count: int, actor: User | None) -> RetrainCall:
    retrain = RetrainCall.objects.create(
        endpoint=endpoint, project=project, trigger=trigger, label_count=count, requested_by=actor
    )
    audit_record(
        action="model_endpoint.retrain_queued",
        actor=actor,
        organization=project.organization,
        target=endpoint,
        extra={"project": str(project.pk), "trigger": trigger, "label_count": count},
    )
    enqueue_on_commit("apps.predictions.services.retraining.retrain_run", retrain.pk)
    return retrain


@transaction.atomic
def model_retrain_request(*, actor: User, project: Project) -> RetrainCall:
    """On demand (managers): queue a call of the project's retraining endpoint; 409 without one."""
    endpoint = retrain_endpoint(project)
    if endpoint is None:
        raise Conflict("This project has no retraining endpoint (settings: model.retrain_endpoint).")
    Project.objects.select_for_update().filter(pk=project.pk).values_list("pk", flat=True).first()
    return _queue(project=project, endpoint=endpoint, trigger="manual", count=done_label_count(project), actor=actor)


def retrain_due_check(project_id: Any) -> int | None:
    """The coalesced task after labels are submitted: queue a call when `retrain_after` done labels accumulated
    since the last call (any outcome: a failed call waits for N more labels or a manual retry). The id or None."""
    with transaction.atomic():
        project = Project.objects.select_for_update().filter(pk=project_id).first()
        if project is None:
            return None
        after = (project.settings.get("model") or {}).get("retrain_after")
        endpoint = retrain_endpoint(project)
        if endpoint is None or not isinstance(after, int) or after < 1:
            return None
        last = RetrainCall.objects.filter(project=project).order_by("-id").values_list("label_count", flat=True)
        count = done_label_count(project)
        if count - (last.first() or 0) < after:
            return None
        return _queue(project=project, endpoint=endpoint, trigger="auto", count=count, actor=None).pk


def retrain_tasks_done(project: Project, tasks: list[Task]) -> None:
    """Labeling's hook (inside the transaction that made the tasks done: a submit, a review approval, an import):
    check the count once it commits (coalesced)."""
    model_settings = project.settings.get("model") or {}
    if model_settings.get("retrain_endpoint") and model_settings.get("retrain_after"):
        enqueue_coalesced_on_commit("apps.predictions.services.retraining.retrain_due_check", str(project.pk))


def _training_body(
    endpoint: ModelEndpoint, project: Project, retrain: RetrainCall, snapshot: registry.TrainingSnapshot
) -> tuple[str, dict[str, Any]]:
    features = ontology_features(endpoint.ontology)
    training_data = {
        "url": snapshot.url,
        "format": "ndjson",
        "rows": snapshot.rows,
        "model_run": str(retrain.model_run_id),
        "expires_at": snapshot.expires_at.isoformat(),
    }
    if endpoint.protocol == EndpointProtocol.LABEL_STUDIO:
        return "/webhook", {
            "action": "START_TRAINING",
            "project": {
                "id": f"tdp.{project.pk}",
                "title": project.name,
                "label_config": protocols.ls_label_config(features),
            },
            "training_data": training_data,
        }
    return "/train", {
        "protocol": protocols.TDP_PROTOCOL,
        "kind": endpoint.kind,
        "features": features,
        "project": {"id": str(project.pk), "name": project.name},
        "trigger": retrain.trigger,
        "label_count": retrain.label_count,
        "training_data": training_data,
    }


def _finish(retrain: RetrainCall, *, status: str, error: str = "", version: str = "", ms: float | None = None) -> None:
    retrain.status, retrain.error, retrain.model_version, retrain.ms = status, error, version, ms
    retrain.called_at = timezone.now()
    retrain.save(update_fields=["status", "error", "model_version", "ms", "called_at", "model_run", "rows"])


def _snapshot_run(endpoint: ModelEndpoint, retrain: RetrainCall) -> ModelRun:
    from apps.ontologies.models import OntologyVersion

    assert endpoint.model is not None
    version = OntologyVersion.objects.get(
        ontology_id=endpoint.model.ontology_id, number=endpoint.model.ontology.current_version
    )
    return ModelRun.objects.create(
        model=endpoint.model,
        name=f"{endpoint.name} training data {retrain.pk}"[:200],
        config={"endpoint": str(endpoint.pk), "project": str(retrain.project_id), "purpose": "training_data"},
        ontology_version=version,
        created_by=retrain.requested_by,
    )


def retrain_run(retrain_id: Any) -> str | None:
    """The django-q2 task: snapshot the done labels into a run, then call the training URL (outside any
    transaction: the call may take the endpoint's timeout) and record the outcome. Returns the status."""
    retrain = RetrainCall.objects.select_related("endpoint__model__ontology", "project").filter(pk=retrain_id).first()
    if retrain is None or retrain.status != RetrainStatus.QUEUED:
        return None
    endpoint, project = retrain.endpoint, retrain.project
    if endpoint.model is None:
        _finish(retrain, status=RetrainStatus.FAILED, error="The endpoint has no ontology: nothing to train on.")
        return retrain.status
    actor = retrain.requested_by or endpoint.created_by
    with transaction.atomic():
        retrain.model_run = _snapshot_run(endpoint, retrain)
        snapshot = registry.training_snapshot(actor, project, retrain.model_run)
        if snapshot is None:
            _finish(retrain, status=RetrainStatus.FAILED, error="No training-data snapshot provider is installed.")
            return retrain.status
        retrain.rows = snapshot.rows
        retrain.save(update_fields=["model_run", "rows"])
    path, body = _training_body(endpoint, project, retrain, snapshot)
    started = time.monotonic()
    try:
        called = call(endpoint, "POST", path, body)
    except EndpointCallError as exc:
        ms = round((time.monotonic() - started) * 1000, 1)
        _finish(retrain, status=RetrainStatus.FAILED, error=exc.message, ms=ms)
        logger.warning("model endpoint %s: training call failed: %s", endpoint.pk, exc.message)
        return retrain.status
    payload = called.payload if isinstance(called.payload, dict) else {}
    reported = payload.get("model_version")
    version = str(reported)[:200] if isinstance(reported, str | int | float) and reported != "" else ""
    try:
        job = retrain_follow.async_job(endpoint, called)
    except EndpointCallError as exc:
        _finish(retrain, status=RetrainStatus.FAILED, error=exc.message, ms=round(called.ms, 1))
        return retrain.status
    if job is not None:  # training started asynchronously: followed by the retraining jobs poll
        retrain_follow.training_started(retrain, job, version=version, ms=round(called.ms, 1))
        return retrain.status
    with transaction.atomic():
        _finish(retrain, status=RetrainStatus.OK, version=version, ms=round(called.ms, 1))
        if version and retrain.model_run is not None:
            # The run the server reports is linked to the snapshot it trained on.
            run = retrain.model_run
            run.config = {**run.config, "trained_model_version": version}
            run.save(update_fields=["config", "updated_at"])
    return retrain.status


def retrain_calls(*, project: Project, limit: int = 20) -> list[RetrainCall]:
    return list(RetrainCall.objects.filter(project=project).select_related("endpoint")[:limit])


def retrain_call_json(retrain: RetrainCall) -> dict[str, Any]:
    return {
        "id": retrain.pk,
        "endpoint": str(retrain.endpoint_id),
        "trigger": retrain.trigger,
        "status": retrain.status,
        "label_count": retrain.label_count,
        "rows": retrain.rows,
        "model_run": str(retrain.model_run_id) if retrain.model_run_id else None,
        "model_version": retrain.model_version or None,
        "error": retrain.error or None,
        "ms": retrain.ms,
        "created_at": retrain.created_at.isoformat() if retrain.created_at else None,
        "called_at": retrain.called_at.isoformat() if retrain.called_at else None,
        "job": (
            {
                "id": retrain.job_id,
                "status": retrain.job_status or None,
                "polls": retrain.polls,
                "next_poll_at": retrain.next_poll_at.isoformat() if retrain.next_poll_at else None,
                "finished_at": retrain.finished_at.isoformat() if retrain.finished_at else None,
            }
            if retrain.job_id
            else None
        ),
    }
