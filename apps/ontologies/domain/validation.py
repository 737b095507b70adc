"""The one annotation validator: labels, pre-labels, predictions and imports all come through here.

`compile_ontology(tree)` turns a normalized ontology version into lookup tables once (cache the result per
version: versions are immutable). `validate_annotations(compiled, annotations, ...)` checks a list of annotations in
the API.md format and returns `(normalized, errors)`:

- `normalized[i]` is the normalized annotation `i` (features referenced by `schema_id`, names kept) or `None` when
  that annotation has an error;
- `errors` is a list of `{"index": i, "path": "annotations[i]....", "message": "..."}`, sorted by index.

Speed: per annotation the work is a few dict lookups and one output dict; box coordinates are checked in bulk with
numpy after the loop, polygons with shapely's array functions.
"""

from __future__ import annotations

import gc
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely

from apps.ontologies.domain.tree import TEXT_MAX_LENGTH_DEFAULT, Tree

GEOMETRY_KEYS: dict[str, str] = {
    "bbox": "bbox",
    "polygon": "polygon",
    "polyline": "line",
    "point": "point",
    "ner": "location",
}
_GEOMETRY_TOOL = {v: k for k, v in GEOMETRY_KEYS.items()}
_NUMBER = (int, float)
_NUMBER_TYPES = frozenset({int, float})
_EPS = 1e-6
_TOOL_KEYS = frozenset({"name", "schema_id", "classifications", "confidence", "data_row", *GEOMETRY_KEYS.values()})
_CLASSIFICATION_KEYS = frozenset({"name", "schema_id", "answer", "confidence", "data_row"})
_NESTED_KEYS = frozenset({"name", "schema_id", "answer"})
_ANSWER_KEYS = frozenset({"name", "schema_id", "classifications", "confidence"})


# -- compiled ontology -----------------------------------------------------------------------------------------------
@dataclass(eq=False)
class CompiledOption:
    schema_id: str
    value: str
    archived: bool
    scope: CompiledScope
    where: str


@dataclass(eq=False)
class CompiledClassification:
    schema_id: str
    name: str
    type: str
    required: bool
    archived: bool
    max_length: int
    options_by_value: dict[str, CompiledOption]
    options_by_id: dict[str, CompiledOption]
    where: str

    fast: bool = False  # answers can take the fast path (an active radio); set by compile_ontology


@dataclass(eq=False)
class CompiledScope:
    """The classifications allowed under one parent (a tool, an option, or the top level)."""

    by_name: dict[str, CompiledClassification] = field(default_factory=dict)
    by_id: dict[str, CompiledClassification] = field(default_factory=dict)
    required: tuple[CompiledClassification, ...] = ()


@dataclass(eq=False)
class CompiledTool:
    schema_id: str
    name: str
    tool: str
    geometry_key: str
    archived: bool
    color: str
    scope: CompiledScope


@dataclass(eq=False)
class CompiledOntology:
    tools_by_name: dict[str, CompiledTool]
    tools_by_id: dict[str, CompiledTool]
    top: CompiledScope
    # Where every nested feature lives, to explain "nested under the wrong parent" errors.
    nested_by_name: dict[str, str]
    nested_by_id: dict[str, str]
    schema_ids: frozenset[str]


def _compile_scope(
    items: list[dict[str, Any]], where: str, nested_by_name: dict[str, str], nested_by_id: dict[str, str], top: bool
) -> CompiledScope:
    scope = CompiledScope()
    for c in items:
        cwhere = f"{where} / {c['name']}" if where else c["name"]
        options_by_value: dict[str, CompiledOption] = {}
        options_by_id: dict[str, CompiledOption] = {}
        for o in c.get("options", []):
            owhere = f"{cwhere} / {o['value']}"
            option = CompiledOption(
                schema_id=str(o["schema_id"]),
                value=o["value"],
                archived=bool(o.get("archived")),
                scope=_compile_scope(o.get("classifications", []), owhere, nested_by_name, nested_by_id, False),
                where=owhere,
            )
            options_by_value[option.value] = option
            options_by_id[option.schema_id] = option
        compiled = CompiledClassification(
            schema_id=str(c["schema_id"]),
            name=c["name"],
            type=c["type"],
            required=bool(c.get("required")),
            archived=bool(c.get("archived")),
            max_length=int(c.get("max_length") or TEXT_MAX_LENGTH_DEFAULT),
            options_by_value=options_by_value,
            options_by_id=options_by_id,
            where=cwhere,
        )
        compiled.fast = compiled.type == "radio" and not compiled.archived
        scope.by_name[compiled.name] = compiled
        scope.by_id[compiled.schema_id] = compiled
        if not top:
            nested_by_name.setdefault(compiled.name, where)
            nested_by_id.setdefault(compiled.schema_id, where)
    scope.required = tuple(c for c in scope.by_name.values() if c.required and not c.archived)
    return scope


