"""Comparing model runs on the same ground truth, pure Python (no Django): metric deltas per class and overall
with their sign, and the rows whose correctness flipped between a baseline run (A) and another run (B).

A row is *correct* in a run when none of its match records is an error (false positive, false negative, confusion);
for one class, when none of its errors involves that class. `broken`: correct in A, wrong in B; `fixed`: wrong in
A, correct in B.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

CLASS_METRICS = ("ap50", "map", "precision", "recall")
OVERALL_METRICS = ("map50", "map", "precision", "recall")
DIRECTIONS = ("broken", "fixed")
EPSILON = 1e-9


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def sign(delta: float | None) -> str | None:
    """`up`, `down` or `same` (within EPSILON); None when either side is undefined."""
    if delta is None:
        return None
    if delta > EPSILON:
        return "up"
    if delta < -EPSILON:
        return "down"
    return "same"


def delta(a: Any, b: Any) -> dict[str, Any]:
    """`{"a", "b", "delta", "sign"}` of one metric (b − a, rounded to 6 places)."""
    va, vb = _number(a), _number(b)
    d = round(vb - va, 6) if va is not None and vb is not None else None
    return {"a": va, "b": vb, "delta": d, "sign": sign(d)}


def metric_deltas(a: Mapping[str, Any], b: Mapping[str, Any], keys: Sequence[str]) -> dict[str, dict[str, Any]]:
    return {key: delta(a.get(key), b.get(key)) for key in keys}


def class_deltas(a: Sequence[Mapping[str, Any]], b: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Per class (by `schema_id`, in A's order then B's new ones): name, supports and the deltas of
    `CLASS_METRICS`. Class dicts carry `schema_id`, `name`, `support` and the metric values."""
    by_b = {c["schema_id"]: c for c in b}
    order = [c["schema_id"] for c in a] + [
        c["schema_id"] for c in b if c["schema_id"] not in {x["schema_id"] for x in a}
    ]
    by_a = {c["schema_id"]: c for c in a}
    out = []
    for key in order:
        ca, cb = by_a.get(key, {}), by_b.get(key, {})
        out.append(
            {
                "schema_id": key,
                "name": ca.get("name") or cb.get("name") or "",
                "support": {"a": ca.get("support"), "b": cb.get("support")},
                **metric_deltas(ca, cb, CLASS_METRICS),
            }
        )
    return out


@dataclass(frozen=True)
class Flip:
    data_row: str
    direction: str  # broken | fixed
    classes: tuple[str, ...]  # the classes of the errors in the run where the row is wrong

    def as_dict(self) -> dict[str, Any]:
        return {"data_row": self.data_row, "direction": self.direction, "classes": list(self.classes)}


def flips(
    rows: Iterable[str],
    errors_a: Mapping[str, Iterable[str]],
    errors_b: Mapping[str, Iterable[str]],
    *,
    klass: str | None = None,
    direction: str | None = None,
) -> list[Flip]:
    """The rows (in the given order) whose correctness differs between A and B — for one class with `klass` —,
    optionally only one `direction`. `errors_*`: row → the classes its errors involve (absent: no error)."""
    if direction is not None and direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {DIRECTIONS}")
    out = []
    for row in rows:
        ea, eb = set(errors_a.get(row, ())), set(errors_b.get(row, ()))
        if klass is not None:
            ea, eb = ea & {klass}, eb & {klass}
        wrong_a, wrong_b = bool(ea), bool(eb)
        if wrong_a == wrong_b:
            continue
        found = "broken" if wrong_b else "fixed"
        if direction is None or found == direction:
            out.append(Flip(row, found, tuple(sorted(eb if wrong_b else ea))))
    return out


def flip_counts(found: Sequence[Flip]) -> dict[str, int]:
    counts = dict.fromkeys(DIRECTIONS, 0)
    for flip in found:
        counts[flip.direction] += 1
    return counts
