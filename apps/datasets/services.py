"""Every write to datasets, data rows, metadata fields and storage integrations."""

from __future__ import annotations

import re
import secrets
import tempfile
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any, Protocol

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.accounts.models import Organization, User
from apps.core.alerts import alert_check_later
from apps.core.audit import audit_record
from apps.core.domain.alerts import BULK_RAW_ACCESS
from apps.core.errors import Conflict, NotFound, PayloadTooLarge, PermissionDenied, ValidationFailed
from apps.core.events import emit
from apps.core.ids import uuid7
from apps.core.jobs import job_create_and_enqueue
from apps.core.models import Job
from apps.core.queue import enqueue_on_commit
from apps.core.url_safety import validate_outbound_url
from apps.datasets import cloud
from apps.datasets.domain.metadata import KINDS, MAX_STRING_CHARS, RESERVED_NAMES, check_text
from apps.datasets.domain.rows import CleanRow
from apps.datasets.domain.streams import BodyError
from apps.datasets.importer import ImportReport, RowWriter, check_structure, run_import
from apps.datasets.models import DataRow, Dataset, MediaType, MetadataField, MetadataKind, StorageIntegration

CHUNK_BYTES = 256 * 1024
_FIELD_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]{0,99}$")


def _require_organization(actor: User) -> Organization:
    if actor.organization is None:
        raise ValidationFailed("You belong to no organization.", code="no_organization")
    return actor.organization


# --- datasets ---------------------------------------------------------------------------------------------------


def _clean_name(name: str, field: str = "name", max_length: int = 200) -> str:
    name = (name or "").strip()
    if not name or len(name) > max_length or check_text(name):
        raise ValidationFailed(
            f"Invalid {field}.", details={field: [f"A {field} of 1 to {max_length} characters is required."]}
        )
    return name


@transaction.atomic
def dataset_create(
    *, actor: User, name: str, description: str = "", organization: Organization | None = None
) -> Dataset:
    """`organization` defaults to the actor's; only superusers may name another one (the admin does)."""
    if organization is None or not actor.is_superuser:
        organization = _require_organization(actor)
    if check_text(description or "") or len(description or "") > 10000:
        raise ValidationFailed("Invalid description.", details={"description": ["At most 10,000 characters."]})
    dataset = Dataset.objects.create(
        organization=organization, name=_clean_name(name), description=description or "", created_by=actor
    )
    audit_record(action="dataset.created", actor=actor, organization=organization, target=dataset)
    return dataset


@transaction.atomic
def dataset_update(
    *, actor: User, dataset: Dataset, name: str | None = None, description: str | None = None
) -> Dataset:
    if name is not None:
        dataset.name = _clean_name(name)
    if description is not None:
        if check_text(description) or len(description) > 10000:
            raise ValidationFailed("Invalid description.", details={"description": ["At most 10,000 characters."]})
        dataset.description = description
    dataset.save()
    audit_record(action="dataset.updated", actor=actor, organization=dataset.organization, target=dataset)
    return dataset


@transaction.atomic
def dataset_delete(*, actor: User, dataset: Dataset) -> None:
    audit_record(action="dataset.deleted", actor=actor, organization=dataset.organization, target=dataset)
    dataset.delete()


# --- metadata schema --------------------------------------------------------------------------------------------


