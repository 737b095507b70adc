"""NDJSON import lines of pre-labels and predictions, without the database.

`iter_lines` splits a byte stream into numbered lines (memory bounded by the longest line); `parse_line` decodes one
line (UTF-8, one JSON object per line) and takes off the import-only keys (`data_row`, `uuid`, `confidence`), which
leaves the annotation in the API.md format for the one validator (without them, boxes take its fast path).
"""

from __future__ import annotations

import uuid as uuid_module
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from hashlib import blake2b as _blake2b
from typing import Any

import orjson

from apps.core import json_limits
from apps.core.domain.numbers import is_finite_number
from apps.ontologies.domain.validation.compiled import GEOMETRY_KEYS as TOOL_GEOMETRY_KEYS

# The annotation keys that carry a tool's geometry (the ontology validator's one table: boxes, polygons, lines,
# points, NER spans, masks).
GEOMETRY_KEYS = frozenset(TOOL_GEOMETRY_KEYS.values())
VIDEO_KEYS = frozenset({"keyframes", "track_id", "frames"})  # a video track or a per-frame classification
# Deterministic annotation ids for lines without a `uuid`: a digest of (data row, normalized annotation).
_KEY = b"tdp-prelabel-uuid-v1"
_KEYED = _blake2b(digest_size=16, key=_KEY)
_VARIANT = {c: "89ab"[int(c, 16) & 3] for c in "0123456789abcdef"}  # RFC 9562 variant bits 10
_BOM = b"\xef\xbb\xbf"


class LineError(ValueError):
    """A line that cannot be imported; the message is reported with its line number."""


@dataclass(slots=True)
class ParsedLine:
    number: int
    global_key: str | None
    row_id: str | None
    uuid: str | None
    confidence: float | None
    annotation: dict[str, Any]

    @property
    def is_tool(self) -> bool:
        """Geometry present: a tool annotation (validated in bulk); else a classification (validated alone)."""
        return not GEOMETRY_KEYS.isdisjoint(self.annotation)

    @property
    def is_video(self) -> bool:
        """A video track (`track_id`, `keyframes`) or a per-frame classification (`frames`)."""
        return not VIDEO_KEYS.isdisjoint(self.annotation)


def iter_lines(chunks: Iterable[bytes], max_line_bytes: int) -> Iterator[tuple[int, bytes | None]]:
    """`(line number from 1, bytes)` for every non-blank line; `(number, None)` for a line longer than
    `max_line_bytes` (its bytes are dropped as they arrive, so memory stays bounded)."""
    for batch in iter_line_batches(chunks, max_line_bytes):
        yield from batch


def iter_line_batches(
    chunks: Iterable[bytes], max_line_bytes: int, batch_lines: int = 5000
) -> Iterator[list[tuple[int, bytes | None]]]:
    """`iter_lines` in lists of about `batch_lines` lines (at least that many, but for the last list): each chunk is
    split in one call, not searched line by line."""
    number = 0
    pending = b""
    overflow = False
    first = True
    batch: list[tuple[int, bytes | None]] = []
    append = batch.append
    for chunk in chunks:
        if first and chunk:
            first = False
            if chunk.startswith(_BOM):
                chunk = chunk[len(_BOM) :]
        parts = chunk.split(b"\n")
        if len(parts) > 1:
            # The first part ends the line that started in an earlier chunk.
            head = parts[0]
            number += 1
            if overflow:
                append((number, None))
            else:
                line = pending + head if pending else head
                if len(line) > max_line_bytes:
                    append((number, None))
                elif line.strip():
                    append((number, line))
            pending = b""
            overflow = False
            for line in parts[1:-1]:
                number += 1
                if len(line) > max_line_bytes:
                    append((number, None))
                elif line.strip():
                    append((number, line))
        if not overflow:
            pending += parts[-1]
            if len(pending) > max_line_bytes:
                overflow = True
                pending = b""
        if len(batch) >= batch_lines:
            yield batch
            batch = []
            append = batch.append
    if overflow:
        append((number + 1, None))
    elif pending.strip():
        append((number + 1, pending))
    if batch:
        yield batch


def _uuid(value: Any) -> str:
    if type(value) is not str or len(value) > 64:
        raise LineError("uuid must be a UUID string.")
    try:
        return str(uuid_module.UUID(value))
    except ValueError:
        raise LineError(f"uuid {value[:40]!r} is not a UUID.") from None


