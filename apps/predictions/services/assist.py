"""Interactive assist: a labeler's click or rough box → the project's interactive endpoint (`POST /assist`, TDP v1)
→ a refined annotation to accept or reject. The server makes the call (the browser never sees the secret)."""

from __future__ import annotations

import math
import time
from typing import Any

from apps.core.errors import ApplicationError, Conflict, ValidationFailed
from apps.core.ids import is_uuid
from apps.labeling.models import Task
from apps.predictions.domain import endpoint_protocols as protocols
from apps.predictions.models import EndpointKind, ModelEndpoint
from apps.predictions.services.endpoint_client import EndpointCallError, call, row_payload
from apps.predictions.services.endpoints import ontology_features


class EndpointFailed(ApplicationError):
    status_code = 502
    code = "model_endpoint_failed"
    default_message = "The model endpoint did not give a usable answer."


def _finite(*values: Any) -> bool:
    return all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in values)


def _hint(point: Any, bbox: Any) -> dict[str, Any]:
    if (point is None) == (bbox is None):
        raise ValidationFailed('Send either "point" {"x", "y"} or "bbox" {"left", "top", "width", "height"}.')
    if point is not None:
        if not isinstance(point, dict) or not _finite(point.get("x"), point.get("y")):
            raise ValidationFailed("point must be {x, y} numbers.", details={"point": ["Invalid."]})
        return {"point": {"x": float(point["x"]), "y": float(point["y"])}}
    keys = ("left", "top", "width", "height")
    if (
        not isinstance(bbox, dict)
        or not _finite(*(bbox.get(k) for k in keys))
        or min(bbox["width"], bbox["height"]) <= 0
    ):
        raise ValidationFailed("bbox must be {left, top, width, height} numbers.", details={"bbox": ["Invalid."]})
    return {"bbox": {k: float(bbox[k]) for k in keys}}


def task_assist(*, task: Task, point: Any = None, bbox: Any = None) -> dict[str, Any]:
    """`{"suggestion": annotation | null, "ms", "model_version"}`; 409 without an interactive endpoint, 502 when the
    endpoint fails (its answer is never quoted)."""
    hint = _hint(point, bbox)
    endpoint_id = (task.project.settings.get("model") or {}).get("interactive_endpoint")
    endpoint = None
    if isinstance(endpoint_id, str) and is_uuid(endpoint_id):
        endpoint = ModelEndpoint.objects.filter(
            pk=endpoint_id, organization_id=task.project.organization_id, kind=EndpointKind.INTERACTIVE
        ).first()
    if endpoint is None:
        raise Conflict("This project has no interactive model endpoint (settings: model.interactive_endpoint).")
    features = ontology_features(endpoint.ontology)
    body = {"protocol": protocols.TDP_PROTOCOL, "features": features, "row": row_payload(task.data_row), **hint}
    started = time.monotonic()
    try:
        called = call(endpoint, "POST", "/assist", body)
    except EndpointCallError as exc:
        raise EndpointFailed(exc.message) from None
    ms = round((time.monotonic() - started) * 1000, 1)
    payload = called.payload if isinstance(called.payload, dict) else {}
    suggestion = payload.get("suggestion")
    if suggestion is not None and not isinstance(suggestion, dict):
        raise EndpointFailed('The answer\'s "suggestion" is not an annotation object.')
    if suggestion is not None:
        names = {f["name"] for f in features}
        mapped, messages = protocols.map_classes([suggestion], endpoint.class_map, names)
        if messages:
            raise EndpointFailed(messages[0])
        suggestion = mapped[0]
    version = payload.get("model_version")
    return {"suggestion": suggestion, "ms": ms, "model_version": str(version)[:200] if version else None}
