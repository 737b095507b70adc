"""One label document, grouped by feature once (not once per pair of labels).

A document is the normalized `Label.annotations` list. Each item is either a tool object (it has a `"tool"`, or
failing that one geometry key: `bbox`, `polygon`, `line`, `point`, `location`) or a top-level classification (it has
an `"answer"`). Features are keyed by `schema_id`. Within one document a feature is one tool kind or one
classification: mixing them is a malformed document (`ValueError`). A top-level classification repeated in one
document (not possible after validation) counts once, with its first answer. Extra keys (`name`, `confidence`,
`data_row`) are ignored.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from apps.ontologies.domain.validation.compiled import GEOMETRY_KEYS
from apps.quality.domain import geometry, masks

GEOMETRY_KEY = GEOMETRY_KEYS  # tool → the key holding its geometry (the ontology validator's table)
_TOOL_BY_KEY = {key: tool for tool, key in GEOMETRY_KEY.items()}
_PREPARE: dict[str, Callable[[list[Any]], Any]] = {
    "bbox": geometry.prepare_boxes,
    "polygon": geometry.prepare_polygons,
    "polyline": geometry.prepare_lines,
    "point": geometry.prepare_points,
    "ner": geometry.prepare_spans,
    "mask": masks.prepare_masks,
}

Extent = tuple[float, float, float, float]  # min x, min y, max x, max y


class ToolGroup:
    """The objects of one tool feature in one document: raw shapes, their geometry (prepared on first use), and each
    object's nested classifications."""

    __slots__ = ("_geometry", "count", "has_nested", "kind", "nested", "shapes")

    def __init__(self, kind: str, items: list[dict[str, Any]]) -> None:
        key = GEOMETRY_KEY[kind]
        self.kind = kind
        self.shapes = [item.get(key) for item in items]
        self.count = len(items)
        self.has_nested = False
        for item in items:
            if item.get("classifications"):
                self.has_nested = True
                break
        # each object's nested classifications (one shared, never modified empty list when there are none)
        self.nested: list[list[dict[str, Any]]] = (
            [_list_or_empty(item.get("classifications")) for item in items] if self.has_nested else [[]] * len(items)
        )
        self._geometry: Any = None

    @property
    def geometry(self) -> Any:
        """What `geometry.prepare_<kind>` returns for this group's shapes."""
        if self._geometry is None:
            self._geometry = prepare_shapes(self.kind, self.shapes)
        return self._geometry


class PreparedDocument:
    """A document grouped by feature: tool groups, top-level answers, features in order of first appearance."""

    __slots__ = ("_extent", "classifications", "features", "tools")

    def __init__(self, tools: dict[str, ToolGroup], classifications: dict[str, Any], features: list[str]) -> None:
        self.tools = tools
        self.classifications = classifications  # schema_id → answer
        self.features = features
        self._extent: Extent | bool | None = False  # False: not computed yet

    @property
    def extent(self) -> Extent | None:
        """Bounding box of the point-tool points and polyline vertices (all features); None without any."""
        if self._extent is False:
            coordinates = []
            for group in self.tools.values():
                if group.kind == "point":
                    coordinates.append(group.geometry)
                elif group.kind == "polyline":
                    coordinates.append(group.geometry.coords)
            self._extent = _extent(coordinates)
        return self._extent  # type: ignore[return-value]


def _list_or_empty(value: Any) -> list[Any]:
    return value if type(value) is list else []


def prepare_shapes(kind: str, shapes: list[Any]) -> Any:
    """Raw geometry values of one tool kind → `geometry.prepare_<kind>` (non-list/non-dict values become empty)."""
    if kind in ("polygon", "polyline"):
        shapes = [s if type(s) is list else [] for s in shapes]
    elif kind != "bbox":  # prepare_boxes copes with anything
        shapes = [s if type(s) is dict else {} for s in shapes]
    return _PREPARE[kind](shapes)


def _tool_of(item: dict[str, Any]) -> str | None:
    tool = item.get("tool")
    if tool is not None:
        if type(tool) is not str or tool not in GEOMETRY_KEY:
            raise ValueError(f"Unknown tool {tool!r}.")
        return tool
    for key, name in _TOOL_BY_KEY.items():
        if key in item:
            return name
    return None


def _extent(coordinates: list[geometry.FloatArray]) -> Extent | None:
    if not coordinates:
        return None
    array = np.concatenate(coordinates)
    array = array[np.isfinite(array).all(axis=1)]
    if not len(array):
        return None
    low = array.min(axis=0)
    high = array.max(axis=0)
    return (float(low[0]), float(low[1]), float(high[0]), float(high[1]))


def prepare(document: Sequence[dict[str, Any]]) -> PreparedDocument:
    """Group a document by feature (tool objects by schema_id, top-level answers by schema_id)."""
    grouped: dict[str, tuple[str, list[dict[str, Any]]]] = {}
    classifications: dict[str, Any] = {}
    order: list[str] = []
    for index, item in enumerate(document):
        if type(item) is not dict:
            raise ValueError(f"annotations[{index}] is not an object.")
        schema_id = item.get("schema_id")
        tool = item.get("tool")
        if type(schema_id) is not str:
            raise ValueError(f"annotations[{index}] has no schema_id.")
        if type(tool) is not str or tool not in GEOMETRY_KEY:
            tool = None if tool is None and "answer" in item else _tool_of(item)
            if tool is None:
                if "answer" not in item:
                    raise ValueError(f"annotations[{index}] is neither a tool object nor a classification.")
                if schema_id not in classifications:
                    classifications[schema_id] = item["answer"]
                    order.append(schema_id)
                continue
        group = grouped.get(schema_id)
        if group is None:
            grouped[schema_id] = (tool, [item])
            order.append(schema_id)
        elif group[0] == tool:
            group[1].append(item)
        else:
            raise ValueError(f"Feature {schema_id} mixes tools {group[0]!r} and {tool!r}.")
    if classifications and grouped:
        both = grouped.keys() & classifications.keys()
        if both:
            raise ValueError(f"Feature {min(both)} is both a tool and a classification.")
    tools = {schema_id: ToolGroup(tool, items) for schema_id, (tool, items) in grouped.items()}
    return PreparedDocument(tools, classifications, order)
