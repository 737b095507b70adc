"""What a labeler did with the pre-labels they were shown, decided from the stored pre-labels (never trusted from
the client): each annotation of the label that names a pre-label of its row is `accepted` (same feature, geometry
within 1e-6, same answers) or `modified`; any other annotation was `added` by hand; pre-labels of the row that no
annotation names were `rejected`."""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from apps.ontologies.domain.validation.compiled import GEOMETRY_KEYS as TOOL_GEOMETRY_KEYS

EPS = 1e-6
GEOMETRY_KEYS = tuple(TOOL_GEOMETRY_KEYS.values())  # every tool's geometry key, masks included


@dataclass(frozen=True)
class Outcome:
    index: int | None  # position in the label; None for a rejected pre-label
    prelabel: str | None
    schema_id: str
    name: str
    outcome: str  # accepted | modified | added | rejected


def _close(a: Any, b: Any) -> bool:
    number = (int, float)
    if isinstance(a, number) and isinstance(b, number) and not isinstance(a, bool) and not isinstance(b, bool):
        return math.isclose(float(a), float(b), rel_tol=0.0, abs_tol=EPS)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def _option_key(option: Any) -> Any:
    if not isinstance(option, dict):
        return option
    return (str(option.get("schema_id")), _answers_key(option.get("classifications") or []))


def _answer_key(answer: Any) -> Any:
    if isinstance(answer, list):  # checklist: the chosen options, in any order
        return ("checklist", frozenset(_option_key(o) for o in answer))
    if isinstance(answer, dict):  # radio
        return ("radio", _option_key(answer))
    return ("text", answer)


def _answers_key(classifications: Sequence[Any]) -> frozenset[Any]:
    """Answers under one parent, compared by feature and chosen options (names, order and confidences ignored)."""
    return frozenset(
        (str(c.get("schema_id")), _answer_key(c.get("answer"))) for c in classifications if isinstance(c, dict)
    )


def _keyframes(item: Mapping[str, Any]) -> list[Any]:
    frames = item.get("keyframes")
    if not isinstance(frames, list):
        return []
    return [{k: v for k, v in f.items() if k != "confidence"} if isinstance(f, dict) else f for f in frames]


def same_annotation(label_annotation: Mapping[str, Any], prelabel: Mapping[str, Any]) -> bool:
    """Whether a normalized label annotation is the normalized pre-label unchanged."""
    if str(label_annotation.get("schema_id")) != str(prelabel.get("schema_id")):
        return False
    for key in GEOMETRY_KEYS:
        if (key in label_annotation) != (key in prelabel):
            return False
        if key in prelabel and not _close(label_annotation[key], prelabel[key]):
            return False
    # a video track: every keyframe, confidences aside
    is_track = "keyframes" in label_annotation or "keyframes" in prelabel
    if is_track and not _close(_keyframes(label_annotation), _keyframes(prelabel)):
        return False
    if "answer" in prelabel or "answer" in label_annotation:
        return bool(_answer_key(label_annotation.get("answer")) == _answer_key(prelabel.get("answer")))
    return _answers_key(label_annotation.get("classifications") or []) == _answers_key(
        prelabel.get("classifications") or []
    )


def _canonical(reference: str | None) -> str | None:
    if reference is None:
        return None
    try:
        return str(uuid.UUID(reference))
    except ValueError:
        return None


def classify(
    document: Sequence[Mapping[str, Any]],
    references: Sequence[str | None],
    prelabels: Mapping[str, Mapping[str, Any]],
) -> list[Outcome]:
    """Outcomes for a label's annotations (`document`, normalized) given the pre-label reference each carried
    (`references`, aligned) and the row's stored pre-labels (`{uuid: normalized annotation}`). A reference to a
    pre-label of another row, a made-up one, or one already used by an earlier annotation counts as added."""
    outcomes: list[Outcome] = []
    used: set[str] = set()
    for index, annotation in enumerate(document):
        reference = _canonical(references[index]) if index < len(references) else None
        schema_id = str(annotation.get("schema_id"))
        name = str(annotation.get("name", ""))
        if reference is not None and reference in prelabels and reference not in used:
            used.add(reference)
            kept = same_annotation(annotation, prelabels[reference])
            outcomes.append(Outcome(index, reference, schema_id, name, "accepted" if kept else "modified"))
        else:
            outcomes.append(Outcome(index, None, schema_id, name, "added"))
    for reference, prelabel in prelabels.items():
        if reference not in used:
            outcomes.append(
                Outcome(None, reference, str(prelabel.get("schema_id")), str(prelabel.get("name", "")), "rejected")
            )
    return outcomes
