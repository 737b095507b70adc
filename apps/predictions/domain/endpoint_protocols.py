"""The two model server protocols (docs/model-endpoints.md), pure: request bodies out, answers parsed into API.md
annotations per row, class names mapped to features; the retry backoff and the circuit breaker's transitions.

- TDP v1: `POST /predict {"protocol": "tdp.v1", "kind", "features", "rows": [{"id", "global_key", "media_type",
  "url", "text", "width", "height"}]}` → `{"model_version", "results": [{"id", "annotations": [...], "error"}]}`.
- Label Studio ML backend: `POST /predict {"tasks": [{"id", "data": {"image"|"text": ...}}], "project",
  "label_config", "params"}` → `{"results": [{"result": [regions], "score", "model_version"}]}` (one per task, in
  order; a bare list is accepted too). Regions: `rectanglelabels`, `polygonlabels`, `keypointlabels` (percent of the
  image), `labels` (text spans), `choices`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import quoteattr

TDP_PROTOCOL = "tdp.v1"
MAX_ERROR_CHARS = 300
SPATIAL_TOOLS = ("bbox", "polygon", "polyline", "point", "ner")


class ProtocolError(ValueError):
    """The answer does not have the protocol's shape (the message never quotes the answer's bytes)."""


@dataclass
class RowResult:
    annotations: list[dict[str, Any]] = field(default_factory=list)
    error: str = ""
    vector: list[float] | None = None


@dataclass
class Answer:
    model_version: str
    rows: dict[str, RowResult]
    model_seconds: float | None = None  # the model's own time, as the server reported it


def backoff_seconds(attempts: int, base: float, cap: float = 3600.0) -> float:
    """Exponential backoff before retry number `attempts` (1 → base, 2 → 2·base, …), capped."""
    return float(min(cap, base * (2 ** max(0, attempts - 1))))


def breaker_after(*, state: str, failures: int, ok: bool, threshold: int) -> tuple[str, int]:
    """The circuit's state and consecutive failure count after one call: a success closes it; a failure in
    half-open, or the `threshold`-th failure in a row, opens it."""
    if ok:
        return "closed", 0
    failures += 1
    if state == "half_open" or failures >= threshold:
        return "open", failures
    return state, failures


def _short(message: str) -> str:
    return message if len(message) <= MAX_ERROR_CHARS else message[: MAX_ERROR_CHARS - 1] + "…"


def _version(value: Any) -> str:
    return str(value)[:200] if isinstance(value, str | int | float) and not isinstance(value, bool) else ""


# --- TDP v1 -------------------------------------------------------------------------------------------------------


def tdp_predict_body(*, kind: str, features: list[dict[str, Any]], rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {"protocol": TDP_PROTOCOL, "kind": kind, "features": features, "rows": rows}


def parse_tdp_answer(payload: Any, row_ids: list[str]) -> Answer:
    if not isinstance(payload, dict) or not isinstance(payload.get("results"), list):
        raise ProtocolError('The answer is not an object with a "results" list (TDP protocol v1).')
    wanted = set(row_ids)
    rows: dict[str, RowResult] = {}
    for item in payload["results"]:
        if not isinstance(item, dict) or str(item.get("id")) not in wanted:
            continue
        row_id = str(item["id"])
        error = item.get("error")
        annotations = item.get("annotations", [])
        if error:
            rows[row_id] = RowResult(error=_short(f"The model reported an error: {error!s}"))
        elif not isinstance(annotations, list) or not all(isinstance(a, dict) for a in annotations):
            rows[row_id] = RowResult(error='"annotations" is not a list of objects.')
        else:
            rows[row_id] = RowResult(annotations=annotations)
    for row_id in row_ids:
        rows.setdefault(row_id, RowResult(error="The answer has no result for this row."))
    return Answer(model_version=_version(payload.get("model_version")), rows=rows)


def tdp_embed_body(*, rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {"protocol": TDP_PROTOCOL, "kind": "embedder", "rows": rows}


def parse_tdp_embed_answer(payload: Any, row_ids: list[str]) -> Answer:
    """`{"model_version", "dims", "results": [{"id", "vector"} | {"id", "error"}]}`: every vector finite, of `dims`
    (or of the first vector's length) numbers."""
    if not isinstance(payload, dict) or not isinstance(payload.get("results"), list):
        raise ProtocolError('The answer is not an object with a "results" list (TDP protocol v1, /embed).')
    dims = payload.get("dims")
    wanted = set(row_ids)
    rows: dict[str, RowResult] = {}
    for item in payload["results"]:
        if not isinstance(item, dict) or str(item.get("id")) not in wanted:
            continue
        row_id, vector = str(item["id"]), item.get("vector")
        if item.get("error"):
            rows[row_id] = RowResult(error=_short(f"The model reported an error: {item['error']!s}"))
            continue
        if (
            not isinstance(vector, list)
            or not vector
            or not all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in vector)
        ):
            rows[row_id] = RowResult(error="The vector is not a non-empty list of finite numbers.")
            continue
        if not isinstance(dims, int) or isinstance(dims, bool):
            dims = len(vector)
        if len(vector) != dims:
            rows[row_id] = RowResult(error=f"The vector has {len(vector)} numbers, not {dims}.")
            continue
        rows[row_id] = RowResult(vector=[float(v) for v in vector])
    for row_id in row_ids:
        rows.setdefault(row_id, RowResult(error="The answer has no result for this row."))
    return Answer(model_version=_version(payload.get("model_version")), rows=rows)


