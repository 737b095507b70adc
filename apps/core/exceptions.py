"""Renders every API error as `{"error": {"code", "message", "details"}}`, including Django's own 404/500."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.db import DataError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from rest_framework import exceptions as drf
from rest_framework.response import Response
from rest_framework.views import set_rollback

from apps.core.errors import ApplicationError, error_body

logger = logging.getLogger(__name__)

_DRF_CODES: list[tuple[type[drf.APIException], str, str | None]] = [
    (drf.ParseError, "malformed_body", None),
    (drf.NotAuthenticated, "not_authenticated", None),
    (drf.AuthenticationFailed, "authentication_failed", None),
    (drf.PermissionDenied, "permission_denied", None),
    (drf.NotFound, "not_found", None),
    (drf.MethodNotAllowed, "method_not_allowed", None),
    (drf.NotAcceptable, "not_acceptable", None),
    (drf.UnsupportedMediaType, "unsupported_media_type", None),
    (drf.Throttled, "throttled", None),
    (drf.ValidationError, "invalid", "Invalid input."),
]


def _drf_error(exc: drf.APIException) -> tuple[str, str, Any]:
    code, message = next(
        ((code, message) for exc_type, code, message in _DRF_CODES if isinstance(exc, exc_type)), ("error", None)
    )
    if isinstance(exc, drf.ValidationError):
        details: Any = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        return code, message or "Invalid input.", details
    if isinstance(exc, drf.Throttled):
        return code, str(exc.detail), {"wait_seconds": getattr(exc, "wait", None)}
    return code, message or str(exc.detail), {}


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    headers: dict[str, str] = {}
    if isinstance(exc, ApplicationError):
        status, body = exc.status_code, error_body(exc.code, exc.message, exc.details)
    elif isinstance(exc, Http404):
        status, body = 404, error_body("not_found", "Not found.")
    elif isinstance(exc, DjangoPermissionDenied):
        status, body = 403, error_body("permission_denied", "You do not have permission to perform this action.")
    elif isinstance(exc, RequestDataTooBig):
        status, body = 413, error_body("payload_too_large", "The request body is too large.")
    elif isinstance(exc, DataError):  # a value the database refuses (too long, out of range): the caller's input
        logger.warning("Value refused by the database: %s", exc)
        status, body = 400, error_body("invalid_value", "A value is too long or out of range.")
    elif isinstance(exc, drf.APIException):
        code, message, details = _drf_error(exc)
        status, body = exc.status_code, error_body(code, message, details)
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header  # type: ignore[attr-defined]
        if getattr(exc, "wait", None) is not None:
            headers["Retry-After"] = str(int(exc.wait or 0))  # type: ignore[attr-defined]
    else:
        logger.exception("Unhandled API error", exc_info=exc)
        status, body = 500, error_body("server_error", "An unexpected error occurred; it has been logged.")
    set_rollback()
    return Response(body, status=status, headers=headers)


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def handler404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_api(request):
        return JsonResponse(error_body("not_found", "Not found."), status=404)
    return render(request, "errors/404.html", status=404)


def handler403(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_api(request):
        return JsonResponse(error_body("permission_denied", "You do not have permission."), status=403)
    return render(request, "errors/403.html", status=403)


def handler400(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_api(request):
        return JsonResponse(error_body("bad_request", "Bad request."), status=400)
    return render(request, "errors/400.html", status=400)


def handler500(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        return JsonResponse(error_body("server_error", "An unexpected error occurred; it has been logged."), status=500)
    return render(request, "errors/500.html", status=500)
