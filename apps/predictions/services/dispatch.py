"""The model endpoint dispatcher (`endpoint_dispatch`, a django-q2 task, one at a time per endpoint under a lease).

A pipeline, so the model is kept busy and the platform's own work overlaps the calls:

- this thread claims due rows (one `UPDATE … RETURNING` per claim of up to CLAIM_ROWS rows) and builds the batches;
- `max_concurrency` worker threads call the endpoint, each over its own kept-alive connection (`ConnectionPools`;
  the outbound guard still checks every call), and parse the answers;
- as answers come back, this thread stores them STORE_ROWS at a time through the bulk import path of the pre-label
  and prediction APIs (`annotations_import`: deterministic uuids, a repeated answer updates), records the rows (one
  `UPDATE … = ANY(ids)` per outcome) and keeps the circuit breaker, while the workers keep calling.

A failed call is retried with exponential backoff up to `TDP_ENDPOINT_MAX_ATTEMPTS`; consecutive failures open the
endpoint's breaker (the rows not yet sent go back to waiting, not counted as an attempt), which lets one probe batch
through (half-open) after `TDP_ENDPOINT_BREAKER_SECONDS`. Totals: `model_seconds` is the model's own time as the
server reported it (`X-Model-Seconds`), `call_seconds` the calls' time as seen from here (HTTP included, summed over
concurrent calls), `wait_seconds` the time this thread had nothing to do but wait for an answer."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import deque
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, NamedTuple

import orjson
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from apps.core.queue import enqueue_on_commit
from apps.core.url_safety import ConnectionPools
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
CLAIM_ROWS = 1024  # rows claimed at once (a claim holds them `sent` for the lease: a dead dispatcher's come back)
QUEUE_AHEAD = 8  # calls submitted per worker (one running, the others waiting for it)
STORE_MIN_ROWS = 256  # … or this many while the workers have calls enough queued
STORE_ROWS = 1024  # answered rows stored per import (fewer, larger imports: the import's fixed cost is amortized)
TABLE = EndpointRow._meta.db_table
# Constant SQL of this module (the table name from the model); values are always parameters.
CLAIM_SQL = (
    f"UPDATE {TABLE} SET status = %s, attempts = attempts + 1, next_attempt_at = %s, updated_at = %s "  # noqa: S608
    f"WHERE id IN (SELECT id FROM {TABLE} WHERE endpoint_id = %s AND status = ANY(%s) AND next_attempt_at <= %s "
    "ORDER BY next_attempt_at, id LIMIT %s FOR UPDATE SKIP LOCKED) "
    "RETURNING id, project_id, data_row_id, attempts"
)
RELEASE_SQL = (
    f"UPDATE {TABLE} SET status = %s, attempts = GREATEST(attempts - 1, 0), next_attempt_at = %s "  # noqa: S608
    "WHERE id = ANY(%s)"
)
ROW_COLUMNS = frozenset({"status", "error", "model_version", "annotations", "next_attempt_at", "updated_at"})


@dataclass
class Claimed:
    pk: int
    project_id: Any
    data_row_id: Any
    attempts: int


class RowRef(NamedTuple):
    """The fields of a data row its payload needs (no model instance: thousands are built per claim)."""

    pk: Any
    organization_id: Any
    global_key: str
    media_type: str
    row_data: str
    width: int | None
    height: int | None


@dataclass
class Batch:
    rows: list[Claimed]
    payload: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Outcome:
    batch: Batch
    answer: protocols.Answer | None
    message: str = ""
    retryable: bool = True
    seconds: float = 0.0
    skipped: bool = False  # not sent: the breaker opened while it waited in the queue


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


def _claim(endpoint: ModelEndpoint, limit: int) -> list[Claimed]:
    """Take up to `limit` due rows (oldest due first; rows another dispatcher holds are skipped): `sent`, one more
    attempt, due again once the lease has run out (a dispatcher that dies leaves them to the next one)."""
    now = timezone.now()
    hold = now + timedelta(seconds=_lease_seconds(endpoint))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(CLAIM_SQL, [EndpointRowStatus.SENT, hold, now, endpoint.pk, list(DUE), now, limit])
        rows = [Claimed(*values) for values in cursor.fetchall()]
    rows.sort(key=lambda row: row.pk)
    return rows


def _set_rows(ids: list[int], **values: Any) -> None:
    """One UPDATE of many rows (`id = ANY(…)`: one array parameter, not one per row)."""
    if not ids:
        return
    assert set(values) <= ROW_COLUMNS, values  # column names from this module, never from input
    columns = ", ".join(f"{name} = %s" for name in values)
    sql = f"UPDATE {TABLE} SET {columns} WHERE id = ANY(%s)"  # noqa: S608 - see ROW_COLUMNS; values are parameters
    with connection.cursor() as cursor:
        cursor.execute(sql, [*values.values(), ids])


def _batches(endpoint: ModelEndpoint, rows: list[Claimed]) -> tuple[list[Batch], list[Claimed]]:
    """The claimed rows in batches of `batch_size` (one project per batch), with their payloads; and the rows whose
    data row is gone."""
    fields = ("id", "organization_id", "global_key", "media_type", "row_data", "width", "height")
    data_rows = {
        values[0]: RowRef(*values)
        for values in DataRow.objects.filter(pk__in=[r.data_row_id for r in rows]).values_list(*fields)
    }
    integrations: dict[tuple[Any, str], Any] = {}
    gone = [r for r in rows if r.data_row_id not in data_rows]
    by_project: dict[Any, list[Claimed]] = {}
    for row in rows:
        if row.data_row_id in data_rows:
            by_project.setdefault(row.project_id, []).append(row)
    size = endpoint.batch_size
    batches = [
        Batch(group[i : i + size], [row_payload(data_rows[r.data_row_id], integrations) for r in group[i : i + size]])
        for group in by_project.values()
        for i in range(0, len(group), size)
    ]
    return batches, gone


class Dispatcher:
    """One run of the pipeline for one endpoint (see the module's docstring)."""

    def __init__(self, endpoint: ModelEndpoint, time_budget: float) -> None:
        self.endpoint = endpoint
        self.deadline = time.monotonic() + time_budget
        self.features = ontology_features(endpoint.ontology)
        self.names = {f["name"] for f in self.features}
        self.secret = secret_decrypt(endpoint)
        self.local = threading.local()
        self.all_pools: list[ConnectionPools] = []
        self.runs: dict[str, ModelRun | None] = {}
        self.answered: list[tuple[Claimed, protocols.RowResult, str]] = []
        self.retry = False  # a failed row may be due again (backoff 0): look for due rows once more
        self.totals: dict[str, float] = {
            "sent": 0,
            "answered": 0,
            "failed": 0,
            "calls": 0,
            "call_seconds": 0.0,
            "model_seconds": 0.0,
            "wait_seconds": 0.0,
            "claim_seconds": 0.0,
            "store_seconds": 0.0,
        }
        self.queued: dict[Future[Outcome], Batch] = {}
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self.failures = endpoint.consecutive_failures
        self.half_open = endpoint.circuit == CircuitState.HALF_OPEN
        self.claimed = False

    # --- the workers' side (no database) ---

    def _pools(self) -> ConnectionPools:
        pools = getattr(self.local, "pools", None)
        if pools is None:
            pools = self.local.pools = ConnectionPools()
            self.all_pools.append(pools)
        return pools

    def _failed_in_a_row(self, ok: bool) -> None:
        """The workers' own count of consecutive failures (the breaker's, ahead of its record by this thread): a
        queued call does not start once the breaker is about to open."""
        with self.lock:
            self.failures = 0 if ok else self.failures + 1
            if not ok and (self.failures >= settings.TDP_ENDPOINT_BREAKER_FAILURES or self.half_open):
                self.stopped.set()

    def send(self, batch: Batch) -> Outcome:
        if self.stopped.is_set():
            return Outcome(batch, None, skipped=True)
        outcome = self._send(batch)
        self._failed_in_a_row(outcome.answer is not None)
        return outcome

    def _send(self, batch: Batch) -> Outcome:
        started = time.monotonic()
        call = embed if self.endpoint.kind == EndpointKind.EMBEDDER else predict
        try:
            answer, _ms = call(
                self.endpoint,
                batch.payload,
                features=self.features,
                project_key=f"{batch.rows[0].project_id}.{self.endpoint.pk}",
                secret=self.secret,
                pools=self._pools(),
            )
            return Outcome(batch, answer, seconds=time.monotonic() - started)
        except EndpointCallError as exc:
            return Outcome(batch, None, exc.message, exc.retryable, time.monotonic() - started)

    # --- this thread's side ---

    def run(self) -> dict[str, float]:
        endpoint = self.endpoint
        ready: deque[Batch] = deque()
        in_flight: set[Future[Outcome]] = set()
        drained = False
        # Calls queued ahead of the workers: a worker that finishes a call starts the next at once, also while this
        # thread claims or stores. Half-open: one probe call, nothing queued.
        ahead = endpoint.max_concurrency * QUEUE_AHEAD
        with ThreadPoolExecutor(max_workers=endpoint.max_concurrency, thread_name_prefix="tdp-endpoint") as pool:
            try:
                while True:
                    if self.retry:
                        drained, self.retry = False, False
                    open_ = endpoint.circuit == CircuitState.OPEN or self.stopped.is_set()
                    timely = time.monotonic() < self.deadline
                    if not drained and not open_ and timely and len(ready) + len(in_flight) < ahead:
                        claimed = time.monotonic()
                        drained = not self._refill(ready)
                        self.totals["claim_seconds"] += time.monotonic() - claimed
                    limit = 1 if endpoint.circuit == CircuitState.HALF_OPEN else ahead
                    while ready and not open_ and timely and len(in_flight) < limit:
                        batch = ready.popleft()
                        future = pool.submit(self.send, batch)
                        self.queued[future] = batch
                        in_flight.add(future)
                    if not in_flight:
                        break
                    waited = time.monotonic()
                    done, in_flight = wait(in_flight, return_when=FIRST_COMPLETED)
                    self.totals["wait_seconds"] += time.monotonic() - waited
                    for future in done:
                        self._outcome(future.result())
                        self.queued.pop(future, None)
                    late = time.monotonic() >= self.deadline
                    if endpoint.circuit == CircuitState.OPEN or self.stopped.is_set() or late:
                        for future in [f for f in in_flight if f.cancel()]:  # queued, not started: not sent
                            in_flight.discard(future)
                            ready.appendleft(self.queued.pop(future))
                    # Stored in large imports; sooner when the workers have a full queue and no answer is waiting
                    # (this thread would only wait), or when nothing is left in flight.
                    idle = len(in_flight) >= ahead // 2 and not any(f.done() for f in in_flight)
                    small = len(self.answered) >= STORE_MIN_ROWS and idle
                    if len(self.answered) >= STORE_ROWS or small or (not in_flight and self.answered):
                        stored = time.monotonic()
                        self._store()
                        self.totals["store_seconds"] += time.monotonic() - stored
            finally:
                for future in in_flight:  # only after an error here: let them finish, keep what they got
                    self._outcome(future.result())
                self._store()
                _release([row for batch in ready for row in batch.rows])
                for pools in self.all_pools:
                    pools.close()
        if time.monotonic() >= self.deadline and (ready or not drained):  # more to send: another dispatcher
            enqueue_on_commit("apps.predictions.tasks.endpoint_dispatch", str(endpoint.pk))
        return self.totals

    def _refill(self, ready: deque[Batch]) -> bool:
        """Claim more rows into `ready`; False when none is due. The first claim is small: calls start sooner."""
        first = self.endpoint.batch_size * self.endpoint.max_concurrency
        rows = _claim(self.endpoint, CLAIM_ROWS if self.claimed else min(CLAIM_ROWS, first))
        self.claimed = True
        if not rows:
            return False
        ModelEndpoint.objects.filter(pk=self.endpoint.pk).update(
            lease_until=timezone.now() + timedelta(seconds=_lease_seconds(self.endpoint))
        )
        batches, gone = _batches(self.endpoint, rows)
        for row in gone:
            self.totals["failed"] += _rows_failed([row], "The data row was deleted.", retryable=False)
        ready.extend(batches)
        return True

    def _outcome(self, outcome: Outcome) -> None:
        batch, answer = outcome.batch, outcome.answer
        if outcome.skipped:
            _release(batch.rows)
            return
        self.totals["calls"] += 1
        self.totals["sent"] += len(batch.rows)
        self.totals["call_seconds"] += outcome.seconds
        _breaker_record(self.endpoint, answer is not None)
        self.half_open = self.endpoint.circuit == CircuitState.HALF_OPEN
        if answer is None:
            self.totals["failed"] += _rows_failed(batch.rows, outcome.message, retryable=outcome.retryable)
            self.retry = self.retry or outcome.retryable
            return
        self.totals["model_seconds"] += answer.model_seconds or 0.0
        version = answer.model_version or self.endpoint.model_version or "unversioned"
        missing: dict[str, list[Claimed]] = {}
        for row in batch.rows:
            result = answer.rows.get(str(row.data_row_id))
            if result is None or result.error:
                missing.setdefault(result.error if result else "No result.", []).append(row)
            else:
                self.answered.append((row, result, version))
        for message, rows in missing.items():
            self.totals["failed"] += _rows_failed(rows, message, retryable=True)
            self.retry = True

    def _store(self) -> None:
        answered, self.answered = self.answered, []
        if not answered:
            return
        if self.endpoint.kind == EndpointKind.EMBEDDER:
            self.totals["answered"] += _store_vectors(self.endpoint, answered)
        else:
            self.totals["answered"] += self._store_annotations(answered)

    def _run_for(self, version: str) -> ModelRun | None:
        if version not in self.runs:
            self.runs[version] = _run_for(self.endpoint, version)
        return self.runs[version]

    def _store_annotations(self, answered: list[tuple[Claimed, protocols.RowResult, str]]) -> int:
        """Import the answers as pre-labels (per project) and predictions (per model version); record each row."""
        endpoint = self.endpoint
        notes: dict[int, list[str]] = {}
        counts: dict[int, int] = {}
        lines: dict[tuple[Any, str], list[tuple[int, bytes]]] = {}
        prefix = f"{endpoint.pk}:"
        for row, result, version in answered:
            mapped, messages = protocols.map_classes(result.annotations, endpoint.class_map, self.names)
            notes[row.pk] = messages
            counts[row.pk] = len(mapped)
            data_row = {"id": str(row.data_row_id)}
            entries = lines.setdefault((row.project_id, version), [])
            for index, annotation in enumerate(mapped):
                key = f"{prefix}{version}:{row.data_row_id}:{index}"
                line = {**annotation, "uuid": str(uuid.uuid5(UUID_NAMESPACE, key)), "data_row": data_row}
                entries.append((row.pk, orjson.dumps(line)))
        projects = Project.objects.select_related("ontology_version").in_bulk({project for project, _ in lines})
        for (project_id, version), entries in lines.items():
            body = b"\n".join(line for _, line in entries) + b"\n"
            targets = [prelabel_target(projects[project_id])]
            run = self._run_for(version)
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
        for row, _result, version in answered:  # one UPDATE per (version, count, note): few per store
            groups.setdefault((version, counts[row.pk], "; ".join(notes[row.pk])[:1000]), []).append(row.pk)
        with transaction.atomic():
            for (version, count, note), ids in groups.items():
                _set_rows(
                    ids,
                    status=EndpointRowStatus.ANSWERED,
                    model_version=version,
                    annotations=count,
                    error=note,
                    updated_at=now,
                )
            versions = [v for _, _, v in answered if v != "unversioned"]
            if versions and versions[-1] != endpoint.model_version:
                endpoint.model_version = versions[-1]
                ModelEndpoint.objects.filter(pk=endpoint.pk).update(model_version=versions[-1], updated_at=now)
        return len(answered)


def endpoint_dispatch(*, endpoint_id: Any, time_budget: float = 240.0) -> dict[str, float]:
    """Send the endpoint's due rows until none is left, the breaker opens or the time budget is spent (then another
    dispatcher is queued). Returns the counts and the times of the module's docstring."""
    endpoint = ModelEndpoint.objects.select_related("ontology", "model").filter(pk=endpoint_id).first()
    empty: dict[str, float] = {"sent": 0, "answered": 0, "failed": 0, "calls": 0, "call_seconds": 0.0}
    if endpoint is None or not _claim_lease(endpoint.pk, _lease_seconds(endpoint)):
        return {**empty, "model_seconds": 0.0, "wait_seconds": 0.0}
    try:
        if not _breaker_allows(endpoint):
            return {**empty, "model_seconds": 0.0, "wait_seconds": 0.0}
        return Dispatcher(endpoint, time_budget).run()
    finally:
        ModelEndpoint.objects.filter(pk=endpoint.pk).update(lease_until=None)


def _release(rows: list[Claimed]) -> None:
    """Rows claimed but not sent (the breaker opened, the time ran out): waiting again, the claim not counted."""
    if rows:
        with connection.cursor() as cursor:
            cursor.execute(RELEASE_SQL, [EndpointRowStatus.PENDING, timezone.now(), [r.pk for r in rows]])


def _rows_failed(rows: list[Claimed], message: str, *, retryable: bool) -> int:
    """Back to waiting with a backoff, or failed for good after the last attempt (one UPDATE per outcome and
    delay); the number that failed for good."""
    now = timezone.now()
    groups: dict[tuple[bool, float], list[int]] = {}
    for row in rows:
        final = not retryable or row.attempts >= settings.TDP_ENDPOINT_MAX_ATTEMPTS
        delay = 0.0 if final else protocols.backoff_seconds(row.attempts, settings.TDP_ENDPOINT_BACKOFF_SECONDS)
        groups.setdefault((final, delay), []).append(row.pk)
    for (final, delay), ids in groups.items():
        _set_rows(
            ids,
            status=EndpointRowStatus.FAILED if final else EndpointRowStatus.PENDING,
            error=message[:1000],
            next_attempt_at=now + timedelta(seconds=delay),
            updated_at=now,
        )
    return sum(len(ids) for (final, _), ids in groups.items() if final)


def _run_for(endpoint: ModelEndpoint, version: str) -> ModelRun | None:
    if endpoint.model is None:
        return None
    name = f"{endpoint.name} {version}"[:200]
    run = ModelRun.objects.select_related("model", "ontology_version").filter(model=endpoint.model, name=name).first()
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


def _store_vectors(endpoint: ModelEndpoint, answered: list[tuple[Claimed, protocols.RowResult, str]]) -> int:
    """Vectors into the catalog embedding space named after the endpoint and model version (created on first use;
    vectors of two versions are not comparable), upserted by row."""
    from apps.catalog import services as catalog_services
    from apps.catalog.models import EmbeddingSpace

    actor = endpoint.created_by
    stored = 0
    by_version: dict[str, list[tuple[Claimed, list[float]]]] = {}
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
            message = "The endpoint's creator is gone: no one to own its embedding space."
            _rows_failed([row for row, _vector in items], message, retryable=False)
            continue
        report = catalog_services.embedding_vectors_upload(
            actor=actor,  # type: ignore[arg-type]
            space=space,
            items=[{"data_row": str(row.data_row_id), "vector": vector} for row, vector in items],
        )
        refused = {error["index"]: error["message"] for error in report.get("errors", [])}
        for index, (row, _vector) in enumerate(items):
            if index in refused:
                _rows_failed([row], f"The vector was refused: {refused[index]}", retryable=False)
        ok = [row.pk for index, (row, _vector) in enumerate(items) if index not in refused]
        now = timezone.now()
        _set_rows(ok, status=EndpointRowStatus.ANSWERED, model_version=version, annotations=0, error="", updated_at=now)
        stored += len(ok)
        if ok and version != "unversioned" and version != endpoint.model_version:
            endpoint.model_version = version
            ModelEndpoint.objects.filter(pk=endpoint.pk).update(model_version=version, updated_at=now)
    return stored
