"""Validation of one imported data row (JSON object or CSV record) into the values that get stored."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from apps.core import json_limits
from apps.datasets.domain.metadata import FieldSpec, MetadataError, check_text, coerce_metadata

MEDIA_TYPES = frozenset({"image", "text", "video"})
ATTACHMENT_TYPES = frozenset({"image", "image_overlay", "video", "text", "raw_text", "html", "pdf_url"})
MAX_KEY_CHARS = 255
MAX_URL_CHARS = 4096
MAX_INLINE_TEXT_CHARS = 1_000_000
MAX_DIMENSION = 1_000_000
MAX_ATTACHMENTS = 50
ROW_FIELDS = frozenset(
    {"global_key", "row_data", "media_type", "external_id", "metadata", "attachments", "width", "height"}
)
URL_PREFIXES = ("http://", "https://", "s3://", "upload://")


_has_space = re.compile(r"\s").search


def _plain(text: str) -> bool:
    """ASCII without NUL: storable as is (the fast path; anything else goes through `check_text`)."""
    return text.isascii() and "\x00" not in text


class RowError(ValueError):
    """A bad row: reported by index, never stored."""


@dataclass(slots=True)
class CleanRow:
    index: int
    global_key: str
    external_id: str
    row_data: str
    media_type: str
    width: int | None
    height: int | None
    metadata: dict[str, Any]
    attachments: list[tuple[str, str, str]]


def _text(row: dict[str, Any], field: str, max_chars: int, *, required: bool = False) -> str:
    value = row.get(field)
    if value is None or value == "":
        if required:
            raise RowError(f"{field} is required")
        return ""
    if not isinstance(value, str):
        raise RowError(f"{field} must be a string")
    if len(value) > max_chars:
        raise RowError(f"{field} is longer than {max_chars} characters")
    if problem := check_text(value):
        raise RowError(f"{field} {problem}")
    return value


def _dimension(row: dict[str, Any], field: str, from_text: bool) -> int | None:
    value = row.get(field)
    if value is None or value == "":
        return None
    if from_text and isinstance(value, str):
        try:
            value = int(value.strip())
        except ValueError:
            raise RowError(f"{field} must be a positive integer") from None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_DIMENSION:
        raise RowError(f"{field} must be a positive integer up to {MAX_DIMENSION}")
    return value


def check_reference(row_data: str, upload_prefix: str) -> None:
    """A URL-like row_data must be well formed; uploads must be the organization's own."""
    if row_data.startswith("s3://"):
        bucket, _, key = row_data[5:].partition("/")
        if not bucket or not key:
            raise RowError("row_data s3:// URLs must be s3://bucket/key")
    elif row_data.startswith("upload://"):
        if not row_data.startswith(upload_prefix) or ".." in row_data:
            raise RowError("row_data upload:// references must name a file uploaded to this organization")
    elif len(row_data) > MAX_URL_CHARS or _has_space(row_data):
        raise RowError("row_data is not a valid URL")


def _attachments(raw: Any, from_text: bool) -> list[tuple[str, str, str]]:
    if raw is None or raw == "":
        return []
    if from_text and isinstance(raw, str):
        try:
            raw = json_limits.loads(raw)
        except ValueError:
            raise RowError("attachments must be a JSON list") from None
    if not isinstance(raw, list):
        raise RowError("attachments must be a list")
    if len(raw) > MAX_ATTACHMENTS:
        raise RowError(f"at most {MAX_ATTACHMENTS} attachments per row")
    out = []
    for position, item in enumerate(raw):
        if not isinstance(item, dict) or set(item) - {"type", "value", "name"}:
            raise RowError(f"attachments[{position}] must be an object with type, value and name")
        kind = item.get("type")
        if kind not in ATTACHMENT_TYPES:
            raise RowError(f"attachments[{position}].type must be one of: {', '.join(sorted(ATTACHMENT_TYPES))}")
        limit = MAX_INLINE_TEXT_CHARS if kind == "raw_text" else MAX_URL_CHARS
        value = _text(item, "value", limit, required=True)
        if kind != "raw_text" and not value.startswith(("http://", "https://", "s3://")):
            raise RowError(f"attachments[{position}].value must be an http(s) or s3:// URL")
        out.append((kind, value, _text(item, "name", 255)))
    return out


_COMMON_FIELDS = frozenset({"global_key", "row_data", "media_type", "metadata"})
_HTTP = ("http://", "https://")