# --- Label Studio ML backend ---------------------------------------------------------------------------------------

_LS_TAGS = {"bbox": "RectangleLabels", "polygon": "PolygonLabels", "point": "KeyPointLabels", "ner": "Labels"}


def ls_label_config(features: list[dict[str, Any]], *, media_type: str = "image") -> str:
    """A Label Studio labeling config for the ontology's features (what `/setup` and `/predict` receive)."""
    source = '<Text name="text" value="$text"/>' if media_type == "text" else '<Image name="image" value="$image"/>'
    to_name = "text" if media_type == "text" else "image"
    parts = [f"<View>{source}"]
    for feature in features:
        name = quoteattr(str(feature["name"]))
        tag = _LS_TAGS.get(feature["tool"])
        if tag:
            parts.append(f'<{tag} name={name} toName="{to_name}"><Label value={name}/></{tag}>')
        elif feature["tool"] in ("radio", "checklist"):
            choice = "multiple" if feature["tool"] == "checklist" else "single"
            options = "".join(f"<Choice value={quoteattr(str(o))}/>" for o in feature.get("options", []))
            parts.append(f'<Choices name={name} toName="{to_name}" choice="{choice}">{options}</Choices>')
    parts.append("</View>")
    return "".join(parts)


def ls_task(row: dict[str, Any]) -> dict[str, Any]:
    data = {"text": row.get("text") or ""} if row.get("media_type") == "text" else {"image": row.get("url") or ""}
    return {"id": row["id"], "data": data, "meta": {"global_key": row.get("global_key")}}


def ls_predict_body(*, rows: list[dict[str, Any]], project: str, label_config: str) -> dict[str, Any]:
    return {"tasks": [ls_task(r) for r in rows], "project": project, "label_config": label_config, "params": {}}


def _percent(value: Any) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
        raise ProtocolError("A region coordinate is not a finite number.")
    return float(value)


