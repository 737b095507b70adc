"""`validate_annotations`: the fast path for the common shape (a box with radio answers), anything else in full."""

from __future__ import annotations

import gc
from typing import Any

from apps.ontologies.domain.validation.base import _NUMBER_TYPES
from apps.ontologies.domain.validation.compiled import CompiledOntology, CompiledScope
from apps.ontologies.domain.validation.tools import AnnotationChecks


class _Validator(AnnotationChecks):
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
