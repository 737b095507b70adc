"""Serving stored assets safely: the content type comes from the file's magic bytes (never its name or the
uploader), only raster image types are served inline, everything is `nosniff` and sandboxed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO

from django.core.files.storage import default_storage
from django.http import HttpResponse, StreamingHttpResponse

from apps.datasets.services import sanitize_filename

_SIGNATURES: list[tuple[bytes, str]] = [
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
]
SAFE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Cache-Control": "private, max-age=300",
}


def sniff_image_type(head: bytes) -> str | None:
    for signature, content_type in _SIGNATURES:
        if head.startswith(signature):
            return content_type
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def _stream(handle: IO[bytes], head: bytes) -> Iterator[bytes]:
    try:
        if head:
            yield head
        while chunk := handle.read(65536):
            yield chunk
    finally:
        handle.close()


def safe_headers(response: HttpResponse | StreamingHttpResponse) -> HttpResponse | StreamingHttpResponse:
    for header, value in SAFE_HEADERS.items():
        response[header] = value
    return response


def stored_file_response(storage_name: str, media_type: str) -> StreamingHttpResponse:
    handle = default_storage.open(storage_name, "rb")
    head = handle.read(32)
    content_type = sniff_image_type(head) if media_type == "image" else None
    filename = sanitize_filename(storage_name.rsplit("/", 1)[-1])
    if content_type is not None:
        disposition = f'inline; filename="{filename}"'
    elif media_type == "text":
        content_type = "text/plain; charset=utf-8"
        disposition = f'inline; filename="{filename}"'
    else:
        content_type = "application/octet-stream"
        disposition = f'attachment; filename="{filename}"'
    response = StreamingHttpResponse(_stream(handle, head), content_type=content_type)
    response["Content-Disposition"] = disposition
    safe_headers(response)
    return response


def inline_text_response(text: str) -> HttpResponse:
    response = HttpResponse(text.encode("utf-8"), content_type="text/plain; charset=utf-8")
    safe_headers(response)
    return response