def ls_region(region: Any, *, width: float | None, height: float | None) -> dict[str, Any]:
    """One Label Studio result region → one API.md annotation (named by the model's label, mapped later)."""
    if not isinstance(region, dict) or not isinstance(region.get("value"), dict):
        raise ProtocolError("A result region is not an object with a value.")
    kind, value = region.get("type"), region["value"]
    labels = value.get(kind) if isinstance(kind, str) else None
    if labels is None and isinstance(value.get("values"), dict):  # the SDK's PredictionValue nesting
        labels = value["values"].get(kind)
    score = region.get("score", value.get("score"))
    out: dict[str, Any] = {}
    w = float(region.get("original_width") or width or 0)
    h = float(region.get("original_height") or height or 0)
    if kind in ("rectanglelabels", "polygonlabels", "keypointlabels") and not (w > 0 and h > 0):
        raise ProtocolError("The image size is unknown: the region's percentages cannot be placed.")
    if kind == "rectanglelabels":
        out["bbox"] = {
            "left": _percent(value.get("x")) * w / 100,
            "top": _percent(value.get("y")) * h / 100,
            "width": _percent(value.get("width")) * w / 100,
            "height": _percent(value.get("height")) * h / 100,
        }
    elif kind == "polygonlabels":
        points = value.get("points")
        if not isinstance(points, list) or not all(isinstance(p, list | tuple) and len(p) == 2 for p in points):
            raise ProtocolError("A polygon's points are not [x, y] pairs.")
        out["polygon"] = [{"x": _percent(x) * w / 100, "y": _percent(y) * h / 100} for x, y in points]
    elif kind == "keypointlabels":
        out["point"] = {"x": _percent(value.get("x")) * w / 100, "y": _percent(value.get("y")) * h / 100}
    elif kind == "labels":
        out["location"] = {"start": value.get("start"), "end": value.get("end")}
    elif kind == "choices":
        choices = value.get("choices")
        if not isinstance(choices, list) or not choices:
            raise ProtocolError("A choices region has no choices.")
        out["name"] = str(region.get("from_name") or "")
        out["answer"] = {"name": str(choices[0])}
        labels = None
    else:
        raise ProtocolError(f"Region type {str(kind)[:40]!r} is not supported.")
    if kind != "choices":
        if not isinstance(labels, list) or not labels:
            raise ProtocolError(f"A {kind} region has no label.")
        out["name"] = str(labels[0])
    if isinstance(score, int | float) and not isinstance(score, bool) and math.isfinite(score):
        out["confidence"] = min(1.0, max(0.0, float(score)))
    return out


def parse_ls_answer(payload: Any, rows: list[dict[str, Any]]) -> Answer:
    results = payload.get("results") if isinstance(payload, dict) else payload
    if not isinstance(results, list):
        raise ProtocolError('The answer is not {"results": [...]} (Label Studio ML backend protocol).')
    version = ""
    parsed: dict[str, RowResult] = {}
    for index, row in enumerate(rows):
        if index >= len(results):
            parsed[row["id"]] = RowResult(error="The answer has no result for this task.")
            continue
        item = results[index]
        if not isinstance(item, dict) or not isinstance(item.get("result", []), list):
            parsed[row["id"]] = RowResult(error='The prediction has no "result" list.')
            continue
        version = version or _version(item.get("model_version"))
        annotations: list[dict[str, Any]] = []
        try:
            for region in item.get("result", []):
                annotation = ls_region(region, width=row.get("width"), height=row.get("height"))
                if "confidence" not in annotation and isinstance(item.get("score"), int | float):
                    annotation["confidence"] = min(1.0, max(0.0, float(item["score"])))
                annotations.append(annotation)
        except ProtocolError as exc:
            parsed[row["id"]] = RowResult(error=_short(str(exc)))
            continue
        parsed[row["id"]] = RowResult(annotations=annotations)
    if isinstance(payload, dict):
        version = version or _version(payload.get("model_version"))
    return Answer(model_version=version, rows=parsed)


# --- class names → features ----------------------------------------------------------------------------------------


def map_classes(
    annotations: list[dict[str, Any]], class_map: dict[str, str], feature_names: set[str]
) -> tuple[list[dict[str, Any]], list[str]]:
    """Rename each annotation's model class to its feature (`class_map`, else the same name when it is a feature);
    annotations of unknown classes are dropped with a message (one per class)."""
    mapped: list[dict[str, Any]] = []
    unknown: list[str] = []
    for annotation in annotations:
        if "schema_id" in annotation and "name" not in annotation:
            mapped.append(annotation)
            continue
        name = str(annotation.get("name", ""))
        feature = class_map.get(name, name if name in feature_names else None)
        if feature is None:
            if name not in unknown:
                unknown.append(name)
            continue
        mapped.append({**annotation, "name": feature})
    messages = [f"The model's class {n[:80]!r} maps to no feature (add it to the class map)." for n in unknown]
    return mapped, messages
