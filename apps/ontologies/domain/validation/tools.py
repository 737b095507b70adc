"""One annotation in full: a tool of any kind (bbox, polygon, polyline, point, NER) or a top-level classification."""

from __future__ import annotations

from typing import Any

from apps.ontologies.domain.validation.base import (
    _CLASSIFICATION_KEYS,
    _GEOMETRY_TOOL,
    _TOOL_KEYS,
    MAX_SLICE,
    _fmt,
    _is_number,
    _str_or_none,
)
from apps.ontologies.domain.validation.classifications import ClassificationChecks
from apps.ontologies.domain.validation.geometry import GeometryChecks
from apps.ontologies.domain.validation.masks import MaskChecks


class AnnotationChecks(ClassificationChecks, GeometryChecks, MaskChecks):
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
        elif key == "mask":
            mask = self.mask(geometry, index, gpath)
            if mask is None:
                return None
            out["mask"] = mask
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
        if "slice" in raw:
            position = raw["slice"]
            if type(position) is not int or not 1 <= position <= MAX_SLICE:
                self.fail(index, f"{path}.slice", f"A slice is a whole number from 1 to {MAX_SLICE}.")
                return None
            out["slice"] = position
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