def compile_ontology(tree: Tree) -> CompiledOntology:
    """Lookup tables for a normalized tree whose nodes all have schema_ids (an OntologyVersion's snapshot)."""
    nested_by_name: dict[str, str] = {}
    nested_by_id: dict[str, str] = {}
    tools_by_name: dict[str, CompiledTool] = {}
    tools_by_id: dict[str, CompiledTool] = {}
    for t in tree.get("tools", []):
        tool = CompiledTool(
            schema_id=str(t["schema_id"]),
            name=t["name"],
            tool=t["tool"],
            geometry_key=GEOMETRY_KEYS[t["tool"]],
            archived=bool(t.get("archived")),
            color=t.get("color", ""),
            scope=_compile_scope(t.get("classifications", []), t["name"], nested_by_name, nested_by_id, False),
        )
        tools_by_name[tool.name] = tool
        tools_by_id[tool.schema_id] = tool
    top = _compile_scope(tree.get("classifications", []), "", nested_by_name, nested_by_id, True)
    schema_ids = frozenset(
        [
            *tools_by_id,
            *top.by_id,
            *nested_by_id,
            *_option_ids(top),
            *(i for t in tools_by_id.values() for i in _option_ids(t.scope)),
        ]
    )
    return CompiledOntology(tools_by_name, tools_by_id, top, nested_by_name, nested_by_id, schema_ids)


def _option_ids(scope: CompiledScope) -> list[str]:
    ids: list[str] = []
    for c in scope.by_id.values():
        for o in c.options_by_id.values():
            ids.append(o.schema_id)
            ids.extend(_option_ids(o.scope))
    return ids


# -- validation ------------------------------------------------------------------------------------------------------
def _is_number(value: Any) -> bool:
    return type(value) in _NUMBER_TYPES


def _str_or_none(value: Any) -> str | None:
    return value if type(value) is str else None


