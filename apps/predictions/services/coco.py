"""Predictions of a model run from a COCO detection results file, through the NDJSON importer (same validation,
idempotent ids, per-line report and import record). See `apps/predictions/domain/coco_results.py` for the mapping."""

from __future__ import annotations

from typing import Any

import orjson
from django.conf import settings

from apps.accounts.models import User
from apps.core.errors import PayloadTooLarge, ValidationFailed
from apps.predictions.domain.coco_results import (
    CocoFormatError,
    categories_from_config,
    convert,
    split_body,
)
from apps.predictions.models import ModelRun
from apps.predictions.services.imports import annotations_import, prediction_target

_CHUNK = 256 * 1024


def coco_results_import(*, actor: User, model_run: ModelRun, body: bytes) -> dict[str, Any]:
    """Import a COCO results body (bytes of JSON) as the run's predictions. The answer has the NDJSON import's
    shape; `line` in an error is the position of the result in the file (1-based)."""
    limit = settings.TDP_IMPORT_SYNC_MAX_BYTES
    if len(body) > limit:
        raise PayloadTooLarge(
            f"A COCO results file is read in one piece: at most {limit} bytes (send larger ones as NDJSON).",
            details={"limit": limit},
        )
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise ValidationFailed(f"The file is not valid JSON ({exc}).", code="invalid_json") from None
    try:
        results, images, categories = split_body(parsed)
    except CocoFormatError as exc:
        raise ValidationFailed(str(exc), code="not_coco_results") from None
    categories = categories or categories_from_config(model_run.config)
    if not categories:
        raise ValidationFailed(
            "No COCO categories: send `categories` with the results or set the run's COCO categories "
            '(config `{"coco_categories": {"1": "car"}}`).',
            code="no_coco_categories",
        )
    converted = convert(results, images=images, categories=categories)
    import_id: str | None = None
    errors = list(converted.errors)
    created = updated = failed = 0
    truncated = False
    if converted.lines:
        body_lines = b"".join(orjson.dumps(line) + b"\n" for line in converted.lines)
        chunks = [body_lines[i : i + _CHUNK] for i in range(0, len(body_lines), _CHUNK)]
        result = annotations_import(
            actor=actor, target=prediction_target(model_run), chunks=chunks, size=len(body_lines)
        )
        import_id = result["import"]
        created, updated, failed = result["created"], result["updated"], result["failed"]
        truncated = result["errors_truncated"]
        for error in result["errors"]:
            line = error.get("line")
            position = (
                converted.line_numbers[line - 1]
                if isinstance(line, int) and 0 < line <= len(converted.line_numbers)
                else line
            )
            errors.append({**error, "line": position})
    return {
        "created": created,
        "updated": updated,
        "failed": failed + len(converted.errors),
        "errors": sorted(errors, key=lambda e: e["line"] if isinstance(e.get("line"), int) else 0),
        "errors_truncated": truncated,
        "import": import_id,
        "results": len(results),
    }