def _clean_common(index: int, raw: dict[str, Any], specs: dict[str, FieldSpec]) -> CleanRow | None:
    """The common well-formed JSON row (global key, an http(s) image URL, maybe a media type and metadata) in fewer
    steps, or None for anything else: `clean_row`'s full checks then decide, with their messages. Same results as
    those checks for every row it accepts (a test runs both on a corpus of good and bad rows)."""
    if not raw.keys() <= _COMMON_FIELDS:
        return None
    global_key = raw.get("global_key")
    row_data = raw.get("row_data")
    media_type = raw.get("media_type")
    if (
        type(global_key) is not str
        or type(row_data) is not str
        or not (0 < len(global_key) <= MAX_KEY_CHARS and 0 < len(row_data) <= MAX_URL_CHARS)
        or not (global_key.isascii() and row_data.isascii())
        or "\x00" in global_key
        or "\x00" in row_data
        or not row_data.startswith(_HTTP)
        or _has_space(row_data)
        or (media_type is not None and media_type != "image" and media_type != "text")
    ):
        return None
    metadata_raw = raw.get("metadata")
    if metadata_raw is None:
        metadata: dict[str, Any] = {}
    else:
        try:
            metadata = coerce_metadata(metadata_raw, specs)
        except MetadataError:
            return None
    return CleanRow(index, global_key, "", row_data, media_type or "image", None, None, metadata, [])


def clean_row(
    index: int, raw: Any, specs: dict[str, FieldSpec], upload_prefix: str, *, from_text: bool = False
) -> CleanRow:
    """Validate one row. `from_text`: values come from CSV cells (numbers as strings, empty = absent)."""
    if type(raw) is dict and not from_text and (row := _clean_common(index, raw, specs)) is not None:
        return row
    if not isinstance(raw, dict):
        raise RowError("each row must be a JSON object")
    if not ROW_FIELDS.issuperset(raw):
        unknown = raw.keys() - ROW_FIELDS
        raise RowError(f"unknown field(s): {', '.join(sorted(str(k)[:50] for k in unknown))}")
    global_key = raw.get("global_key")
    if not (type(global_key) is str and 0 < len(global_key) <= MAX_KEY_CHARS and _plain(global_key)):
        global_key = _text(raw, "global_key", MAX_KEY_CHARS, required=True)
    media_type = raw.get("media_type") or "image"
    if media_type not in MEDIA_TYPES:
        raise RowError(f"media_type must be one of {', '.join(sorted(MEDIA_TYPES))}")
    row_data = raw.get("row_data")
    if not (type(row_data) is str and 0 < len(row_data) <= MAX_URL_CHARS and _plain(row_data)):
        row_data = _text(raw, "row_data", MAX_INLINE_TEXT_CHARS, required=True)
    if row_data.startswith(URL_PREFIXES):
        check_reference(row_data, upload_prefix)
    elif media_type == "video":
        raise RowError("row_data of a video must be an http(s) URL, s3://bucket/key or an upload:// reference")
    elif media_type == "image":
        raise RowError("row_data of an image must be an http(s) URL, s3://bucket/key or an upload:// reference")
    metadata_raw = raw.get("metadata")
    try:
        metadata = {} if metadata_raw is None else coerce_metadata(metadata_raw, specs, from_text=from_text)
    except MetadataError as exc:
        raise RowError(str(exc)) from None
    return CleanRow(
        index=index,
        global_key=global_key,
        external_id=_text(raw, "external_id", MAX_KEY_CHARS) if "external_id" in raw else "",
        row_data=row_data,
        media_type=media_type,
        width=_dimension(raw, "width", from_text) if "width" in raw else None,
        height=_dimension(raw, "height", from_text) if "height" in raw else None,
        metadata=metadata,
        attachments=_attachments(raw["attachments"], from_text) if "attachments" in raw else [],
    )


def csv_record_to_row(header: list[str], record: list[str]) -> dict[str, Any]:
    """A CSV record → the row object: `metadata.<name>` columns become the metadata object."""
    if len(record) > len(header):
        raise RowError(f"the record has {len(record)} fields but the header has {len(header)}")
    row: dict[str, Any] = {}
    metadata: dict[str, Any] = {}
    for column, value in zip(header, record, strict=False):
        if column.startswith("metadata."):
            metadata[column[9:]] = value
        elif value != "":
            row[column] = value
    if metadata:
        row["metadata"] = metadata
    return row


def check_csv_header(header: list[str]) -> list[str]:
    """Column names, or ValueError naming the unknown/duplicate ones."""
    columns = [c.strip() for c in header]
    if columns and columns[0].startswith("\ufeff"):
        columns[0] = columns[0][1:]
    bad = [c for c in columns if c not in ROW_FIELDS and not (c.startswith("metadata.") and len(c) > 9)]
    if bad or "metadata" in columns:
        raise ValueError(f"unknown CSV column(s): {', '.join(bad or ['metadata'])}; use metadata.<field> columns")
    if len(set(columns)) != len(columns):
        raise ValueError("duplicate CSV column names")
    return columns
