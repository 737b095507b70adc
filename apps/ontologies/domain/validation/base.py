"""The validator's shared state (error list, geometry collected for the bulk checks) and small helpers."""

from __future__ import annotations

from typing import Any

from apps.ontologies.domain.validation.compiled import GEOMETRY_KEYS, CompiledOntology

_GEOMETRY_TOOL = {v: k for k, v in GEOMETRY_KEYS.items()}
_NUMBER = (int, float)
_NUMBER_TYPES = frozenset({int, float})
_EPS = 1e-6
# `slice`: the 1-based position in an image stack (a DICOM series) the object was drawn on; the labeling app asks the
# app that knows stacks whether the row has that slice (`registry.register_label_check`).
_TOOL_KEYS = frozenset(
    {"name", "schema_id", "classifications", "confidence", "data_row", "slice", *GEOMETRY_KEYS.values()}
)
MAX_SLICE = 100_000
_CLASSIFICATION_KEYS = frozenset({"name", "schema_id", "answer", "confidence", "data_row"})
_NESTED_KEYS = frozenset({"name", "schema_id", "answer"})
_ANSWER_KEYS = frozenset({"name", "schema_id", "classifications", "confidence"})


def _is_number(value: Any) -> bool:
    return type(value) in _NUMBER_TYPES


def _str_or_none(value: Any) -> str | None:
    return value if type(value) is str else None


def _fmt(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class ValidatorBase:
    def __init__(
        self,
        compiled: CompiledOntology,
        image_size: tuple[float, float] | None,
        text_length: int | None,
        allow_archived: bool,
    ) -> None:
        self.c = compiled
        self.image_size = image_size
        self.text_length = text_length
        self.allow_archived = allow_archived
        self.errors: list[tuple[int, str, str]] = []
        self.bad: set[int] = set()
        # Boxes collected for the bulk numeric check: (index, path, top, left, height, width).
        self.box_index: list[int] = []
        self.box_values: list[tuple[Any, Any, Any, Any]] = []
        self.polygons: list[tuple[int, str, list[tuple[float, float]]]] = []

    def fail(self, index: int, path: str, message: str) -> None:
        self.errors.append((index, path, message))
        self.bad.add(index)
