"""Automatic pre-labels and embeddings from a project's endpoints (`settings.model.prelabel_endpoint`,
`embed_endpoint`): which rows are queued.

Rows that join the project get one `EndpointRow` each (unique per endpoint, project and row: a row is sent once;
an answered row is not sent again unless asked); rows already in the project are queued when the setting is set or
changed (those without an answer of the endpoint's current model version). The dispatcher that sends them is
`apps.predictions.services.dispatch`."""

from __future__ import annotations

from typing import Any

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from apps.core.queue import enqueue_on_commit
from apps.labeling.models import Project
from apps.predictions.models import EndpointKind, EndpointRow, EndpointRowStatus, ModelEndpoint
from apps.predictions.services.dispatch import DUE, endpoint_dispatch

__all__ = ["endpoint_dispatch"]  # the dispatcher's entry point, where the tasks and tests have always found it


SETTING_KINDS = {
    "prelabel_endpoint": (EndpointKind.DETECTOR, EndpointKind.CLASSIFIER),
    "embed_endpoint": (EndpointKind.EMBEDDER,),
}


def prelabel_endpoint_id(project: Project, key: str = "prelabel_endpoint") -> str | None:
    value = (project.settings.get("model") or {}).get(key)
    return str(value) if value else None


def endpoint_rows_add(*, project: Project, data_row_ids: list[Any], endpoint_id: Any) -> int:
    """Queue rows for an endpoint (rows it already has, answered or not, are left alone: no second send) and start
    a dispatcher after commit (one with nothing due returns at once). Returns the number of rows given."""
    ids = list(dict.fromkeys(data_row_ids))
    EndpointRow.objects.bulk_create(
        [EndpointRow(endpoint_id=endpoint_id, project=project, data_row_id=r) for r in ids],
        ignore_conflicts=True,
        batch_size=5000,
    )
    if ids:
        enqueue_on_commit("apps.predictions.tasks.endpoint_dispatch", str(endpoint_id))
    return len(ids)


def prelabel_rows_joined(project: Project, data_row_ids: list[str]) -> None:
    """Labeling's rows-joined listener: rows added to a project are queued for its pre-label and embedding
    endpoints."""
    for key in SETTING_KINDS:
        endpoint_id = prelabel_endpoint_id(project, key)
        if endpoint_id and data_row_ids:
            endpoint_rows_add(project=project, data_row_ids=data_row_ids, endpoint_id=endpoint_id)


def _project_rows_insert(project_id: Any, endpoint_id: Any) -> int:
    """Queue every row of the project the endpoint has no state for yet (one INSERT … SELECT: a project of 100,000
    rows is one statement, not 100,000 objects). Returns the number of rows queued."""
    from apps.labeling.models import Task

    columns = "endpoint_id, project_id, data_row_id, status, attempts, error, model_version, annotations"
    sql = (  # constant SQL (table names from the models); values are parameters
        f"INSERT INTO {EndpointRow._meta.db_table} ({columns}) "  # noqa: S608
        f"SELECT DISTINCT %s::uuid, %s::uuid, data_row_id, %s, 0, '', '', 0 FROM {Task._meta.db_table} "
        "WHERE project_id = %s ON CONFLICT DO NOTHING"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [str(endpoint_id), str(project_id), EndpointRowStatus.PENDING, str(project_id)])
        return max(cursor.rowcount, 0)


def endpoint_rows_backfill(*, project: Project, endpoint_id: Any) -> dict[str, int]:
    """The project's endpoint setting was set or changed: queue the rows already in the project that have no answer
    for (row, model version) yet: rows the endpoint never had, and rows answered by an older version than the one
    the endpoint last reported. Rows answered by that version, and rows that failed for good, are left alone (sent
    again only when asked: `endpoint_rows_resend`). Starts a dispatcher after commit."""
    endpoint = ModelEndpoint.objects.filter(pk=endpoint_id, organization_id=project.organization_id).first()
    if endpoint is None:
        return {"queued": 0, "outdated": 0}
    queued = _project_rows_insert(project.pk, endpoint.pk)
    outdated = 0
    if endpoint.model_version:
        outdated = (
            EndpointRow.objects.filter(endpoint=endpoint, project=project, status=EndpointRowStatus.ANSWERED)
            .exclude(model_version=endpoint.model_version)
            .update(status=EndpointRowStatus.PENDING, attempts=0, next_attempt_at=timezone.now(), error="")
        )
    if queued or outdated:
        enqueue_on_commit("apps.predictions.tasks.endpoint_dispatch", str(endpoint.pk))
    return {"queued": queued, "outdated": outdated}


def prelabel_settings_changed(project: Project, previous: dict[str, Any]) -> None:
    """Labeling's settings listener (inside the update's transaction): an endpoint setting that was set or changed
    queues the rows already in the project."""
    for key in SETTING_KINDS:
        endpoint_id = prelabel_endpoint_id(project, key)
        if endpoint_id and endpoint_id != str((previous.get("model") or {}).get(key) or ""):
            endpoint_rows_backfill(project=project, endpoint_id=endpoint_id)


@transaction.atomic
def endpoint_rows_resend(*, project: Project, endpoint: ModelEndpoint, failed_only: bool = True) -> int:
    """Asked to send again: failed rows, or every row of the project (rows the endpoint never had included: the
    "send all rows again" action) go back to waiting. Returns the number of rows that will be sent."""
    rows = EndpointRow.objects.filter(endpoint=endpoint, project=project)
    if failed_only:
        rows = rows.filter(status=EndpointRowStatus.FAILED)
    else:
        _project_rows_insert(project.pk, endpoint.pk)
    count = rows.update(status=EndpointRowStatus.PENDING, attempts=0, next_attempt_at=timezone.now(), error="")
    if count:
        enqueue_on_commit("apps.predictions.tasks.endpoint_dispatch", str(endpoint.pk))
    return count


def due_endpoint_ids() -> list[str]:
    """Endpoints with rows due and no dispatcher running (for the periodic tick)."""
    now = timezone.now()
    ids = (
        EndpointRow.objects.filter(status__in=DUE, next_attempt_at__lte=now)
        .filter(Q(endpoint__lease_until__isnull=True) | Q(endpoint__lease_until__lt=now))
        .values_list("endpoint_id", flat=True)
        .distinct()
    )
    return [str(i) for i in ids[:1000]]


def prelabel_settings_errors(organization_id: Any, settings_: dict[str, Any]) -> dict[str, list[str]]:
    """Labeling's settings check: `model.prelabel_endpoint` is a detector or classifier of the organization,
    `model.embed_endpoint` an embedder."""
    from apps.core.ids import is_uuid

    errors: dict[str, list[str]] = {}
    retrain = (EndpointKind.DETECTOR, EndpointKind.CLASSIFIER, EndpointKind.INTERACTIVE)
    checked = {**SETTING_KINDS, "interactive_endpoint": (EndpointKind.INTERACTIVE,), "retrain_endpoint": retrain}
    for key, kinds in checked.items():
        endpoint_id = (settings_.get("model") or {}).get(key)
        if not endpoint_id:
            continue
        found = (
            is_uuid(endpoint_id)
            and ModelEndpoint.objects.filter(pk=endpoint_id, organization_id=organization_id, kind__in=kinds).exists()
        )
        if not found:
            errors[f"model.{key}"] = [f"No {' or '.join(kinds)} endpoint with this id in your organization."]
    return errors
