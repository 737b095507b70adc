"""Video rows over HTTP: the probe's figures and frame times, the poster and the thumbnail strip."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import IO

from django.core.files.storage import default_storage
from django.http import HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.http.response import HttpResponseBase
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.access import request_user
from apps.core.errors import NotFound
from apps.datasets import services
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


_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def _video_type(head: bytes) -> str:
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "video/webm"
    if head[4:8] == b"ftyp":
        return "video/mp4"
    return "application/octet-stream"


class DataRowVideoStreamApi(APIView):
    """The video's bytes for a player, with HTTP Range requests (206) so the browser can seek; URL and bucket rows
    redirect as `/content` does. The access is audited once per playback (the request from byte 0)."""

    @extend_schema(responses={(200, "video/mp4"): OpenApiTypes.BINARY, 206: None, 302: None, 416: None})
    def get(self, request: Request, data_row_id: str) -> HttpResponseBase:
        actor = request_user(request)
        data_row, _asset = _video_row(request, data_row_id)
        match = _RANGE.match(request.headers.get("Range", "").strip())
        start = int(match.group(1)) if match and match.group(1) else 0
        playback_start = not match or match.group(1) == "0"
        if playback_start or not data_row.row_data.startswith("upload://"):
            content = services.data_row_content(actor=actor, data_row=data_row)  # audits
        else:  # the player's later range requests of the same playback
            content = services.Content("file", data_row.row_data.removeprefix("upload://"), "video")
        if content.kind != "file":
            response = safe_headers(HttpResponseRedirect(content.value))
            response["Cache-Control"] = "no-store"
            return response
        if not content.value.startswith(f"uploads/{data_row.organization_id}/") or ".." in content.value:
            raise NotFound("The video file is missing.", code="content_missing")
        try:
            size = default_storage.size(content.value)
            handle = default_storage.open(content.value, "rb")
        except (FileNotFoundError, OSError):
            raise NotFound("The video file is missing from storage.", code="content_missing") from None
        head = handle.read(16)
        end = size - 1
        if match:
            if match.group(1):
                end = min(int(match.group(2)), size - 1) if match.group(2) else size - 1
            elif match.group(2):  # the last N bytes
                start, end = max(size - int(match.group(2)), 0), size - 1
            if start > end or start >= size:
                handle.close()
                response = HttpResponse(status=416)
                response["Content-Range"] = f"bytes */{size}"
                return safe_headers(response)
        handle.seek(start)
        response = StreamingHttpResponse(
            _chunks(handle, end - start + 1), status=206 if match else 200, content_type=_video_type(head)
        )
        response["Content-Length"] = str(end - start + 1)
        response["Accept-Ranges"] = "bytes"
        if match:
            response["Content-Range"] = f"bytes {start}-{end}/{size}"
        safe_headers(response)
        return response


def _chunks(handle: IO[bytes], length: int) -> Iterator[bytes]:
    try:
        while length > 0:
            chunk = handle.read(min(65536, length))
            if not chunk:
                return
            length -= len(chunk)
            yield chunk
    finally:
        handle.close()