def _confidence(value: Any) -> float | None:
    if value is None:
        return None
    if type(value) not in (int, float):
        raise LineError("confidence must be a number from 0 to 1.")
    if not is_finite_number(value):
        raise LineError("confidence must be a finite number from 0 to 1 (not NaN or Infinity).")
    if not 0 <= value <= 1:
        raise LineError(f"confidence {value!r} is outside [0, 1].")
    return float(value)


def parse_line(number: int, raw: bytes | None, max_line_bytes: int = 0) -> ParsedLine:
    """One line → its parts, or LineError with the reason."""
    if raw is None:
        raise LineError(f"The line is longer than {max_line_bytes} bytes." if max_line_bytes else "Line too long.")
    try:
        value = orjson.loads(raw)  # strict JSON and UTF-8, several times faster than json.loads
    except orjson.JSONDecodeError:
        # Not strict JSON (NaN, Infinity, huge integers, lone surrogates) or not UTF-8: the standard parser decides,
        # and gives the precise reason (a NaN confidence is then reported as such below).
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise LineError(f"The line is not valid UTF-8 (byte {exc.start}).") from None
        try:
            value = json_limits.loads(text)
        except ValueError as exc:
            raise LineError(f"Malformed JSON: {exc}.") from None
    if type(value) is not dict:
        raise LineError("Each line must be one JSON object (an annotation with its data_row).")
    ref = value.pop("data_row", None)
    if type(ref) is not dict or len(ref) != 1 or not ({"global_key", "id"} & ref.keys()):
        raise LineError('data_row is required: {"global_key": "..."} or {"id": "..."}.')
    global_key = ref.get("global_key")
    row_id = ref.get("id")
    if global_key is not None and (type(global_key) is not str or not global_key or len(global_key) > 255):
        raise LineError("data_row.global_key must be a non-empty string.")
    if row_id is not None and type(row_id) is not str:
        raise LineError("data_row.id must be a string.")
    given_uuid = _uuid(value.pop("uuid")) if "uuid" in value else None
    confidence = _confidence(value.pop("confidence", None))
    return ParsedLine(number, global_key, row_id, given_uuid, confidence, value)


def derived_uuid(data_row_id: str, normalized_json: str | bytes) -> str:
    """The id of an annotation imported without one: the same row and content give the same id (idempotent
    re-imports), different content a different one. A keyed 128-bit BLAKE2b digest shaped as a version-8 (custom)
    UUID: 5x cheaper than uuid5's SHA-1 plus UUID object, which shows at 50,000 lines."""
    content = normalized_json if isinstance(normalized_json, bytes) else normalized_json.encode()
    digest = _KEYED.copy()  # the same digest as blake2b(row + "\n" + content, key=_KEY), without keying each time
    digest.update(data_row_id.encode() + b"\n")
    digest.update(content)
    h = digest.hexdigest()
    return f"{h[:8]}-{h[8:12]}-8{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:]}"


def annotation_kind(normalized: dict[str, Any]) -> str:
    """bbox / polygon / polyline / point / ner for tools; radio / checklist / text for classifications."""
    tool = normalized.get("tool")
    if tool:
        return str(tool)
    answer = normalized.get("answer")
    if isinstance(answer, list):
        return "checklist"
    if isinstance(answer, str):
        return "text"
    return "radio"


def parse_lines(
    raws: list[tuple[int, bytes | None]], max_line_bytes: int = 0
) -> tuple[list[ParsedLine], list[tuple[int, str]]]:
    """`parse_line` over a chunk: the common line (strict JSON, a global key or id, an optional float confidence in
    [0, 1], no uuid) is taken apart inline; any other line goes through `parse_line`, which also explains errors.
    Returns the parsed lines and `(line number, reason)` for the bad ones."""
    parsed: list[ParsedLine] = []
    errors: list[tuple[int, str]] = []
    loads = orjson.loads
    decode_error = orjson.JSONDecodeError
    append = parsed.append
    for number, raw in raws:
        if raw is not None:
            try:
                value = loads(raw)
            except decode_error:
                value = None
            if type(value) is dict and "uuid" not in value:
                ref = value.pop("data_row", None)
                confidence = value.pop("confidence", None)
                if type(ref) is dict and len(ref) == 1 and (confidence is None or type(confidence) is float):
                    key = ref.get("global_key")
                    row_id = ref.get("id")
                    if (
                        (type(key) is str and 0 < len(key) <= 255 and row_id is None)
                        or (key is None and type(row_id) is str)
                    ) and (confidence is None or 0.0 <= confidence <= 1.0):
                        append(ParsedLine(number, key, row_id, None, confidence, value))
                        continue
        try:
            append(parse_line(number, raw, max_line_bytes))
        except LineError as exc:
            errors.append((number, str(exc)))
    return parsed, errors
