"""Flatten a normalized label document into annotation rows (plain dicts; the service turns them into models)."""

from __future__ import annotations

from typing import Any

from apps.ontologies.domain.rle import measures
from apps.ontologies.domain.validation.compiled import GEOMETRY_KEYS


def _answer_kind(answer: Any) -> str:
    if isinstance(answer, list):
        return "checklist"
    if isinstance(answer, dict):
        return "radio"
    return "text"


def _chosen_options(answer: Any) -> list[dict[str, Any]]:
    if isinstance(answer, list):
        return [a for a in answer if isinstance(a, dict)]
    if isinstance(answer, dict):
        return [answer]
    return []


class _Flattener:
    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    def add(self, row: dict[str, Any]) -> int:
        self.rows.append(row)
        return len(self.rows) - 1

    def classifications(self, items: list[dict[str, Any]], index: int, parent: int | None) -> None:
        for item in items:
            answer = item.get("answer")
            position = self.add(
                {
                    "index": index,
                    "parent": parent,
                    "schema_id": item["schema_id"],
                    "name": item.get("name", ""),
                    "kind": _answer_kind(answer),
                    "answer": answer,
                    "confidence": item.get("confidence"),
                }
            )
            for option in _chosen_options(answer):
                self.classifications(option.get("classifications") or [], index, position)

    def tool(self, item: dict[str, Any], index: int) -> None:
        tool = item["tool"]
        geometry: Any = item.get(GEOMETRY_KEYS[tool])
        row: dict[str, Any] = {
            "index": index,
            "parent": None,
            "schema_id": item["schema_id"],
            "name": item.get("name", ""),
            "kind": tool,
            "geometry": geometry,
            "confidence": item.get("confidence"),
        }
        if tool == "bbox":
            row.update(x=geometry["left"], y=geometry["top"], width=geometry["width"], height=geometry["height"])
        elif tool == "point":
            row.update(x=geometry["x"], y=geometry["y"])
        elif tool == "mask":  # the RLE stays in `geometry`; its box and area as columns, for queries without decoding
            row.update(measures(geometry))
        position = self.add(row)
        self.classifications(item.get("classifications") or [], index, position)


def annotation_rows(document: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows in document order; `parent` is the position of the parent row in the returned list, or None.

    A tool gives one row with geometry columns (boxes: x=left, y=top, width, height; points: x, y) followed by its
    nested classifications; a top-level classification gives one row, nested answers follow as its children.
    """
    flattener = _Flattener()
    for index, item in enumerate(document):
        if item.get("tool"):
            flattener.tool(item, index)
        else:
            flattener.classifications([item], index, None)
    return flattener.rows
