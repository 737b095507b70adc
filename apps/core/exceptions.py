"""Renders every API error as `{"error": {"code", "message", "details"}}`, including Django's own 404/500.

A database that cannot be reached (restarting, failing over, out of connections) is not a bug of the request: it
answers `503 {"error": {"code": "database_unavailable"}}` with `Retry-After`, for the API and for pages, so clients
and load balancers retry; the connection is re-opened on the next request (`CONN_HEALTH_CHECKS`)."""

from __future__ import annotations

import logging
import sys
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.db import DataError, InterfaceError, OperationalError
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


DATABASE_UNAVAILABLE = "The database is unavailable for a moment; retry after the delay in Retry-After."


def is_database_unavailable(exc: BaseException | None) -> bool:
    """Connection-level database failures (not constraint or data errors, which are bugs or bad input)."""
    return isinstance(exc, OperationalError | InterfaceError)


def _retry_after() -> str:
    return str(settings.TDP_DB_UNAVAILABLE_RETRY_AFTER)


def database_unavailable_response(request: HttpRequest) -> HttpResponse:
    """503 + Retry-After; rendered without templates or the database (the page layout would query the user)."""
    logger.warning("Database unavailable while serving %s %s", request.method, request.path, exc_info=True)
    if _is_api(request):
        response: HttpResponse = JsonResponse(
            error_body("database_unavailable", DATABASE_UNAVAILABLE, {"retry_after": int(_retry_after())}),
            status=503,
        )
    else:
        response = HttpResponse(
            "<!doctype html><title>Unavailable</title><h1>Back in a moment</h1>"
            "<p>The service is briefly unavailable. This page will work again shortly; please retry.</p>",
            status=503,
            content_type="text/html; charset=utf-8",
        )
    response["Retry-After"] = _retry_after()
    return response


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    headers: dict[str, str] = {}
    if is_database_unavailable(exc):
        logger.warning("Database unavailable during an API request", exc_info=exc)
        status = 503
        body = error_body("database_unavailable", DATABASE_UNAVAILABLE, {"retry_after": int(_retry_after())})
        headers["Retry-After"] = _retry_after()
    elif isinstance(exc, ApplicationError):
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
    try:
        set_rollback()
    except Exception:  # the connection is gone; there is nothing to roll back
        logger.debug("set_rollback failed", exc_info=True)
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
    # Django calls this inside its `except` block: the exception being handled is at hand.
    if is_database_unavailable(sys.exc_info()[1]):
        return database_unavailable_response(request)
    if _is_api(request):
        return JsonResponse(error_body("server_error", "An unexpected error occurred; it has been logged."), status=500)
    return render(request, "errors/500.html", status=500)
