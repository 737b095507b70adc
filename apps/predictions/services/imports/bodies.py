"""The import services by kind of body: a small one in the request and one transaction (`annotations_import`), a large
one spooled to storage (`annotations_import_enqueue`) and imported by a job (`annotations_import_from_storage`)."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.core.audit import audit_record
from apps.core.events import emit
from apps.core.ids import uuid7
from apps.core.jobs import job_create_and_enqueue
from apps.core.models import Job
from apps.datasets.services import Readable, iter_chunks
from apps.labeling import services as labeling_services
from apps.predictions.models import ImportKind, ImportStatus, PredictionImport
from apps.predictions.services.imports.pipeline import run_import
from apps.predictions.services.imports.report import Report
from apps.predictions.services.queue_order import queue_order_after_import
from apps.predictions.services.routing import routing_enqueue
from apps.predictions.services.targets import Target, prediction_target, prelabel_target

STORED_ERRORS = 1000  # errors kept on the import record (the response and the job result carry more)


def _finish(record: PredictionImport, report: Report, *, error: str = "") -> None:
    result = report.as_dict()
    record.created = report.created
    record.updated = report.updated
    record.failed = report.failed
    record.errors = result["errors"][:STORED_ERRORS]
    record.errors_truncated = report.errors_truncated or len(result["errors"]) > STORED_ERRORS
    record.status = ImportStatus.FAILED if error else ImportStatus.SUCCEEDED
    record.error = error
    record.finished_at = timezone.now()
    record.save()
    emit(
        type="prediction_import.finished",
        organization_id=record.organization_id,
        project_id=record.project_id,
        object=lambda: {
            "id": str(record.pk),
            "kind": record.kind,
            "project": str(record.project_id) if record.project_id else None,
            "model_run": str(record.model_run_id) if record.model_run_id else None,
            "status": record.status,
            "created": record.created,
            "updated": record.updated,
            "failed": record.failed,
            "error": record.error or None,
            "finished_at": record.finished_at.isoformat() if record.finished_at else None,
        },
    )


def _record(actor: User | None, target: Target, size: int) -> PredictionImport:
    return PredictionImport.objects.create(
        organization_id=target.organization_id,
        kind=target.kind,
        project=target.project,
        model_run=target.model_run,
        created_by=actor,
        bytes=size,
    )


def _audit(actor: User | None, target: Target, record: PredictionImport, result: dict[str, Any]) -> None:
    audit_record(
        action=f"{target.kind}.imported",
        actor=actor,
        organization=(target.project or target.model_run.model).organization,  # type: ignore[union-attr]
        target=target.project or target.model_run,
        extra={k: result[k] for k in ("created", "updated", "failed")} | {"import": str(record.pk)},
    )


def _after_import(target: Target) -> None:
    if target.kind == ImportKind.PRELABELS:
        labeling_services.project_mark(project_id=target.project.pk, has_prelabels=True)  # type: ignore[union-attr]
    routing_enqueue(target=target)
    if target.model_run is not None:
        queue_order_after_import(model_run=target.model_run)


@transaction.atomic
def annotations_import(*, actor: User, target: Target, chunks: Iterable[bytes], size: int) -> dict[str, Any]:
    """A small body, in the request and one transaction: every good line stored, every bad one reported."""
    record = _record(actor, target, size)
    report, _ = run_import(target=target, chunks=chunks, source_import=record)
    _finish(record, report)
    result = report.as_dict()
    _audit(actor, target, record, result)
    _after_import(target)
    return result | {"import": str(record.pk)}


def annotations_import_enqueue(*, actor: User, target: Target, stream: Readable) -> Job:
    """A large body: spooled to storage (bounded memory), imported by a job."""
    name = f"imports/{target.organization_id}/{uuid7()}.ndjson"
    size = 0
    with tempfile.TemporaryFile() as spool:
        for chunk in iter_chunks(stream, limit=settings.TDP_MAX_IMPORT_BYTES):
            spool.write(chunk)
            size += len(chunk)
        spool.seek(0)
        stored = default_storage.save(name, File(spool, name=name.rsplit("/", 1)[-1]))
    with transaction.atomic():
        record = _record(actor, target, size)
        job = job_create_and_enqueue(
            user=actor,
            kind=f"{target.kind}_import",
            func="apps.predictions.tasks.annotations_import_job",
            params={"import": str(record.pk), "storage_name": stored, "bytes": size},
        )
        job.progress_total = size
        job.save(update_fields=["progress_total"])
        record.job = job
        record.save(update_fields=["job", "updated_at"])
    return job


def annotations_import_from_storage(*, job: Job, on_progress: Callable[[int], None] | None = None) -> dict[str, Any]:
    """The job body: import the spooled file chunk by chunk (each chunk commits), then delete it."""
    record = PredictionImport.objects.select_related("project", "model_run__model").get(pk=job.params["import"])
    target = prelabel_target(record.project) if record.project is not None else prediction_target(record.model_run)  # type: ignore[arg-type]
    storage_name = job.params["storage_name"]
    try:
        with default_storage.open(storage_name, "rb") as handle:
            report, _ = run_import(
                target=target,
                chunks=iter_chunks(handle, limit=settings.TDP_MAX_IMPORT_BYTES),
                source_import=record,
                commit_each_chunk=True,
                on_chunk=on_progress,
            )
    except Exception as exc:
        _finish(record, Report(), error=f"{type(exc).__name__}: {exc}")
        raise
    finally:
        default_storage.delete(storage_name)
    _finish(record, report)
    result = report.as_dict()
    _audit(job.created_by, target, record, result)
    _after_import(target)
    return result | {"import": str(record.pk)}
