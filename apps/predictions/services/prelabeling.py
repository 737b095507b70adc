"""Automatic pre-labels from a project's detector endpoint (`settings.model.prelabel_endpoint`).

Rows that join the project get one `EndpointRow` each (unique per endpoint, project and row: a row is sent once;
an answered row is not sent again unless asked). `endpoint_dispatch` (a django-q2 task, one at a time per endpoint
under a lease) sends due rows in batches of `batch_size`, `max_concurrency` calls in flight, and stores each answer
as pre-labels of the project and predictions of the run named after the endpoint and the model version it reported
(deterministic annotation uuids: a repeated answer updates, never duplicates). A failed call is retried with
exponential backoff up to `TDP_ENDPOINT_MAX_ATTEMPTS`; consecutive failures open the endpoint's circuit breaker,
which lets one probe batch through (half-open) after `TDP_ENDPOINT_BREAKER_SECONDS`."""

from __future__ import annotations

import json
import logging
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from apps.core.queue import enqueue_on_commit
from apps.datasets.models import DataRow
from apps.labeling.models import Project
from apps.predictions.domain import endpoint_protocols as protocols
from apps.predictions.models import (
    CircuitState,
    EndpointKind,
    EndpointRow,
    EndpointRowStatus,
    ModelEndpoint,
    ModelRun,
)
from apps.predictions.services.endpoint_client import EndpointCallError, embed, predict, row_payload
from apps.predictions.services.endpoints import ontology_features, secret_decrypt
from apps.predictions.services.imports import annotations_import
from apps.predictions.services.targets import prediction_target, prelabel_target

