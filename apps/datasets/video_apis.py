"""Video rows over HTTP: the probe's figures and frame times, the poster and the thumbnail strip."""

from __future__ import annotations

from django.core.files.storage import default_storage
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.access import request_user
from apps.core.errors import NotFound
from apps.datasets.access import access_data_row
from apps.datasets.http_content import safe_headers
from apps.datasets.models import DataRow, MediaType, VideoAsset
from apps.datasets.video import video_document


def _video_row(request: Request, data_row_id: str) -> tuple[DataRow, VideoAsset | None]:
    data_row = access_data_row(request_user(request), data_row_id)
    if data_row.media_type != MediaType.VIDEO:
        raise NotFound("This data row is not a video.", code="not_a_video")
    return data_row, VideoAsset.objects.filter(pk=data_row.pk).first()


class DataRowVideoApi(APIView):
    """`status` (pending, ready, failed with `error`), and once ready the probed figures and every frame's start
    time in seconds (`frame_times`, from the stream's timestamps: exact under variable frame rate)."""

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request, data_row_id: str) -> Response:
        data_row, asset = _video_row(request, data_row_id)
        return Response({"data_row": str(data_row.pk), **video_document(asset)})


class DataRowVideoImageApi(APIView):
    """The poster frame or the thumbnail strip (JPEG)."""

    kind = "poster"

    @extend_schema(responses={(200, "image/jpeg"): OpenApiTypes.BINARY})
    def get(self, request: Request, data_row_id: str) -> HttpResponse:
        _data_row, asset = _video_row(request, data_row_id)
        name = getattr(asset, self.kind, "") if asset is not None else ""
        if not name or not default_storage.exists(name):
            raise NotFound(f"This video has no {self.kind} (yet).", code="video_image_missing")
        with default_storage.open(name, "rb") as handle:
            response = HttpResponse(handle.read(), content_type="image/jpeg")
        safe_headers(response)
        return response