def _fmt(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class _Validator:
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

    # -- feature lookup ----------------------------------------------------------------------------------------
    def _ref(self, item: dict[str, Any], index: int, path: str) -> tuple[str | None, str | None, bool]:
        """(name, schema_id, ok) of a reference; both may be given but one is required."""
        name = item.get("name")
        sid = item.get("schema_id")
        if name is None and sid is None:
            self.fail(index, path, "Name the feature with `name` or `schema_id`.")
            return None, None, False
        if name is not None and type(name) is not str:
            self.fail(index, f"{path}.name", "Must be a string.")
            return None, None, False
        if sid is not None:
            if type(sid) is not str:
                self.fail(index, f"{path}.schema_id", "Must be a string.")
                return None, None, False
            sid = sid.lower()
        return name, sid, True

    def _lookup_classification(
        self, scope: CompiledScope, item: dict[str, Any], index: int, path: str, parent: str
    ) -> CompiledClassification | None:
        name, sid, ok = self._ref(item, index, path)
        if not ok:
            return None
        found = scope.by_id.get(sid) if sid is not None else scope.by_name.get(name)  # type: ignore[arg-type]
        if found is None:
            key: str = sid if sid is not None else name  # type: ignore[assignment]
            where = (self.c.nested_by_id if sid is not None else self.c.nested_by_name).get(key)
            if where is None and parent:
                at_top = (self.c.top.by_id if sid is not None else self.c.top.by_name).get(key) is not None
                if at_top:
                    where = "the top level"
            if where is not None:
                here = f"under {parent}" if parent else "at the top level"
                self.fail(index, path, f"Classification {_fmt(key)} belongs under {where}, not {here}.")
            else:
                field_ = "schema_id" if sid is not None else "name"
                self.fail(index, f"{path}.{field_}", f"Unknown classification {_fmt(key)}.")
            return None
        if sid is not None and name is not None and found.name != name:
            self.fail(index, path, f"schema_id {sid} is {found.name!r}, not {name!r}.")
            return None
        if found.archived and not self.allow_archived:
            self.fail(index, path, f"Classification {found.name!r} is archived.")
            return None
        return found

    # -- classifications ---------------------------------------------------------------------------------------
    def classifications(
        self, scope: CompiledScope, raw: Any, index: int, path: str, parent: str
    ) -> list[dict[str, Any]] | None:
        """Validate the answers given under one parent; checks required ones are present."""
        if raw is None:
            raw = ()
        elif type(raw) is not list:
            self.fail(index, path, "Must be a list.")
            return None
        out: list[dict[str, Any]] = []
        seen: set[str] = set()
        for j, item in enumerate(raw):
            ipath = f"{path}[{j}]"
            if type(item) is not dict:
                self.fail(index, ipath, "Must be an object.")
                continue
            if not item.keys() <= _NESTED_KEYS:
                unknown = sorted(set(item) - _NESTED_KEYS, key=str)
                self.fail(index, f"{ipath}.{unknown[0]}", "Unknown field.")
                continue
            feature = self._lookup_classification(scope, item, index, ipath, parent)
            if feature is None:
                continue
            if feature.schema_id in seen:
                self.fail(index, ipath, f"Classification {feature.name!r} is answered more than once.")
                continue
            seen.add(feature.schema_id)
            answer = self.answer(feature, item.get("answer"), index, f"{ipath}.answer")
            if answer is not None:
                out.append({"schema_id": feature.schema_id, "name": feature.name, "answer": answer})
        for required in scope.required:
            if required.schema_id not in seen:
                self.fail(index, path, f"Required classification {required.name!r} is missing.")
        return out

    def answer(self, feature: CompiledClassification, raw: Any, index: int, path: str) -> Any:
        kind = feature.type
        if kind == "radio":
            if type(raw) is list:
                if len(raw) != 1:
                    if not raw:
                        self.fail(index, path, f"Radio {feature.name!r} needs an answer.")
                    else:
                        self.fail(index, path, f"Radio {feature.name!r} takes one answer, got {len(raw)}.")
                    return None
                raw = raw[0]
            return self.option(feature, raw, index, path)
        if kind == "checklist":
            if type(raw) is not list:
                self.fail(index, path, f"Checklist {feature.name!r} takes a list of answers.")
                return None
            if not raw and feature.required:
                self.fail(index, path, f"Required checklist {feature.name!r} needs at least one answer.")
                return None
            chosen = []
            seen: set[str] = set()
            for k, item in enumerate(raw):
                option = self.option(feature, item, index, f"{path}[{k}]")
                if option is None:
                    continue
                if option["schema_id"] in seen:
                    self.fail(index, f"{path}[{k}]", f"Option {option['name']!r} is chosen twice.")
                    continue
                seen.add(option["schema_id"])
                chosen.append(option)
            return chosen
        # text
        if type(raw) is not str:
            self.fail(index, path, f"Text classification {feature.name!r} takes a string answer.")
            return None
        if len(raw) > feature.max_length:
            self.fail(index, path, f"Text is too long: {len(raw)} characters, at most {feature.max_length}.")
            return None
        if "\x00" in raw:
            self.fail(index, path, "Text must not contain NUL characters.")
            return None
        if feature.required and not raw.strip():
            self.fail(index, path, f"Required text {feature.name!r} is empty.")
            return None
        return raw

    def option(self, feature: CompiledClassification, raw: Any, index: int, path: str) -> dict[str, Any] | None:
        if type(raw) is not dict:
            self.fail(index, path, 'An answer is an object naming an option: {"name": "<value>"}.')
            return None
        if not raw.keys() <= _ANSWER_KEYS:
            unknown = sorted(set(raw) - _ANSWER_KEYS, key=str)
            self.fail(index, f"{path}.{unknown[0]}", "Unknown field.")
            return None
        name, sid, ok = self._ref(raw, index, path)
        if not ok:
            return None
        option = feature.options_by_id.get(sid) if sid is not None else feature.options_by_value.get(name)  # type: ignore[arg-type]
        if option is None:
            key = sid if sid is not None else name
            values = ", ".join(repr(v) for v in list(feature.options_by_value)[:20])
            self.fail(index, path, f"Option {_fmt(key)} is not in the list of {feature.name!r} ({values}).")
            return None
        if sid is not None and name is not None and option.value != name:
            self.fail(index, path, f"schema_id {sid} is option {option.value!r}, not {name!r}.")
            return None
        if option.archived and not self.allow_archived:
            self.fail(index, path, f"Option {option.value!r} is archived.")
            return None
        result: dict[str, Any] = {"schema_id": option.schema_id, "name": option.value}
        nested = raw.get("classifications")
        if nested is not None or option.scope.required:
            children = self.classifications(option.scope, nested, index, f"{path}.classifications", option.where)
            if children:
                result["classifications"] = children
        confidence = raw.get("confidence")
        if confidence is not None and self.confidence(confidence, index, f"{path}.confidence"):
            result["confidence"] = confidence
        return result

    def confidence(self, value: Any, index: int, path: str) -> bool:
        if not _is_number(value) or not 0 <= value <= 1:
            self.fail(index, path, "Confidence must be a number from 0 to 1.")
            return False
        return True

    # -- geometry ----------------------------------------------------------------------------------------------
    def points(self, raw: Any, index: int, path: str, minimum: int) -> list[tuple[float, float]] | None:
        if type(raw) is not list:
            self.fail(index, path, 'Must be a list of {"x", "y"} points.')
            return None
        if len(raw) < minimum:
            self.fail(index, path, f"Needs at least {minimum} points, got {len(raw)}.")
            return None
        out = []
        for k, p in enumerate(raw):
            xy = self.point(p, index, f"{path}[{k}]")
            if xy is None:
                return None
            out.append(xy)
        return out

    def point(self, raw: Any, index: int, path: str) -> tuple[float, float] | None:
        if type(raw) is not dict or len(raw) != 2:
            self.fail(index, path, 'A point is an object {"x", "y"}.')
            return None
        x: Any = raw.get("x")
        y: Any = raw.get("y")
        value: Any
        for key, value in (("x", x), ("y", y)):
            if not _is_number(value):
                self.fail(index, f"{path}.{key}", "Must be a number.")
                return None
            if type(value) is float and not math.isfinite(value):
                self.fail(index, f"{path}.{key}", "Must be a finite number (not NaN or Infinity).")
                return None
            if value < 0:
                self.fail(index, f"{path}.{key}", "Is outside the image (negative).")
                return None
        if self.image_size is not None:
            width, height = self.image_size
            if x > width + _EPS:  # type: ignore[operator]
                self.fail(index, f"{path}.x", f"Is outside the image: {x} > width {width}.")
                return None
            if y > height + _EPS:  # type: ignore[operator]
                self.fail(index, f"{path}.y", f"Is outside the image: {y} > height {height}.")
                return None
        return (x, y)  # type: ignore[return-value]

    def location(self, raw: Any, index: int, path: str) -> dict[str, int] | None:
        if type(raw) is not dict or not raw.keys() <= {"start", "end"}:
            self.fail(index, path, 'A location is an object {"start", "end"}.')
            return None
        start = raw.get("start")
        end = raw.get("end")
        for key, value in (("start", start), ("end", end)):
            if type(value) is not int:
                self.fail(index, f"{path}.{key}", "Must be an integer character offset.")
                return None
        if start < 0:  # type: ignore[operator]
            self.fail(index, f"{path}.start", "Must not be negative.")
            return None
        if end <= start:  # type: ignore[operator]
            self.fail(index, f"{path}.end", f"Must be greater than start ({start}).")
            return None
        if self.text_length is not None and end > self.text_length:  # type: ignore[operator]
            self.fail(index, f"{path}.end", f"Is past the end of the text ({self.text_length} characters).")
            return None
        return {"start": start, "end": end}  # type: ignore[dict-item]

    # -- fast path ---------------------------------------------------------------------------------------------
    # The common case (a bbox with radio answers, all valid) without building paths or calling per field. Anything
    # unusual returns None and the full validator below handles the annotation, so errors always come from there.
    # A test checks that both paths give identical results.
    def fast_scope(self, scope: CompiledScope, items: Any) -> list[dict[str, Any]] | None:
        if type(items) is not list:
            return [] if items is None and not scope.required else None
        out = []
        seen = []
        by_name = scope.by_name
        for item in items:
            if type(item) is not dict or len(item) != 2:
                return None
            name = item.get("name")
            answer = item.get("answer")
            if type(name) is not str or type(answer) is not dict:
                return None
            feature = by_name.get(name)
            if feature is None or not feature.fast or feature.schema_id in seen:
                return None
            value = answer.get("name")
            option = feature.options_by_value.get(value) if type(value) is str else None
            if option is None or option.archived:
                return None
            if len(answer) == 1:
                if option.scope.required:
                    return None
                result: dict[str, Any] = {"schema_id": option.schema_id, "name": value}
            else:
                nested = answer.get("classifications")
                if len(answer) != 2 or nested is None:
                    return None
                children = self.fast_scope(option.scope, nested)
                if children is None:
                    return None
                result = {"schema_id": option.schema_id, "name": value}
                if children:
                    result["classifications"] = children
            seen.append(feature.schema_id)
            out.append({"schema_id": feature.schema_id, "name": name, "answer": result})
        if scope.required:
            for required in scope.required:
                if required.schema_id not in seen:
                    return None
        return out

    def run(self, annotations: list[Any], seen_top: dict[str, int], fast: bool) -> list[dict[str, Any] | None]:
        """Validate every annotation: boxes with radio answers inline (hot path), anything else in full."""
        full = self.full_annotation
        if not fast:
            return [full(raw, i, seen_top) for i, raw in enumerate(annotations)]
        box_tools = {name: t for name, t in self.c.tools_by_name.items() if t.tool == "bbox" and not t.archived}
        fast_scope = self.fast_scope
        box_index = self.box_index.append
        box_values = self.box_values.append
        number = _NUMBER_TYPES
        normalized: list[dict[str, Any] | None] = []
        append = normalized.append
        for i, raw in enumerate(annotations):
            if type(raw) is dict:
                name = raw.get("name")
                tool = box_tools.get(name) if type(name) is str else None
                if tool is not None:
                    nested = raw.get("classifications")
                    box = raw.get("bbox")
                    if len(raw) == (2 if nested is None else 3) and type(box) is dict and len(box) == 4:
                        top = box.get("top")
                        left = box.get("left")
                        height = box.get("height")
                        width = box.get("width")
                        if (
                            type(top) in number
                            and type(left) in number
                            and type(height) in number
                            and type(width) in number
                        ):
                            children = None
                            if type(nested) is list and len(nested) == 1:
                                # The most common shape of all: one radio answered with one plain option.
                                item = nested[0]
                                if type(item) is dict and len(item) == 2:
                                    cname = item.get("name")
                                    answer = item.get("answer")
                                    if type(cname) is str and type(answer) is dict and len(answer) == 1:
                                        feature = tool.scope.by_name.get(cname)
                                        required = tool.scope.required
                                        if (
                                            feature is not None
                                            and feature.fast
                                            and (not required or (len(required) == 1 and required[0] is feature))
                                        ):
                                            value = answer.get("name")
                                            option = feature.options_by_value.get(value) if type(value) is str else None
                                            if option is not None and not option.archived and not option.scope.required:
                                                children = [
                                                    {
                                                        "schema_id": feature.schema_id,
                                                        "name": cname,
                                                        "answer": {"schema_id": option.schema_id, "name": value},
                                                    }
                                                ]
                            if children is None:
                                children = fast_scope(tool.scope, nested)
                            if children is not None:
                                box_index(i)
                                box_values((top, left, height, width))
                                append(
                                    {
                                        "schema_id": tool.schema_id,
                                        "name": name,
                                        "tool": "bbox",
                                        "bbox": {"top": top, "left": left, "height": height, "width": width},
                                        "classifications": children,
                                    }
                                )
                                continue
            append(full(raw, i, seen_top))
        return normalized

    # -- one annotation ----------------------------------------------------------------------------------------
    def full_annotation(self, raw: Any, index: int, seen_top: dict[str, int]) -> dict[str, Any] | None:
        path = f"annotations[{index}]"
        if type(raw) is not dict:
            self.fail(index, path, "Must be an object.")
            return None
        name = raw.get("name")
        sid = raw.get("schema_id")
        tool = None
        if sid is None and type(name) is str:
            tool = self.c.tools_by_name.get(name)
        elif type(sid) is str:
            tool = self.c.tools_by_id.get(sid.lower())
        if tool is None:
            return self.top_classification(raw, index, path, seen_top)
        if name is not None and sid is not None and name != tool.name:
            self.fail(index, path, f"schema_id {sid} is {tool.name!r}, not {name!r}.")
            return None
        if tool.archived and not self.allow_archived:
            self.fail(index, path, f"Tool {tool.name!r} is archived.")
            return None
        if not raw.keys() <= _TOOL_KEYS:
            unknown = sorted(set(raw) - _TOOL_KEYS, key=str)
            self.fail(index, f"{path}.{unknown[0]}", "Unknown field.")
            return None
        key = tool.geometry_key
        geometry = raw.get(key)
        if geometry is None:
            others = [k for k in _GEOMETRY_TOOL if k in raw]
            if others:
                self.fail(
                    index,
                    f"{path}.{others[0]}",
                    f"Tool {tool.name!r} is a {tool.tool}: give `{key}`, not `{others[0]}`"
                    f" ({_GEOMETRY_TOOL[others[0]]}).",
                )
            else:
                self.fail(index, path, f"Tool {tool.name!r} is a {tool.tool}: `{key}` is required.")
            return None
        for other in _GEOMETRY_TOOL:
            if other != key and other in raw:
                self.fail(index, f"{path}.{other}", f"Tool {tool.name!r} is a {tool.tool}: `{other}` is not allowed.")
                return None
        out: dict[str, Any] = {"schema_id": tool.schema_id, "name": tool.name, "tool": tool.tool}
        gpath = f"{path}.{key}"
        if key == "bbox":
            if type(geometry) is not dict or len(geometry) != 4:
                self.fail(index, gpath, 'A bbox is an object {"top", "left", "height", "width"}.')
                return None
            top = geometry.get("top")
            left = geometry.get("left")
            height = geometry.get("height")
            width = geometry.get("width")
            if not (_is_number(top) and _is_number(left) and _is_number(height) and _is_number(width)):
                for k in ("top", "left", "height", "width"):
                    if not _is_number(geometry.get(k)):
                        self.fail(index, f"{gpath}.{k}", "Must be a number.")
                        return None
            out["bbox"] = {"top": top, "left": left, "height": height, "width": width}
            self.box_index.append(index)
            self.box_values.append((top, left, height, width))
        elif key == "polygon":
            points = self.points(geometry, index, gpath, 3)
            if points is None:
                return None
            self.polygons.append((index, gpath, points))
            out["polygon"] = [{"x": x, "y": y} for x, y in points]
        elif key == "line":
            points = self.points(geometry, index, gpath, 2)
            if points is None:
                return None
            out["line"] = [{"x": x, "y": y} for x, y in points]
        elif key == "point":
            xy = self.point(geometry, index, gpath)
            if xy is None:
                return None
            out["point"] = {"x": xy[0], "y": xy[1]}
        else:
            location = self.location(geometry, index, gpath)
            if location is None:
                return None
            out["location"] = location
        nested = raw.get("classifications")
        if nested is not None or tool.scope.required:
            children = self.classifications(tool.scope, nested, index, f"{path}.classifications", tool.name)
            if children is None:
                return None
            out["classifications"] = children
        else:
            out["classifications"] = []
        confidence = raw.get("confidence")
        if confidence is not None:
            if not self.confidence(confidence, index, f"{path}.confidence"):
                return None
            out["confidence"] = confidence
        if "data_row" in raw:
            out["data_row"] = raw["data_row"]
        return out

    def top_classification(self, raw: dict[str, Any], index: int, path: str, seen_top: dict[str, int]) -> Any:
        if not raw.keys() <= _CLASSIFICATION_KEYS:
            geometry = [k for k in _GEOMETRY_TOOL if k in raw]
            name = raw.get("name", raw.get("schema_id"))
            by_name = _str_or_none(raw.get("name")) in self.c.top.by_name
            by_id = _str_or_none(raw.get("schema_id")) in self.c.top.by_id
            if geometry and (by_name or by_id):
                self.fail(index, f"{path}.{geometry[0]}", f"{name!r} is a classification: it takes no geometry.")
            elif geometry:
                self.fail(index, path, f"Unknown tool {_fmt(name)}.")
            else:
                unknown = sorted(set(raw) - _CLASSIFICATION_KEYS, key=str)
                self.fail(index, f"{path}.{unknown[0]}", "Unknown field.")
            return None
        feature = self._lookup_classification(self.c.top, raw, index, path, "")
        if feature is None:
            return None
        if feature.schema_id in seen_top:
            self.fail(
                index,
                path,
                f"Classification {feature.name!r} is already answered by annotations[{seen_top[feature.schema_id]}].",
            )
            return None
        seen_top[feature.schema_id] = index
        answer = self.answer(feature, raw.get("answer"), index, f"{path}.answer")
        if answer is None:
            return None
        out: dict[str, Any] = {"schema_id": feature.schema_id, "name": feature.name, "answer": answer}
        confidence = raw.get("confidence")
        if confidence is not None:
            if not self.confidence(confidence, index, f"{path}.confidence"):
                return None
            out["confidence"] = confidence
        if "data_row" in raw:
            out["data_row"] = raw["data_row"]
        return out

    # -- bulk geometry checks ----------------------------------------------------------------------------------
    def check_boxes(self) -> None:
        if not self.box_values:
            return
        try:
            boxes = np.array(self.box_values, dtype=np.float64)
        except OverflowError:  # an integer too large for a float: treat it as infinite
            boxes = np.array([[_as_float(v) for v in row] for row in self.box_values], dtype=np.float64)
        finite, bad_rows, negative_size, negative_origin, outside = box_checks(boxes, self.image_size)
        problem = bad_rows | negative_size | negative_origin | outside
        if not problem.any():
            return
        names = ("top", "left", "height", "width")
        for row in np.flatnonzero(problem).tolist():
            index = self.box_index[row]
            path = f"annotations[{index}].bbox"
            top, left, height, width = boxes[row].tolist()
            if bad_rows[row]:
                column = int(np.flatnonzero(~finite[row])[0])
                self.fail(index, f"{path}.{names[column]}", "Must be a finite number (not NaN or Infinity).")
            elif negative_size[row]:
                column = 2 if height <= 0 else 3
                self.fail(index, f"{path}.{names[column]}", f"Must be positive, got {boxes[row, column]:g}.")
            elif negative_origin[row]:
                column = 0 if top < 0 else 1
                self.fail(index, f"{path}.{names[column]}", "Is outside the image (negative).")
            else:
                assert self.image_size is not None
                img_w, img_h = self.image_size
                if left + width > img_w + _EPS:
                    self.fail(index, f"{path}.width", f"The box ends outside the image: left + width > {img_w:g}.")
                else:
                    self.fail(index, f"{path}.height", f"The box ends outside the image: top + height > {img_h:g}.")

    def check_polygons(self) -> None:
        if not self.polygons:
            return
        coords = np.array([xy for _, _, points in self.polygons for xy in points], dtype=np.float64)
        indices = np.repeat(np.arange(len(self.polygons)), [len(points) for _, _, points in self.polygons])
        try:
            rings = shapely.linearrings(coords, indices=indices)
            valid = shapely.is_valid(shapely.polygons(rings))
        except Exception:  # a degenerate ring (e.g. all points equal) fails to build: check one by one
            valid = np.array([_polygon_valid(points) for _, _, points in self.polygons])
        for k in np.flatnonzero(~valid).tolist():
            index, path, points = self.polygons[k]
            self.fail(index, path, f"The polygon is not valid: {_polygon_reason(points)}.")


def box_checks(boxes: np.ndarray[Any, Any], image_size: tuple[Any, Any] | None) -> tuple[np.ndarray[Any, Any], ...]:
    """The bulk checks of boxes `(top, left, height, width)` rows: `(finite, not_finite, non_positive_size,
    negative_origin, outside)` masks. `image_size` is `(width, height)`: two numbers, two arrays of one per box (NaN
    where unknown), or None. A box is valid when no mask but `finite` is set; the validator explains the others."""
    finite = np.isfinite(boxes)
    not_finite: np.ndarray[Any, Any] = np.asarray(~finite.all(axis=1))
    with np.errstate(invalid="ignore"):
        negative_size: np.ndarray[Any, Any] = (boxes[:, 2] <= 0) | (boxes[:, 3] <= 0)
        negative_origin: np.ndarray[Any, Any] = (boxes[:, 0] < 0) | (boxes[:, 1] < 0)
        outside = np.zeros(len(boxes), dtype=bool)
        if image_size is not None:
            width, height = image_size
            outside = (boxes[:, 1] + boxes[:, 3] > width + _EPS) | (boxes[:, 0] + boxes[:, 2] > height + _EPS)
    return finite, not_finite, negative_size, negative_origin, outside


def _as_float(value: float) -> float:
    try:
        return float(value)
    except OverflowError:
        return math.inf


def _polygon_valid(points: list[tuple[float, float]]) -> bool:
    try:
        return bool(shapely.Polygon(points).is_valid)
    except Exception:
        return False


def _polygon_reason(points: list[tuple[float, float]]) -> str:
    try:
        reason = str(shapely.is_valid_reason(shapely.Polygon(points)))
    except Exception:
        return "degenerate ring"
    return reason.replace("Self-intersection", "it intersects itself at").replace("[", "(").replace("]", ")")


def validate_annotations(
    compiled: CompiledOntology,
    annotations: Any,
    *,
    image_size: tuple[float, float] | None = None,
    text_length: int | None = None,
    complete: bool = False,
    allow_archived: bool = False,
    fast: bool = True,
) -> tuple[list[dict[str, Any] | None], list[dict[str, Any]]]:
    """Validate annotations against a compiled ontology version.

    `image_size` is `(width, height)` when known (boxes, points and polygons must lie inside); `text_length` the
    length of the text asset (NER spans must lie inside). `complete=True` means the list is a whole label, so the
    required top-level classifications must be answered. Archived features are refused unless `allow_archived`.
    `fast=False` skips the fast path (tests use it to check both paths agree).
    """
    if type(annotations) is not list:
        return [], [{"index": None, "path": "annotations", "message": "Must be a list of annotations."}]
    validator = _Validator(compiled, image_size, text_length, allow_archived)
    seen_top: dict[str, int] = {}
    # Building 100k small dicts would trigger many full cyclic-GC passes over them; nothing here creates reference
    # cycles, so the collector is paused for the loop (and restored as it was).
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        normalized = validator.run(annotations, seen_top, fast)
    finally:
        if gc_was_enabled:
            gc.enable()
    validator.check_boxes()
    validator.check_polygons()
    errors: list[tuple[int | None, str, str]] = list(validator.errors)  # type: ignore[arg-type]
    if complete:
        for required in compiled.top.required:
            if required.schema_id not in seen_top:
                errors.append((None, "annotations", f"Required classification {required.name!r} is missing."))
    if validator.bad:
        for index in validator.bad:
            normalized[index] = None
    errors.sort(key=lambda e: -1 if e[0] is None else e[0])
    return normalized, [{"index": i, "path": p, "message": m} for i, p, m in errors]