@transaction.atomic
def metadata_field_create(*, actor: User, name: str, kind: str, options: list[Any] | None = None) -> MetadataField:
    organization = _require_organization(actor)
    name = (name or "").strip()
    if not _FIELD_NAME.match(name):
        raise ValidationFailed(
            "Invalid metadata field name.",
            details={"name": ["Letters, digits, _ and -, starting with a letter, at most 100 characters."]},
        )
    if name in RESERVED_NAMES:
        raise Conflict(f"{name!r} is a built-in metadata field.", code="reserved_name")
    if kind not in KINDS:
        raise ValidationFailed("Invalid kind.", details={"kind": [f"Choose one of: {', '.join(KINDS)}."]})
    options = list(options or [])
    if kind == MetadataKind.ENUM:
        bad = [o for o in options if not isinstance(o, str) or not o or len(o) > MAX_STRING_CHARS or check_text(o)]
        if not options or bad or len(options) > 1000 or len(set(options)) != len(options):
            raise ValidationFailed(
                "Invalid options.", details={"options": ["An enum needs 1 to 1000 distinct non-empty strings."]}
            )
    elif options:
        raise ValidationFailed("Invalid options.", details={"options": ["Only enum fields take options."]})
    if MetadataField.objects.filter(organization=organization, name=name).exists():
        raise Conflict(f"A metadata field named {name!r} exists.", code="metadata_field_exists")
    try:
        with transaction.atomic():
            field = MetadataField.objects.create(
                organization=organization, name=name, kind=kind, options=options, created_by=actor
            )
    except IntegrityError as exc:
        raise Conflict(f"A metadata field named {name!r} exists.", code="metadata_field_exists") from exc
    audit_record(
        action="metadata_field.created", actor=actor, organization=organization, target=field, extra={"kind": kind}
    )
    if kind in (MetadataKind.NUMBER, MetadataKind.DATETIME):  # its range filters get an index (`metadata_indexes`)
        enqueue_on_commit("apps.datasets.tasks.metadata_indexes_task")
    return field


# --- imports ----------------------------------------------------------------------------------------------------


class Readable(Protocol):
    def read(self, size: int, /) -> bytes: ...


def iter_chunks(stream: Readable, *, limit: int, size: int = CHUNK_BYTES) -> Iterator[bytes]:
    """Read a body in chunks; more than `limit` bytes → 413 (even when Content-Length lied or was absent)."""
    total = 0
    while True:
        chunk = stream.read(size)
        if not chunk:
            return
        total += len(chunk)
        if total > limit:
            raise PayloadTooLarge(
                f"The import body is larger than the limit of {limit} bytes.", details={"limit": limit}
            )
        yield chunk


def _body_error(exc: BodyError) -> ValidationFailed:
    return ValidationFailed(exc.message, code=exc.code)


def _imported_emit(
    dataset: Dataset, result: dict[str, Any], *, fmt: str, job: Job | None = None, videos: int = 0
) -> None:
    """`data_rows.imported`, once per import, with its counts (not the per-row errors); video rows get probed."""
    emit(
        type="data_rows.imported",
        organization_id=dataset.organization_id,
        object=lambda: {
            "dataset": str(dataset.pk),
            "format": fmt,
            "job": str(job.pk) if job is not None else None,
            **{k: result[k] for k in ("created", "updated", "failed")},
        },
    )
    if videos:
        enqueue_on_commit("apps.datasets.tasks.video_probes_pending", str(dataset.pk))


def data_rows_import(*, actor: User, dataset: Dataset, fmt: str, chunks: Iterable[bytes]) -> dict[str, Any]:
    """Import a body synchronously in one transaction: every good row is stored and every bad one reported, or —
    when the body itself is broken (encoding, structure) — nothing is stored and a 400 is raised."""
    try:
        with transaction.atomic():
            report = run_import(dataset=dataset, fmt=fmt, chunks=chunks)
            result = report.as_dict()
            audit_record(
                action="data_rows.imported",
                actor=actor,
                organization=dataset.organization,
                target=dataset,
                extra={k: result[k] for k in ("created", "updated", "failed")} | {"format": fmt},
            )
            _imported_emit(dataset, result, fmt=fmt, videos=report.videos)
    except BodyError as exc:
        raise _body_error(exc) from None
    return result


