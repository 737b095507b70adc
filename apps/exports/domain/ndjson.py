"""The NDJSON line builder: one JSON object per data row, encoded compactly.

Label documents arrive as `RawJSON` (the database's own JSON text) and are spliced into the line unparsed: decoding
and re-encoding five boxes per row would be most of an export's CPU time. The splice uses a per-encoder random token,
so user text can never be mistaken for a placeholder.
"""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import orjson


class RawJSON:
    """Already-encoded JSON text to put into a line as is."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return f"RawJSON({self.text[:40]!r})"


class LineEncoder:
    def __init__(self) -> None:
        self._nonce = secrets.token_hex(12)

    def encode(self, obj: Any) -> str:
        raws: list[str] = []
        nonce = self._nonce

        def default(value: Any) -> Any:
            if isinstance(value, RawJSON):
                raws.append(value.text)
                return f"\x00{nonce}:{len(raws) - 1}"
            if isinstance(value, datetime | date):
                return value.isoformat()
            if isinstance(value, uuid.UUID):
                return str(value)
            if isinstance(value, Decimal):
                return float(value)
            raise TypeError(f"Cannot export a {type(value).__name__}.")

        text = json.dumps(obj, default=default, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        for index, raw in enumerate(raws):
            text = text.replace(f'"\\u0000{nonce}:{index}"', raw, 1)
        return text


@dataclass(slots=True)
class LabelEntry:
    """One current label of a row, with what the label filters need; `payload` is the label's JSON text (NDJSON) or
    its parsed annotation document (image formats)."""

    id: str
    task_state: str
    labeler_id: str
    created_at: datetime
    slot: int
    payload: Any


class PageIds(list[str]):
    """The data row ids of a page (strings, in id order). `id_range` is `(first, last)` when the page holds every
    project row between them (no row filter): loaders may then scan that id range instead of matching a long list."""

    id_range: tuple[str, str] | None = None

    @classmethod
    def of(cls, ids: Iterable[str], *, contiguous: bool) -> PageIds:
        page = cls(ids)
        if contiguous and page:
            page.id_range = (page[0], page[-1])
        return page


def select_labels(
    labels: Sequence[LabelEntry],
    *,
    mode: str,
    winner: str | None = None,
    labeler_ids: Iterable[str] = (),
    created_from: datetime | None = None,
    created_to: datetime | None = None,
) -> list[LabelEntry]:
    """The labels of one row to export.

    `all`: every current label (one per task slot); `approved`: the current label of tasks in `done` state;
    `consensus_winner`: the label `winner` names, else the `approved` ones. Labeler and creation-time filters then
    keep only matching labels."""
    if mode == "consensus_winner" and winner is not None:
        chosen = [label for label in labels if label.id == winner]
    elif mode in ("approved", "consensus_winner"):
        chosen = [label for label in labels if label.task_state == "done"]
    else:
        chosen = list(labels)
    labelers = set(labeler_ids)
    if labelers:
        chosen = [label for label in chosen if label.labeler_id in labelers]
    if created_from is not None:
        chosen = [label for label in chosen if label.created_at >= created_from]
    if created_to is not None:
        chosen = [label for label in chosen if label.created_at < created_to]
    return chosen


def splice(obj_json: str, extra: str) -> str:
    """Add `"key":value` members (already encoded, comma-separated) to an encoded JSON object."""
    if not extra:
        return obj_json
    return f"{obj_json[:-1]},{extra}}}" if obj_json != "{}" else f"{{{extra}}}"


def seconds_json(value: float | None) -> str:
    return "null" if value is None else repr(round(value, 3))


def annotation_count(text: str) -> int:
    """Top-level annotations of the exported labels of a page of NDJSON lines (the export job's `annotations`)."""
    total = 0
    for line in text.splitlines():
        if line:
            labels = orjson.loads(line).get("labels") or []
            total += sum(len(label.get("annotations") or []) for label in labels if isinstance(label, dict))
    return total
