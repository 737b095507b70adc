"""Validate a video label document (pure). Shapes and answers go through the one annotation validator; this module
checks what only video has: track ids, keyframe frames, `outside`, frame ranges of classifications.

A document is a list of items (see docs/api-extensions.md, "Video labels"):

- a track: `{"schema_id" | "name", "track_id", "keyframes": [{"frame", <geometry> | "outside": true}, …],
  "classifications"?}` for a bbox, polygon, polyline or point tool;
- a per-frame classification: `{"schema_id" | "name", "answer", "frames": [[start, end], …]}` (inclusive ranges);
- a whole-video classification: `{"schema_id" | "name", "answer"}`.
"""

from __future__ import annotations

import re
from typing import Any

from apps.ontologies.domain.validation import CompiledOntology, validate_annotations
from apps.ontologies.domain.video import GEOMETRY_KEY, VIDEO_TOOLS

TRACK_KEYS = frozenset({"name", "schema_id", "track_id", "keyframes", "classifications"})
KEYFRAME_KEYS = frozenset({"frame", "outside", *GEOMETRY_KEY.values()})
MAX_KEYFRAMES = 100_000
TRACK_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
_TRACK_ID = TRACK_ID

Error = dict[str, Any]


def _error(index: int | None, path: str, message: str) -> Error:
    return {"index": index, "path": path, "message": message}


def _frame(value: Any, frame_count: int | None) -> str | None:
    if type(value) is not int or value < 0:
        return "Must be a frame index (an integer ≥ 0)."
    if frame_count is not None and value >= frame_count:
        return f"The video has {frame_count} frames (0..{frame_count - 1})."
    return None


class _VideoValidator:
    def __init__(self, compiled: CompiledOntology, image_size: Any, frame_count: int | None) -> None:
        self.compiled = compiled
        self.image_size = image_size
        self.frame_count = frame_count
        self.errors: list[Error] = []
        self.flat: list[dict[str, Any]] = []  # what the annotation validator checks
        self.origin: list[tuple[int, str]] = []  # flat position → (item index, path prefix)

    def _add(self, item: dict[str, Any], index: int, path: str) -> None:
        self.flat.append(item)
        self.origin.append((index, path))

    def track(self, raw: dict[str, Any], index: int, tool: Any, seen_ids: set[str]) -> dict[str, Any] | None:
        path = f"annotations[{index}]"
        unknown = sorted(set(raw) - TRACK_KEYS, key=str)
        if unknown:
            self.errors.append(_error(index, f"{path}.{unknown[0]}", "Unknown field."))
            return None
        if tool.tool not in VIDEO_TOOLS:
            self.errors.append(_error(index, path, f"Tool {tool.name!r} ({tool.tool}) cannot be tracked in a video."))
            return None
        track_id = raw.get("track_id")
        if type(track_id) is not str or not _TRACK_ID.match(track_id):
            self.errors.append(_error(index, f"{path}.track_id", "1 to 64 letters, digits, or _ . : -"))
            return None
        if track_id in seen_ids:
            self.errors.append(_error(index, f"{path}.track_id", f"Track id {track_id!r} is used twice."))
            return None
        seen_ids.add(track_id)
        keyframes = raw.get("keyframes")
        if type(keyframes) is not list or not keyframes or len(keyframes) > MAX_KEYFRAMES:
            self.errors.append(_error(index, f"{path}.keyframes", f"A list of 1 to {MAX_KEYFRAMES} keyframes."))
            return None
        key = GEOMETRY_KEY[tool.tool]
        frames: set[int] = set()
        out_keys: list[dict[str, Any]] = []
        first_shape = True
        for k, keyframe in enumerate(keyframes):
            kpath = f"{path}.keyframes[{k}]"
            if type(keyframe) is not dict:
                self.errors.append(_error(index, kpath, "Must be an object."))
                return None
            extra = sorted(set(keyframe) - KEYFRAME_KEYS, key=str)
            if extra:
                self.errors.append(_error(index, f"{kpath}.{extra[0]}", "Unknown field."))
                return None
            problem = _frame(keyframe.get("frame"), self.frame_count)
            if problem:
                self.errors.append(_error(index, f"{kpath}.frame", problem))
                return None
            frame = keyframe["frame"]
            if frame in frames:
                self.errors.append(_error(index, f"{kpath}.frame", f"Frame {frame} has two keyframes."))
                return None
            frames.add(frame)
            outside = keyframe.get("outside", False)
            if type(outside) is not bool:
                self.errors.append(_error(index, f"{kpath}.outside", "Must be true or false."))
                return None
            if outside:
                if key in keyframe:
                    self.errors.append(_error(index, f"{kpath}.{key}", "An outside keyframe has no shape."))
                    return None
                out_keys.append({"frame": frame, "outside": True})
                continue
            flat: dict[str, Any] = {"schema_id": tool.schema_id}
            for geometry_key in GEOMETRY_KEY.values():
                if geometry_key in keyframe:
                    flat[geometry_key] = keyframe[geometry_key]
            if raw.get("classifications") is not None:  # track-level answers: required ones hold on every frame
                flat["classifications"] = raw["classifications"]
            first_shape = False
            self._add(flat, index, kpath)
            out_keys.append({"frame": frame, "flat": len(self.flat) - 1})
        if first_shape:
            self.errors.append(_error(index, f"{path}.keyframes", "A track needs at least one keyframe with a shape."))
            return None
        return {"track_id": track_id, "tool": tool.tool, "key": key, "keyframes": out_keys}

    def classification(self, raw: dict[str, Any], index: int) -> dict[str, Any] | None:
        path = f"annotations[{index}]"
        item = {k: v for k, v in raw.items() if k != "frames"}
        ranges: list[list[int]] | None = None
        if "frames" in raw:
            frames = raw["frames"]
            if type(frames) is not list or not frames:
                self.errors.append(_error(index, f"{path}.frames", "A list of [start, end] frame ranges."))
                return None
            ranges = []
            for r, pair in enumerate(frames):
                rpath = f"{path}.frames[{r}]"
                if type(pair) is not list or len(pair) != 2:
                    self.errors.append(_error(index, rpath, "A [start, end] pair (inclusive)."))
                    return None
                for value in pair:
                    problem = _frame(value, self.frame_count)
                    if problem:
                        self.errors.append(_error(index, rpath, problem))
                        return None
                if pair[0] > pair[1]:
                    self.errors.append(_error(index, rpath, "start must not be after end."))
                    return None
                ranges.append([pair[0], pair[1]])
            ranges.sort()
        self._add(item, index, path)
        return {"flat": len(self.flat) - 1, "frames": ranges}