def data_rows_import_enqueue(*, actor: User, dataset: Dataset, fmt: str, stream: Readable) -> Job:
    """Spool a large body to storage (bounded memory) and import it in a background job."""
    _require_organization(actor)
    name = f"imports/{dataset.organization_id}/{uuid7()}.{fmt}"
    size = 0
    with tempfile.TemporaryFile() as spool:
        for chunk in iter_chunks(stream, limit=settings.TDP_MAX_IMPORT_BYTES):
            spool.write(chunk)
            size += len(chunk)
        spool.seek(0)
        stored = default_storage.save(name, File(spool, name=name.rsplit("/", 1)[-1]))
    job = job_create_and_enqueue(
        user=actor,
        kind="data_rows_import",
        func="apps.datasets.tasks.data_rows_import_job",
        params={"dataset": str(dataset.pk), "format": fmt, "storage_name": stored, "bytes": size},
    )
    job.progress_total = size
    job.save(update_fields=["progress_total"])
    return job


def data_rows_import_from_storage(*, job: Job, on_progress: Any = None) -> dict[str, Any]:
    """The job body: check the spooled file's structure first (no writes), then import it batch by batch (each
    batch commits, so progress is visible). Deletes the spooled file at the end."""
    params = job.params
    dataset = Dataset.objects.select_related("organization").get(pk=params["dataset"])
    storage_name = params["storage_name"]
    fmt = params["format"]
    try:
        with default_storage.open(storage_name, "rb") as handle:
            try:
                check_structure(fmt=fmt, chunks=iter_chunks(handle, limit=settings.TDP_MAX_IMPORT_BYTES))
            except BodyError as exc:
                raise _body_error(exc) from None
        with default_storage.open(storage_name, "rb") as handle:
            report = run_import(
                dataset=dataset,
                fmt=fmt,
                chunks=iter_chunks(handle, limit=settings.TDP_MAX_IMPORT_BYTES),
                on_batch=on_progress,
            )
        result = report.as_dict()
        audit_record(
            action="data_rows.imported",
            actor=job.created_by,
            organization=dataset.organization,
            target=dataset,
            extra={k: result[k] for k in ("created", "updated", "failed")} | {"format": fmt, "job": str(job.pk)},
        )
        _imported_emit(dataset, result, fmt=fmt, job=job, videos=report.videos)
        return result
    finally:
        default_storage.delete(storage_name)


@transaction.atomic
def data_row_delete(*, actor: User, data_row: DataRow) -> None:
    audit_record(action="data_row.deleted", actor=actor, organization=data_row.organization, target=data_row)
    data_row.delete()


# --- uploads ----------------------------------------------------------------------------------------------------


def sanitize_filename(name: str) -> str:
    """A file name safe as the last part of a storage path: no directories, no `..`, no control characters."""
    name = unicodedata.normalize("NFKC", str(name or ""))
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c if (c.isalnum() and c.isascii()) or c in "._-" else "_" for c in name)
    name = re.sub(r"\.{2,}", ".", name).strip("._-")
    stem, dot, ext = name.rpartition(".")
    if dot and len(ext) <= 10:
        name = f"{stem[:90]}.{ext}"
    return name[:100] or "file"


@dataclass
class UploadedFile:
    name: str
    file: IO[bytes]
    size: int


