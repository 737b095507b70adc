"""Lockout after repeated failed logins (django-axes), answered in the house shapes: JSON for the API, a page else."""

from __future__ import annotations

from typing import Any

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from apps.core.errors import error_body

LOCKOUT_STATUS = 429


class LockoutBackend(AxesStandaloneBackend):
    """Checks the lockout of every HTTP login (page, admin, token endpoint). Credentials checked without a request
    (management commands, `Client.login` in tests) are not HTTP logins and pass on to the next backend."""

    def authenticate(self, request: HttpRequest | None, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        if request is None:
            return None
        return super().authenticate(request, *args, **kwargs)  # type: ignore[no-any-return]


def lockout_minutes() -> int:
    return max(1, round(float(settings.AXES_COOLOFF_TIME) * 60))


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: dict[str, Any] | None = None
) -> HttpResponse:
    minutes = lockout_minutes()
    message = f"Too many failed logins. Try again in {minutes} minutes."
    if request.path.startswith("/api/"):
        body = error_body("locked_out", message, {"retry_after_seconds": minutes * 60})
        response: HttpResponse = JsonResponse(body, status=LOCKOUT_STATUS)
    else:
        response = render(request, "accounts/locked_out.html", {"message": message}, status=LOCKOUT_STATUS)
    response["Retry-After"] = str(minutes * 60)
    return response
