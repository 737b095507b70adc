"""Keeps the current request's client address and user agent at hand for the audit trail."""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from apps.core.client_address import client_ip
from apps.core.errors import ApplicationError, NotFound, PermissionDenied

__all__ = ["RequestContext", "client_ip", "current_request_context", "current_user"]


@dataclass(frozen=True)
class RequestContext:
    ip: str | None
    user_agent: str
    request: HttpRequest | None = None
    # Per-request memo (e.g. object permissions already read); dropped with the request.
    memo: dict[Any, Any] = field(default_factory=dict)


_current: ContextVar[RequestContext | None] = ContextVar("tdp_request_context", default=None)


def current_request_context() -> RequestContext | None:
    return _current.get()


def current_user() -> Any:
    """The authenticated user of the request being served, or None (admin forms that cannot be handed one)."""
    context = _current.get()
    user = getattr(context.request, "user", None) if context else None
    return user if user is not None and user.is_authenticated else None


class RequestContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _current.set(
            RequestContext(
                ip=client_ip(request), user_agent=request.META.get("HTTP_USER_AGENT", "")[:300], request=request
            )
        )
        try:
            return self.get_response(request)
        finally:
            _current.reset(token)


class PageErrorMiddleware:
    """Server-rendered pages share services with the API: their `ApplicationError`s become the matching error page
    (404 for missing or other-organization objects, 403 for forbidden, 409/400 otherwise) instead of a 500."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if request.path.startswith("/api/") or not isinstance(exception, ApplicationError):
            return None
        if isinstance(exception, NotFound):
            return render(request, "errors/404.html", status=404)
        if isinstance(exception, PermissionDenied):
            return render(request, "errors/403.html", status=403)
        return render(request, "errors/400.html", {"message": exception.message}, status=exception.status_code)


class ApiErrorShapeMiddleware:
    """API clients get the error shape in every mode: with DEBUG on, Django answers an unknown `/api/` path (and an
    unhandled exception) with its HTML debug page instead of calling `handler404`/`handler500`. Such an HTML error
    answer under `/api/` is replaced by the shape here (the traceback is still logged by `django.request`)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.status_code in (404, 500)
            and request.path.startswith("/api/")
            and response.get("Content-Type", "").startswith("text/html")
        ):
            from apps.core.exceptions import handler404, handler500  # imports DRF: not at module load

            return handler404(request) if response.status_code == 404 else handler500(request)
        return response