@transaction.atomic
def data_rows_upload(
    *,
    actor: User,
    dataset: Dataset,
    files: list[UploadedFile],
    global_keys: list[str] | None = None,
    media_type: str = MediaType.IMAGE,
) -> dict[str, Any]:
    """Store uploaded files and upsert one data row per file (`row_data` = `upload://<storage name>`)."""
    if not files:
        raise ValidationFailed("Send at least one file in the `files` field.", details={"files": ["Required."]})
    if len(files) > settings.TDP_MAX_UPLOAD_FILES:
        raise PayloadTooLarge(f"At most {settings.TDP_MAX_UPLOAD_FILES} files per request.")
    if global_keys and len(global_keys) != len(files):
        raise ValidationFailed("Send one global_key per file, in the same order.", details={"global_key": ["Count."]})
    if media_type not in MediaType.values:
        raise ValidationFailed("media_type must be image, text or video.", details={"media_type": ["Invalid."]})
    limit = settings.TDP_MAX_UPLOAD_FILE_BYTES
    for upload in files:
        if upload.size > limit:
            raise PayloadTooLarge(f"A file is larger than the limit of {limit} bytes.", details={"limit": limit})
    report = ImportReport(keep_rows=True)
    report.videos = len(files) if media_type == MediaType.VIDEO else 0
    rows: list[CleanRow] = []
    stored_names: list[str] = []
    seen: set[str] = set()
    for index, upload in enumerate(files):
        safe = sanitize_filename(upload.name)
        key = (global_keys[index] if global_keys else safe).strip()
        if not key or len(key) > 255 or check_text(key):
            report.error(index, None, "global_key must be 1 to 255 characters")
            continue
        if key in seen:
            report.error(index, key, "duplicate global_key in this upload")
            continue
        seen.add(key)
        stored = default_storage.save(f"uploads/{dataset.organization_id}/{uuid7()}/{safe}", File(upload.file))
        stored_names.append(stored)
        rows.append(
            CleanRow(
                index=index,
                global_key=key,
                external_id=safe,
                row_data=f"upload://{stored}",
                media_type=media_type,
                width=None,
                height=None,
                metadata={},
                attachments=[],
            )
        )
    RowWriter(dataset, report).write(rows)
    audit_record(
        action="data_rows.uploaded",
        actor=actor,
        organization=dataset.organization,
        target=dataset,
        extra={"created": report.created, "updated": report.updated, "failed": report.failed},
    )
    result = report.as_dict()
    _imported_emit(dataset, result, fmt="upload", videos=report.videos)
    return result


# --- content ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Content:
    """How to hand a data row's asset to a browser."""

    kind: str  # "redirect" | "file" | "text"
    value: str
    media_type: str


def data_row_content(*, actor: User, data_row: DataRow) -> Content:
    """Resolve the asset of a row (signed URL, local file, inline text) and audit the access."""
    row_data = data_row.row_data
    extra: dict[str, Any] = {}
    if row_data.startswith("s3://"):
        bucket, _, key = row_data[5:].partition("/")
        integration = StorageIntegration.objects.filter(organization_id=data_row.organization_id, bucket=bucket).first()
        if integration is None:
            raise Conflict(
                f"No storage integration of this organization covers the bucket {bucket!r}.",
                code="no_storage_integration",
            )
        url = cloud.signed_get_url(integration, key, ttl=settings.TDP_SIGNED_URL_TTL_SECONDS)
        content = Content("redirect", url, data_row.media_type)
        extra = {"via": "signed_url", "integration": str(integration.pk), "ttl": settings.TDP_SIGNED_URL_TTL_SECONDS}
    elif row_data.startswith("upload://"):
        name = row_data[len("upload://") :]
        if not name.startswith(f"uploads/{data_row.organization_id}/") or ".." in name:
            raise PermissionDenied("This asset is not stored for your organization.")
        if not default_storage.exists(name):
            raise NotFound(
                "The uploaded file of this data row is missing from storage.",
                code="content_missing",
                details={"data_row": str(data_row.pk)},
            )
        content = Content("file", name, data_row.media_type)
        extra = {"via": "storage"}
    elif row_data.startswith(("http://", "https://")):
        content = Content("redirect", row_data, data_row.media_type)
        extra = {"via": "url"}
    else:
        content = Content("text", row_data, data_row.media_type)
        extra = {"via": "inline"}
    event = audit_record(
        action="data_row.content_accessed",
        actor=actor,
        organization_id=data_row.organization_id,
        target=data_row,
        extra=extra,
    )
    if extra["via"] == "signed_url":  # bulk downloads of raw data raise an alert (counted by the worker)
        alert_check_later(
            organization_id=data_row.organization_id, kind=BULK_RAW_ACCESS, actor_id=actor.pk, ip=event.ip
        )
    return content


# --- storage integrations ---------------------------------------------------------------------------------------


