"""Data rows from a storage integration's bucket: list the keys under a prefix (through the integration's assumed
role, endpoint re-checked against private addresses) and upsert one row per key through the ordinary import
pipeline (`row_data` = `s3://<bucket>/<key>`, `global_key` = the key), so the same validation, dedupe by global key
and per-row report apply as for a file import."""

from __future__ import annotations

import json
import posixpath
from typing import Any

from django.db import transaction

from apps.accounts.models import User
from apps.core.audit import audit_record
from apps.core.errors import ValidationFailed
from apps.datasets import cloud
from apps.datasets.domain.metadata import check_text
from apps.datasets.domain.streams import BodyError
from apps.datasets.importer import run_import
from apps.datasets.models import Dataset, MediaType, StorageIntegration
from apps.datasets.services import _imported_emit

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".gif", ".webp", ".bmp", ".tif", ".tiff")
TEXT_EXTENSIONS = (".txt", ".md", ".json", ".csv", ".html")
VIDEO_EXTENSIONS = (".mp4", ".mov", ".mkv", ".webm", ".avi", ".m4v")
DEFAULT_MAX_KEYS = 10_000
MAX_KEYS = 100_000


def _extensions(media_type: str) -> tuple[str, ...]:
    if media_type == MediaType.VIDEO:
        return VIDEO_EXTENSIONS
    return IMAGE_EXTENSIONS if media_type == MediaType.IMAGE else TEXT_EXTENSIONS


def data_rows_import_from_bucket(
    *,
    actor: User,
    dataset: Dataset,
    integration: StorageIntegration,
    prefix: str = "",
    media_type: str = MediaType.IMAGE,
    max_keys: int = DEFAULT_MAX_KEYS,
) -> dict[str, Any]:
    """One row per object under `prefix` whose extension fits `media_type`. Re-running adds only new keys (existing
    ones are updated in place). The answer is the import report plus `listed`, `skipped` (other extensions),
    `truncated` (more than `max_keys` objects) and the rows' `global_keys`."""
    if integration.organization_id != dataset.organization_id:
        raise ValidationFailed("The storage integration is not in the dataset's organization.")
    prefix = prefix or ""
    if len(prefix) > 1024 or check_text(prefix) or prefix.startswith("/"):
        raise ValidationFailed("Invalid prefix.", details={"prefix": ["At most 1,024 characters, no leading /."]})
    if media_type not in (MediaType.IMAGE, MediaType.TEXT, MediaType.VIDEO):
        raise ValidationFailed("media_type must be image, text or video.", details={"media_type": ["Invalid."]})
    cap = MAX_KEYS
    if not isinstance(max_keys, int) or not 1 <= max_keys <= cap:
        raise ValidationFailed(f"max_keys must be 1 to {cap}.", details={"max_keys": ["Out of range."]})
    keys, truncated = cloud.list_keys(integration, prefix=prefix, limit=max_keys)
    extensions = _extensions(media_type)
    chosen = [k for k in keys if posixpath.splitext(k)[1].lower() in extensions]
    if not chosen:
        return {
            "created": 0,
            "updated": 0,
            "failed": 0,
            "errors": [],
            "errors_truncated": False,
            "listed": len(keys),
            "skipped": len(keys),
            "truncated": truncated,
            "global_keys": [],
        }
    lines = (
        json.dumps({"global_key": key, "row_data": f"s3://{integration.bucket}/{key}", "media_type": media_type}) + "\n"
        for key in chosen
    )
    try:
        with transaction.atomic():
            report = run_import(dataset=dataset, fmt="ndjson", chunks=(line.encode() for line in lines))
            result = report.as_dict()
            audit_record(
                action="data_rows.imported",
                actor=actor,
                organization=dataset.organization,
                target=dataset,
                extra={k: result[k] for k in ("created", "updated", "failed")}
                | {"format": "storage", "integration": str(integration.pk), "prefix": prefix[:200]},
            )
            _imported_emit(dataset, result, fmt="storage", videos=report.videos)
    except BodyError as exc:  # pragma: no cover - the lines are built here, one JSON object each
        raise ValidationFailed(exc.message, code=exc.code) from None
    failed = {e["global_key"] for e in result["errors"]}
    return {
        **result,
        "listed": len(keys),
        "skipped": len(keys) - len(chosen),
        "truncated": truncated,
        "global_keys": [k for k in chosen if k not in failed],
    }
