"""Export filters: parse and validate what a client sent (JSON object or query string) into `ExportFilters`.

Pure: no Django. Metadata values are checked against the organization's metadata schema by the selector."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

STATES = ("to_label", "in_progress", "in_review", "in_rework", "done", "skipped")
LABEL_MODES = ("all", "approved", "consensus_winner")
LIST_KEYS = ("state", "batch", "labeler", "global_keys")
KNOWN_KEYS = frozenset({*LIST_KEYS, "label", "label_created_from", "label_created_to", "metadata"})
MAX_LIST = 10_000


class FilterError(Exception):
    def __init__(self, details: dict[str, list[str]]) -> None:
        self.details = details
        super().__init__("Invalid export filters.")


@dataclass(frozen=True)
class ExportFilters:
    states: tuple[str, ...] = ()
    batch_ids: tuple[str, ...] = ()
    labeler_ids: tuple[str, ...] = ()
    global_keys: tuple[str, ...] = ()
    label_created_from: datetime | None = None
    label_created_to: datetime | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    label: str = "all"

    @property
    def filters_labels(self) -> bool:
        """Whether labels themselves are filtered (by labeler or creation time), not only rows."""
        return bool(self.labeler_ids or self.label_created_from or self.label_created_to)

    def as_dict(self) -> dict[str, Any]:
        """The normalized JSON form (stored on the export, accepted again by `parse_filters`)."""
        out: dict[str, Any] = {"label": self.label}
        for key, values in (
            ("state", self.states),
            ("batch", self.batch_ids),
            ("labeler", self.labeler_ids),
            ("global_keys", self.global_keys),
        ):
            if values:
                out[key] = list(values)
        if self.label_created_from:
            out["label_created_from"] = self.label_created_from.isoformat()
        if self.label_created_to:
            out["label_created_to"] = self.label_created_to.isoformat()
        if self.metadata:
            out["metadata"] = dict(self.metadata)
        return out


def _as_list(value: Any, key: str, errors: dict[str, list[str]], *, split: bool) -> list[str]:
    items: list[Any]
    if isinstance(value, str):
        items = [v.strip() for v in value.split(",")] if split else [value]
    elif isinstance(value, list | tuple):
        items = list(value)
    else:
        errors[key] = ["A string or a list of strings."]
        return []
    if not all(isinstance(v, str) for v in items):
        errors[key] = ["Every value must be a string."]
        return []
    items = [v for v in items if v != ""]
    if len(items) > MAX_LIST:
        errors[key] = [f"At most {MAX_LIST} values."]
        return []
    return list(dict.fromkeys(items))


def _uuids(values: Iterable[str], key: str, errors: dict[str, list[str]]) -> tuple[str, ...]:
    out = []
    for value in values:
        try:
            out.append(str(uuid.UUID(value)))
        except ValueError:
            errors[key] = [f"Not an id: {value[:64]!r}."]
            return ()
    return tuple(out)


def _timestamp(value: Any, key: str, errors: dict[str, list[str]]) -> datetime | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        errors[key] = ["An ISO 8601 timestamp."]
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        errors[key] = ["An ISO 8601 timestamp."]
        return None
    if parsed.tzinfo is None:
        errors[key] = ["The timestamp needs a time zone (e.g. 2026-01-31T00:00:00Z)."]
        return None
    return parsed


def parse_filters(raw: Any, *, from_query: bool = False) -> ExportFilters:
    """Validate a filters object. `metadata.<field>` keys are accepted as well as a `metadata` object.

    From a query string (`from_query`), list values may be comma-separated (except `global_keys`, which repeat)."""
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise FilterError({"filters": ["Must be an object."]})
    errors: dict[str, list[str]] = {}
    metadata: dict[str, Any] = {}
    for key, value in raw.items():
        if not isinstance(key, str):
            errors[str(key)] = ["Unknown filter."]
        elif key.startswith("metadata."):
            name = key[len("metadata.") :]
            if not name:
                errors[key] = ["Name a metadata field: metadata.<field>."]
            else:
                metadata[name] = value
        elif key not in KNOWN_KEYS:
            errors[key] = [f"Unknown filter. Known: {', '.join(sorted(KNOWN_KEYS))}, metadata.<field>."]
    if "metadata" in raw:
        if not isinstance(raw["metadata"], Mapping) or not all(isinstance(k, str) and k for k in raw["metadata"]):
            errors["metadata"] = ["An object of metadata field name to value."]
        else:
            metadata.update(raw["metadata"])
    for name, value in metadata.items():
        if isinstance(value, list | dict) or value is None:
            errors[f"metadata.{name}"] = ["A single value (string, number or timestamp)."]

    def listed(key: str) -> list[str]:
        if key not in raw:
            return []
        return _as_list(raw[key], key, errors, split=from_query and key != "global_keys")

    states = listed("state")
    bad_states = [s for s in states if s not in STATES]
    if bad_states:
        errors["state"] = [f"Unknown state {bad_states[0][:64]!r}; one of: {', '.join(STATES)}."]
    batch_ids = _uuids(listed("batch"), "batch", errors)
    labeler_ids = _uuids(listed("labeler"), "labeler", errors)
    global_keys = tuple(listed("global_keys"))
    created_from = _timestamp(raw.get("label_created_from"), "label_created_from", errors)
    created_to = _timestamp(raw.get("label_created_to"), "label_created_to", errors)
    if created_from and created_to and created_to <= created_from:
        errors["label_created_to"] = ["Must be after label_created_from."]
    label = raw.get("label", "all") or "all"
    if label not in LABEL_MODES:
        errors["label"] = [f"One of: {', '.join(LABEL_MODES)}."]
    if errors:
        raise FilterError(errors)
    return ExportFilters(
        states=tuple(states),
        batch_ids=batch_ids,
        labeler_ids=labeler_ids,
        global_keys=global_keys,
        label_created_from=created_from,
        label_created_to=created_to,
        metadata={k: (str(v) if not isinstance(v, str) else v) for k, v in metadata.items()},
        label=label,
    )


def query_to_raw(items: Iterable[tuple[str, list[str]]]) -> dict[str, Any]:
    """A query string (key → every value given) as a raw filters object: repeated keys become lists."""
    raw: dict[str, Any] = {}
    for key, values in items:
        raw[key] = values if len(values) > 1 or key == "global_keys" else values[0]
    return raw