def validate_video_annotations(
    compiled: CompiledOntology,
    annotations: Any,
    *,
    image_size: tuple[float, float] | None = None,
    frame_count: int | None = None,
    complete: bool = False,
) -> tuple[list[dict[str, Any]], list[Error]]:
    """(normalized items, errors). Normalized tracks carry the validator's normalized shapes, keyframes sorted."""
    if type(annotations) is not list:
        return [], [_error(None, "annotations", "Must be a list of annotations.")]
    v = _VideoValidator(compiled, image_size, frame_count)
    seen_ids: set[str] = set()
    plans: list[tuple[int, str, dict[str, Any]]] = []
    for index, raw in enumerate(annotations):
        if type(raw) is not dict:
            v.errors.append(_error(index, f"annotations[{index}]", "Must be an object."))
            continue
        sid, name = raw.get("schema_id"), raw.get("name")
        tool = None
        if type(sid) is str:
            tool = compiled.tools_by_id.get(sid.lower())
        elif type(name) is str:
            tool = compiled.tools_by_name.get(name)
        if tool is not None or "keyframes" in raw or "track_id" in raw:
            if tool is None:
                v.errors.append(_error(index, f"annotations[{index}]", "A track must name a tool of the ontology."))
                continue
            plan = v.track(raw, index, tool, seen_ids)
            if plan is not None:
                plans.append((index, "track", plan))
        else:
            plan = v.classification(raw, index)
            if plan is not None:
                plans.append((index, "classification", plan))
    normalized_flat: list[Any] = []
    if v.flat:
        # one call per item keeps repeated per-frame answers of the same classification apart
        normalized_flat = [None] * len(v.flat)
        groups: dict[int, list[int]] = {}
        for position, (item_index, _path) in enumerate(v.origin):
            groups.setdefault(item_index, []).append(position)
        for positions in groups.values():
            batch = [v.flat[p] for p in positions]
            result, errors = validate_annotations(compiled, batch, image_size=image_size)
            for p, value in zip(positions, result, strict=True):
                normalized_flat[p] = value
            for error in errors:
                local = error.get("index")
                position = positions[local] if isinstance(local, int) else positions[0]
                item_index, prefix = v.origin[position]
                suffix = re.sub(r"^annotations\[\d+\]", "", error.get("path") or "")
                v.errors.append(_error(item_index, prefix + suffix, error["message"]))
    answered: set[str] = set()
    out: list[dict[str, Any]] = []
    for _index, kind, plan in plans:
        if kind == "classification":
            value = normalized_flat[plan["flat"]]
            if value is None:
                continue
            answered.add(value["schema_id"])
            out.append({**value, "frames": plan["frames"]} if plan["frames"] is not None else value)
            continue
        keys: list[dict[str, Any]] = []
        head: dict[str, Any] | None = None
        for k in plan["keyframes"]:
            if k.get("outside"):
                keys.append({"frame": k["frame"], "outside": True})
                continue
            value = normalized_flat[k["flat"]]
            if value is None:
                keys = []
                break
            head = head or value
            keys.append({"frame": k["frame"], plan["key"]: value[plan["key"]]})
        if not keys or head is None:
            continue
        keys.sort(key=lambda k: k["frame"])
        track = {
            "schema_id": head["schema_id"],
            "name": head["name"],
            "tool": plan["tool"],
            "track_id": plan["track_id"],
        }
        track["keyframes"] = keys
        if head.get("classifications"):
            track["classifications"] = head["classifications"]
        out.append(track)
    if complete:
        for required in compiled.top.required:
            if required.schema_id not in answered:
                v.errors.append(_error(None, "annotations", f"Required classification {required.name!r} is missing."))
    v.errors.sort(key=lambda e: -1 if e["index"] is None else e["index"])
    return out, v.errors