logger = logging.getLogger(__name__)
UUID_NAMESPACE = uuid.UUID("5d1f7a52-8f0e-4c57-9a43-7c9c0e6f2b11")
DUE = (EndpointRowStatus.PENDING, EndpointRowStatus.SENT)
ROUND_CALLS = 16
ROUND_ROWS = 2000


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
    sql = (
        f"INSERT INTO {EndpointRow._meta.db_table} ({columns}) "
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


# --- the dispatcher ------------------------------------------------------------------------------------------------


def _lease_seconds(endpoint: ModelEndpoint) -> float:
    return max(60.0, endpoint.timeout_seconds * 4)


def _claim_lease(endpoint_id: Any, seconds: float) -> bool:
    now = timezone.now()
    free = Q(lease_until__isnull=True) | Q(lease_until__lt=now)
    updated = ModelEndpoint.objects.filter(free, pk=endpoint_id).update(lease_until=now + timedelta(seconds=seconds))
    return bool(updated)


def _breaker_allows(endpoint: ModelEndpoint) -> bool:
    """Closed: go. Open: wait until `opened_until`, then half-open (one probe batch)."""
    if endpoint.circuit == CircuitState.OPEN:
        if endpoint.opened_until and endpoint.opened_until > timezone.now():
            return False
        endpoint.circuit = CircuitState.HALF_OPEN
        endpoint.save(update_fields=["circuit", "updated_at"])
    return True


def _breaker_record(endpoint: ModelEndpoint, ok: bool) -> None:
    state, failures = protocols.breaker_after(
        state=endpoint.circuit,
        failures=endpoint.consecutive_failures,
        ok=ok,
        threshold=settings.TDP_ENDPOINT_BREAKER_FAILURES,
    )
    if state == CircuitState.OPEN and endpoint.circuit != CircuitState.OPEN:
        endpoint.opened_until = timezone.now() + timedelta(seconds=settings.TDP_ENDPOINT_BREAKER_SECONDS)
        logger.warning("model endpoint %s: circuit opened after %d failed calls", endpoint.pk, failures)
    if (state, failures) == (endpoint.circuit, endpoint.consecutive_failures):
        return  # closed and healthy: nothing to write per call
    endpoint.circuit, endpoint.consecutive_failures = state, failures
    endpoint.save(update_fields=["circuit", "consecutive_failures", "opened_until", "updated_at"])


def _due_rows(endpoint: ModelEndpoint, limit: int) -> list[EndpointRow]:
    now = timezone.now()
    with transaction.atomic():
        rows = list(
            EndpointRow.objects.select_for_update(skip_locked=True)
            .filter(endpoint=endpoint, status__in=DUE, next_attempt_at__lte=now)
            .order_by("next_attempt_at", "id")[:limit]
        )
        if rows:  # a dispatcher that dies leaves them `sent`: due again once its lease has run out
            EndpointRow.objects.filter(pk__in=[r.pk for r in rows]).update(
                status=EndpointRowStatus.SENT,
                attempts=F("attempts") + 1,
                next_attempt_at=now + timedelta(seconds=_lease_seconds(endpoint)),
                updated_at=now,
            )
    for row in rows:
        row.attempts += 1
    return rows


def _batches(endpoint: ModelEndpoint, rows: list[EndpointRow]) -> list[list[EndpointRow]]:
    by_project: dict[Any, list[EndpointRow]] = {}
    for row in rows:
        by_project.setdefault(row.project_id, []).append(row)
    size = endpoint.batch_size
    return [group[i : i + size] for group in by_project.values() for i in range(0, len(group), size)]


def endpoint_dispatch(*, endpoint_id: Any, time_budget: float = 240.0) -> dict[str, float]:
    """Send the endpoint's due rows until none is left, the breaker opens or the time budget is spent. Returns the
    counts and `call_seconds`, the wall time spent waiting for the model (the rest is the platform's own)."""
    endpoint = ModelEndpoint.objects.select_related("ontology", "model").filter(pk=endpoint_id).first()
    totals: dict[str, float] = {"sent": 0, "answered": 0, "failed": 0, "calls": 0, "call_seconds": 0.0}
    if endpoint is None or not _claim_lease(endpoint.pk, _lease_seconds(endpoint)):
        return totals
    started = time.monotonic()
    try:
        features = ontology_features(endpoint.ontology)
        secret = secret_decrypt(endpoint)
        while time.monotonic() - started < time_budget and _breaker_allows(endpoint):
            # A round: up to ROUND_CALLS batches through `max_concurrency` threads, stored together (one import per
            # round keeps the platform's cost per row low); half-open: one probe batch.
            calls = 1 if endpoint.circuit == CircuitState.HALF_OPEN else max(endpoint.max_concurrency, ROUND_CALLS)
            rows = _due_rows(endpoint, min(ROUND_ROWS, endpoint.batch_size * calls))
            if not rows:
                break
            ModelEndpoint.objects.filter(pk=endpoint.pk).update(
                lease_until=timezone.now() + timedelta(seconds=_lease_seconds(endpoint))
            )
            round_totals = _round(endpoint, rows, features, secret)
            for key, value in round_totals.items():
                totals[key] += value
        if time.monotonic() - started >= time_budget:
            enqueue_on_commit("apps.predictions.tasks.endpoint_dispatch", str(endpoint.pk))
    finally:
        ModelEndpoint.objects.filter(pk=endpoint.pk).update(lease_until=None)
    return totals


def _round(
    endpoint: ModelEndpoint, rows: list[EndpointRow], features: list[dict[str, Any]], secret: str
) -> dict[str, float]:
    data_rows = DataRow.objects.in_bulk([r.data_row_id for r in rows])
    batches = _batches(endpoint, rows)
    payloads = [
        [row_payload(data_rows[r.data_row_id]) for r in batch if r.data_row_id in data_rows] for batch in batches
    ]

    def send(index: int) -> tuple[protocols.Answer | None, str, bool]:
        if not payloads[index]:
            return protocols.Answer("", {}), "", True
        try:
            answer, _ms = (embed if endpoint.kind == EndpointKind.EMBEDDER else predict)(
                endpoint,
                payloads[index],
                features=features,
                project_key=f"{batches[index][0].project_id}.{endpoint.pk}",
                secret=secret,
            )
            return answer, "", True
        except EndpointCallError as exc:
            return None, exc.message, exc.retryable

    totals: dict[str, float] = {"sent": 0, "answered": 0, "failed": 0, "calls": 0, "call_seconds": 0.0}
    answered: list[tuple[EndpointRow, protocols.RowResult, str]] = []
    wave = endpoint.max_concurrency
    with ThreadPoolExecutor(max_workers=min(len(batches), wave)) as pool:
        for start in range(0, len(batches), wave):
            if endpoint.circuit == CircuitState.OPEN:  # opened by this round: the rest were not sent
                _release([row for batch in batches[start:] for row in batch])
                break
            waited = time.monotonic()
            results = list(pool.map(send, range(start, min(len(batches), start + wave))))
            totals["call_seconds"] += time.monotonic() - waited
            totals["calls"] += len(results)
            for batch, (answer, message, retryable) in zip(batches[start:], results, strict=False):
                totals["sent"] += len(batch)
                _breaker_record(endpoint, answer is not None)
                if answer is None:
                    for row in batch:
                        totals["failed"] += _row_failed(row, message, retryable=retryable)
                    continue
                version = answer.model_version or endpoint.model_version or "unversioned"
                for row in batch:
                    result = answer.rows.get(str(row.data_row_id))
                    if row.data_row_id not in data_rows:
                        totals["failed"] += _row_failed(row, "The data row was deleted.", retryable=False)
                    elif result is None or result.error:
                        message = result.error if result else "No result."
                        totals["failed"] += _row_failed(row, message, retryable=True)
                    else:
                        answered.append((row, result, version))
    if answered and endpoint.kind == EndpointKind.EMBEDDER:
        totals["answered"] += _store_vectors(endpoint, answered)
    elif answered:
        totals["answered"] += _store(endpoint, answered, {f["name"] for f in features})
    return totals


def _release(rows: list[EndpointRow]) -> None:
    """Rows claimed but not sent (the breaker opened): waiting again, the claim's attempt not counted."""
    if rows:
        EndpointRow.objects.filter(pk__in=[r.pk for r in rows]).update(
            status=EndpointRowStatus.PENDING, attempts=F("attempts") - 1, next_attempt_at=timezone.now()
        )


def _row_failed(row: EndpointRow, message: str, *, retryable: bool) -> int:
    """Back to waiting with a backoff, or failed for good after the last attempt; 1 when it failed for good."""
    final = not retryable or row.attempts >= settings.TDP_ENDPOINT_MAX_ATTEMPTS
    delay = protocols.backoff_seconds(row.attempts, settings.TDP_ENDPOINT_BACKOFF_SECONDS)
    EndpointRow.objects.filter(pk=row.pk).update(
        status=EndpointRowStatus.FAILED if final else EndpointRowStatus.PENDING,
        error=message[:1000],
        next_attempt_at=timezone.now() + timedelta(seconds=0 if final else delay),
        updated_at=timezone.now(),
    )
    return 1 if final else 0


def _run_for(endpoint: ModelEndpoint, version: str) -> ModelRun | None:
    if endpoint.model is None:
        return None
    name = f"{endpoint.name} {version}"[:200]
    run = ModelRun.objects.filter(model=endpoint.model, name=name).first()
    if run is not None:
        return run
    from apps.ontologies.models import OntologyVersion

    ontology_version = OntologyVersion.objects.get(
        ontology_id=endpoint.model.ontology_id, number=endpoint.model.ontology.current_version
    )
    try:
        with transaction.atomic():
            return ModelRun.objects.create(
                model=endpoint.model,
                name=name,
                config={"endpoint": str(endpoint.pk), "model_version": version},
                ontology_version=ontology_version,
            )
    except IntegrityError:
        return ModelRun.objects.get(model=endpoint.model, name=name)


def _store(
    endpoint: ModelEndpoint, answered: list[tuple[EndpointRow, protocols.RowResult, str]], names: set[str]
) -> int:
    """Import the answers as pre-labels (per project) and predictions (per model version); record each row."""
    notes: dict[int, list[str]] = {}
    counts: dict[int, int] = {}
    lines: dict[tuple[Any, str], list[tuple[int, dict[str, Any]]]] = {}
    for row, result, version in answered:
        mapped, messages = protocols.map_classes(result.annotations, endpoint.class_map, names)
        notes[row.pk] = messages
        counts[row.pk] = len(mapped)
        for index, annotation in enumerate(mapped):
            key = f"{endpoint.pk}:{version}:{row.data_row_id}:{index}"
            line = {
                **annotation,
                "uuid": str(uuid.uuid5(UUID_NAMESPACE, key)),
                "data_row": {"id": str(row.data_row_id)},
            }
            lines.setdefault((row.project_id, version), []).append((row.pk, line))
    projects = Project.objects.in_bulk({project for project, _ in lines})
    for (project_id, version), entries in lines.items():
        body = "\n".join(json.dumps(line) for _, line in entries).encode() + b"\n"
        targets = [prelabel_target(projects[project_id])]
        run = _run_for(endpoint, version)
        if run is not None:
            targets.append(prediction_target(run))
        for target in targets:
            # actor None: the endpoint wrote them (the import history shows no person)
            report = annotations_import(actor=None, target=target, chunks=[body], size=len(body))  # type: ignore[arg-type]
            for error in report["errors"]:
                if 1 <= error["line"] <= len(entries) and target.kind == "prelabels":
                    notes[entries[error["line"] - 1][0]].append(f"An annotation was refused: {error['message']}")
    now = timezone.now()
    groups: dict[tuple[str, int, str], list[int]] = {}
    for row, _result, version in answered:  # one UPDATE per (version, count, note): few per round
        groups.setdefault((version, counts[row.pk], "; ".join(notes[row.pk])[:1000]), []).append(row.pk)
    with transaction.atomic():
        for (version, count, note), ids in groups.items():
            EndpointRow.objects.filter(pk__in=ids).update(
                status=EndpointRowStatus.ANSWERED, model_version=version, annotations=count, error=note, updated_at=now
            )
        versions = [v for _, _, v in answered if v != "unversioned"]
        if versions and versions[-1] != endpoint.model_version:
            endpoint.model_version = versions[-1]
            endpoint.save(update_fields=["model_version", "updated_at"])
    return len(answered)


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


def _store_vectors(endpoint: ModelEndpoint, answered: list[tuple[EndpointRow, protocols.RowResult, str]]) -> int:
    """Vectors into the catalog embedding space named after the endpoint and model version (created on first use;
    vectors of two versions are not comparable), upserted by row."""
    from apps.catalog import services as catalog_services
    from apps.catalog.models import EmbeddingSpace

    actor = endpoint.created_by
    stored = 0
    by_version: dict[str, list[tuple[EndpointRow, list[float]]]] = {}
    for row, result, version in answered:
        by_version.setdefault(version, []).append((row, result.vector or []))
    for version, items in by_version.items():
        name = f"{endpoint.name} {version}"[:200]
        space = EmbeddingSpace.objects.filter(organization_id=endpoint.organization_id, name=name).first()
        if space is None and actor is not None:
            space = catalog_services.embedding_space_create(
                actor=actor, name=name, dims=len(items[0][1]), model_description=f"Model endpoint {endpoint.name}"
            )
        if space is None:
            for row, _vector in items:
                _row_failed(row, "The endpoint's creator is gone: no one to own its embedding space.", retryable=False)
            continue
        report = catalog_services.embedding_vectors_upload(
            actor=actor,  # type: ignore[arg-type]
            space=space,
            items=[{"data_row": str(row.data_row_id), "vector": vector} for row, vector in items],
        )
        refused = {error["index"]: error["message"] for error in report.get("errors", [])}
        for index, (row, _vector) in enumerate(items):
            if index in refused:
                _row_failed(row, f"The vector was refused: {refused[index]}", retryable=False)
        ok = [row.pk for index, (row, _vector) in enumerate(items) if index not in refused]
        EndpointRow.objects.filter(pk__in=ok).update(
            status=EndpointRowStatus.ANSWERED, model_version=version, annotations=0, error="", updated_at=timezone.now()
        )
        stored += len(ok)
        if ok and version != "unversioned" and version != endpoint.model_version:
            endpoint.model_version = version
            endpoint.save(update_fields=["model_version", "updated_at"])
    return stored
