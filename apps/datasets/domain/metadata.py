"""Metadata schema: field specs (the organization's `MetadataField`s plus the built-in `split` and `tag`) and the
coercion of one value. Pure Python, no Django: the import loop calls it 100,000s of times."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

STRING = "string"
NUMBER = "number"
DATETIME = "datetime"
ENUM = "enum"
TAGS = "tags"  # built-in `tag`: one string or a list of strings, stored as a list
KINDS = (STRING, NUMBER, DATETIME, ENUM)

MAX_STRING_CHARS = 4096
MAX_TAGS = 100
SPLIT_VALUES = ("train", "valid", "test")
RESERVED_NAMES = frozenset({"split", "tag"})


class MetadataError(ValueError):
    """A value does not fit its field; the message is shown to the API client."""


@dataclass(frozen=True, slots=True)
class FieldSpec:
    name: str
    kind: str
    options: frozenset[str] = frozenset()


BUILTIN_SPECS: dict[str, FieldSpec] = {
    "split": FieldSpec("split", ENUM, frozenset(SPLIT_VALUES)),
    "tag": FieldSpec("tag", TAGS),
}


def compile_specs(fields: list[tuple[str, str, list[str]]]) -> dict[str, FieldSpec]:
    """`(name, kind, options)` of the organization's fields → specs by name, with the built-ins."""
    specs = dict(BUILTIN_SPECS)
    for name, kind, options in fields:
        if name not in RESERVED_NAMES:
            specs[name] = FieldSpec(name, kind, frozenset(options))
    return specs


def check_text(value: str) -> str | None:
    """Why a string cannot be stored (NUL byte, lone surrogate), or None."""
    if value.isascii():
        return "contains a NUL character" if "\x00" in value else None
    if "\x00" in value:
        return "contains a NUL character"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "contains an invalid unicode code point (lone surrogate)"
    return None


def _string(spec: FieldSpec, value: Any) -> str:
    if not isinstance(value, str):
        raise MetadataError(f"metadata.{spec.name} must be a string")
    if len(value) > MAX_STRING_CHARS:
        raise MetadataError(f"metadata.{spec.name} is longer than {MAX_STRING_CHARS} characters")
    if problem := check_text(value):
        raise MetadataError(f"metadata.{spec.name} {problem}")
    return value


def _number(spec: FieldSpec, value: Any, from_text: bool) -> int | float:
    if from_text and isinstance(value, str):
        text = value.strip()
        try:
            value = int(text)
        except ValueError:
            try:
                value = float(text)
            except ValueError:
                raise MetadataError(f"metadata.{spec.name} must be a number, got {text[:50]!r}") from None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise MetadataError(f"metadata.{spec.name} must be a number")
    if isinstance(value, float) and not math.isfinite(value):
        raise MetadataError(f"metadata.{spec.name} must be a finite number")
    if isinstance(value, int) and abs(value) > 2**63:
        raise MetadataError(f"metadata.{spec.name} is out of range")
    return value


@lru_cache(maxsize=65536)  # imports repeat timestamps (per second/minute/day): a pure function worth caching
def parse_datetime_value(value: str) -> str:
    """ISO 8601 → normalized UTC ISO string (naive times are taken as UTC). Raises ValueError."""
    text = value.strip()
    if not text or len(text) > 64:
        raise ValueError("empty or too long")
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).isoformat()


def _datetime(spec: FieldSpec, value: Any) -> str:
    if not isinstance(value, str):
        raise MetadataError(f"metadata.{spec.name} must be an ISO 8601 datetime string")
    try:
        return parse_datetime_value(value)
    except ValueError:
        raise MetadataError(f"metadata.{spec.name} must be an ISO 8601 datetime, got {value[:50]!r}") from None


def _enum(spec: FieldSpec, value: Any) -> str:
    if not isinstance(value, str) or value not in spec.options:
        allowed = ", ".join(sorted(spec.options))
        raise MetadataError(f"metadata.{spec.name} must be one of: {allowed}")
    return value


def _tags(spec: FieldSpec, value: Any, from_text: bool) -> list[str]:
    if isinstance(value, str):
        items = [v.strip() for v in value.split("|")] if from_text else [value]
    elif isinstance(value, list):
        items = value
    else:
        raise MetadataError(f"metadata.{spec.name} must be a string or a list of strings")
    if len(items) > MAX_TAGS:
        raise MetadataError(f"metadata.{spec.name} has more than {MAX_TAGS} tags")
    out: list[str] = []
    for item in items:
        text = _string(spec, item)
        if text and text not in out:
            out.append(text)
    return out


def coerce_value(spec: FieldSpec, value: Any, *, from_text: bool = False) -> Any:
    """The stored form of one metadata value, or MetadataError."""
    kind = spec.kind
    if kind == STRING:
        return _string(spec, value)
    if kind == NUMBER:
        return _number(spec, value, from_text)
    if kind == ENUM:
        return _enum(spec, value)
    if kind == DATETIME:
        return _datetime(spec, value)
    return _tags(spec, value, from_text)


def coerce_metadata(raw: Any, specs: dict[str, FieldSpec], *, from_text: bool = False) -> dict[str, Any]:
    """Validate a row's metadata object. Null values (and empty CSV cells) mean "no value"."""
    if not isinstance(raw, dict):
        raise MetadataError("metadata must be an object")
    out: dict[str, Any] = {}
    for name, value in raw.items():
        if value is None or (from_text and value == ""):
            continue
        spec = specs.get(name)
        if spec is None:
            raise MetadataError(f"unknown metadata field {str(name)[:100]!r} (create it with POST /metadata_fields)")
        # Fast paths for the common cases (this runs for every value of every imported row).
        kind = spec.kind
        value_type = type(value)
        if kind == STRING:
            if value_type is str and len(value) <= MAX_STRING_CHARS and value.isascii() and "\x00" not in value:
                out[name] = value
                continue
        elif kind == NUMBER and (
            (value_type is float and math.isfinite(value)) or (value_type is int and -(2**63) <= value <= 2**63)
        ):
            out[name] = value
            continue
        out[name] = coerce_value(spec, value, from_text=from_text)
    return out


def filter_value(spec: FieldSpec, raw: str) -> Any:
    """A query-string value as it is stored, for an exact-match filter. Raises MetadataError."""
    value = coerce_value(spec, raw, from_text=True)
    if spec.kind == TAGS:
        return value[:1]
    return value
