"""`GET /projects/{id}/exports/video?kind=ndjson|mot|coco|cvat[&interpolated=true][&data_row=<id>]`: the project's
video labels streamed (see docs/api-extensions.md, "Video exports")."""

from __future__ import annotations

import uuid

from django.http import HttpResponseBase, StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.views import APIView

from apps.accounts.access import request_user
from apps.core.errors import ValidationFailed
from apps.exports.access import access_project_export
from apps.exports.video_export import FORMATS, video_export_stream

_TRUE = {"1", "true", "yes"}
_BOOL = _TRUE | {"0", "false", "no", ""}


class ProjectVideoExportApi(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("kind", str, enum=list(FORMATS), required=True, description="The export format."),
            OpenApiParameter("interpolated", bool, description="NDJSON: add every frame's objects (`frames`)."),
            OpenApiParameter("data_row", str, description="One video row (required for mot and cvat)."),
        ],
        responses={(200, "application/octet-stream"): OpenApiTypes.STR},
    )
    def get(self, request: Request, project_id: str) -> HttpResponseBase:
        actor = request_user(request)
        project = access_project_export(actor, project_id)
        params = request.query_params
        unknown = set(params) - {"kind", "interpolated", "data_row"}
        if unknown:
            raise ValidationFailed("Unknown parameters.", details={k: ["Unknown parameter."] for k in sorted(unknown)})
        fmt = params.get("kind", "")
        interpolated = params.get("interpolated", "").lower()
        if interpolated not in _BOOL:
            raise ValidationFailed("interpolated must be true or false.", details={"interpolated": ["Invalid."]})
        data_row = params.get("data_row") or None
        if data_row is not None:
            try:
                data_row = str(uuid.UUID(data_row))
            except ValueError:
                raise ValidationFailed("data_row must be a data row id.", details={"data_row": ["Invalid."]}) from None
        pieces = video_export_stream(
            actor=actor, project=project, fmt=fmt, data_row_id=data_row, interpolated=interpolated in _TRUE
        )
        content_type, extension = FORMATS[fmt]
        response = StreamingHttpResponse(pieces, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="video-{project.pk}-{fmt}.{extension}"'
        response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "no-store"
        return response
