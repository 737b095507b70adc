"""Agreement of classification answers, including classifications nested under options.

One rule at every level — **a matched parent's score is multiplied by the agreement of its children**:

- `classifications_agreement(a, b)` (a list of `{"schema_id", "answer"}` under one parent): the mean over the
  classification features (schema_ids) present in either list of their answer agreement; a feature answered on
  one side only scores 0; both lists empty → 1.0 (nothing to disagree on). A schema_id repeated in one list (not
  possible after validation) counts once, with its first answer.
- `answer_agreement(a, b)`:
  - radio (an option dict): 0 for different options; for the same option schema_id,
    1 × classifications_agreement(the two options' nested classifications) — so a radio whose nested questions
    are all equal (or absent) scores 1, and one whose nested question disagrees entirely scores 0.
  - checklist (a list of option dicts): a Jaccard index in which each option chosen on both sides counts
    classifications_agreement of its nested classifications instead of 1:
    Σ_{o ∈ A∩B} nested(o) / |A ∪ B|; without nested questions this is |A∩B| / |A∪B|. Both empty → 1.0.
  - text: 1 if equal after collapsing runs of whitespace to one space, trimming and casefolding, else 0.
  - answers of different kinds (a radio on one side, a text on the other) → 0.

Objects (boxes, …) use the same rule with their geometric score as the parent's own score (see `agreement`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def normalize_text(text: str) -> str:
    """Runs of whitespace → one space, trimmed, casefolded."""
    return " ".join(text.split()).casefold()


def _by_schema(items: Sequence[dict[str, Any]]) -> dict[Any, dict[str, Any]]:
    found: dict[Any, dict[str, Any]] = {}
    for item in items:
        found.setdefault(item.get("schema_id"), item)
    return found


def _nested(option: dict[str, Any]) -> list[dict[str, Any]]:
    children = option.get("classifications")
    return children if type(children) is list else []


def answer_agreement(a: Any, b: Any) -> float:
    """Agreement in [0, 1] of two answers to the same classification (rules in the module docstring)."""
    if type(a) is dict and type(b) is dict:
        if a.get("schema_id") != b.get("schema_id"):
            return 0.0
        if "classifications" not in a and "classifications" not in b:
            return 1.0
        return classifications_agreement(_nested(a), _nested(b))
    if type(a) is list and type(b) is list:
        options_a = _by_schema([o for o in a if type(o) is dict])
        options_b = _by_schema([o for o in b if type(o) is dict])
        union = options_a.keys() | options_b.keys()
        if not union:
            return 1.0
        common = sum(
            classifications_agreement(_nested(options_a[key]), _nested(options_b[key]))
            for key in sorted(options_a.keys() & options_b.keys(), key=str)
        )
        return common / len(union)
    if type(a) is str and type(b) is str:
        return 1.0 if a == b or normalize_text(a) == normalize_text(b) else 0.0
    return 0.0


def classifications_agreement(a: Sequence[dict[str, Any]], b: Sequence[dict[str, Any]]) -> float:
    """Mean answer agreement over the classification features present in either list (1.0 if both are empty)."""
    if not a and not b:
        return 1.0
    by_a = _by_schema(a)
    by_b = _by_schema(b)
    keys = list(by_a) + [key for key in by_b if key not in by_a]
    total = 0.0
    for key in keys:
        item_a = by_a.get(key)
        item_b = by_b.get(key)
        if item_a is not None and item_b is not None:
            total += answer_agreement(item_a.get("answer"), item_b.get("answer"))
    return total / len(keys)