_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$")
_ROLE_ARN = re.compile(r"^arn:aws[a-z\-]*:iam::\d{12}:role/[\w+=,.@\-/]{1,512}$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")


@transaction.atomic
def storage_integration_create(
    *,
    actor: User,
    name: str,
    bucket: str,
    role_arn: str,
    region: str = "",
    provider: str = StorageIntegration.Provider.AWS,
    endpoint_url: str = "",
) -> StorageIntegration:
    organization = _require_organization(actor)
    errors: dict[str, list[str]] = {}
    if provider != StorageIntegration.Provider.AWS:
        errors["provider"] = ["Only aws is supported."]
    if not _BUCKET.match(bucket or "") or ".." in bucket:
        errors["bucket"] = ["Not a valid S3 bucket name."]
    if not _ROLE_ARN.match(role_arn or ""):
        errors["role_arn"] = ["Expected arn:aws:iam::<12-digit account>:role/<name>."]
    if region and not _REGION.match(region):
        errors["region"] = ["Not a valid AWS region (e.g. eu-west-1)."]
    if errors:
        raise ValidationFailed("Invalid storage integration.", details=errors)
    if endpoint_url:
        if not actor.is_superuser:
            raise PermissionDenied("Only a platform superuser may set a custom endpoint URL.")
        validate_outbound_url(endpoint_url)
    name = _clean_name(name)
    if StorageIntegration.objects.filter(organization=organization, bucket=bucket).exists():
        raise Conflict(f"The bucket {bucket!r} already has an integration.", code="storage_integration_exists")
    try:
        with transaction.atomic():
            integration = StorageIntegration.objects.create(
                organization=organization,
                name=name,
                provider=provider,
                bucket=bucket,
                region=region,
                role_arn=role_arn,
                endpoint_url=endpoint_url,
                external_id=f"tdp-{secrets.token_hex(16)}",
                created_by=actor,
            )
    except IntegrityError as exc:
        raise Conflict(
            "A storage integration with that name or bucket exists.", code="storage_integration_exists"
        ) from exc
    audit_record(
        action="storage_integration.created",
        actor=actor,
        organization=organization,
        target=integration,
        extra={"bucket": bucket, "role_arn": role_arn, "endpoint_url": endpoint_url},
    )
    return integration


@transaction.atomic
def storage_integration_set_endpoint(
    *, actor: User, integration: StorageIntegration, endpoint_url: str
) -> StorageIntegration:
    """A custom S3 API endpoint (MinIO, another cloud …): platform superusers only, never a private address."""
    if not actor.is_superuser:
        raise PermissionDenied("Only a platform superuser may set a custom endpoint URL.")
    endpoint_url = (endpoint_url or "").strip()
    if endpoint_url:
        validate_outbound_url(endpoint_url)
    integration.endpoint_url = endpoint_url
    integration.last_validation_ok = None
    integration.save(update_fields=["endpoint_url", "last_validation_ok", "updated_at"])
    audit_record(
        action="storage_integration.endpoint_changed",
        actor=actor,
        organization=integration.organization,
        target=integration,
        extra={"endpoint_url": endpoint_url},
    )
    return integration


@transaction.atomic
def storage_integration_delete(*, actor: User, integration: StorageIntegration) -> None:
    audit_record(
        action="storage_integration.deleted", actor=actor, organization=integration.organization, target=integration
    )
    integration.delete()


def storage_integration_validate(*, actor: User, integration: StorageIntegration) -> StorageIntegration:
    """Assume the role and read the bucket; store and return the outcome (a clear reason when it fails)."""
    ok, message = cloud.check_access(integration)
    integration.last_validated_at = timezone.now()
    integration.last_validation_ok = ok
    integration.last_validation_message = message
    integration.save(update_fields=["last_validated_at", "last_validation_ok", "last_validation_message", "updated_at"])
    audit_record(
        action="storage_integration.validated",
        actor=actor,
        organization=integration.organization,
        target=integration,
        extra={"ok": ok, "message": message[:500]},
    )
    return integration
