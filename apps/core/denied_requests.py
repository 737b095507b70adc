"""Denied API requests (403 and 404 answers to signed-in users) go to the audit trail as `api.denied`, one INSERT
each, and ask for an alert check (`apps.core.alerts`): the counting happens in the worker, not here."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse

from apps.core.alerts import alert_check_later
from apps.core.audit import audit_record
from apps.core.domain.alerts import DENIED_REQUESTS

logger = logging.getLogger(__name__)

DENIED_STATUSES = frozenset({403, 404})


class DeniedRequestMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code in DENIED_STATUSES and request.path.startswith("/api/"):
            user = getattr(request, "user", None)
            organization_id = getattr(user, "organization_id", None)
            if user is not None and user.is_authenticated and organization_id is not None:
                self._record(request, response, user)
        return response

    def _record(self, request: HttpRequest, response: HttpResponse, user: object) -> None:
        try:
            event = audit_record(
                action="api.denied",
                actor=user,  # type: ignore[arg-type]
                extra={"method": request.method, "path": request.path[:300], "status": response.status_code},
            )
        except DatabaseError:  # the answer is already decided; a failed record must not turn it into a 500
            logger.exception("could not record a denied request")
            return
        alert_check_later(
            organization_id=event.organization_id, kind=DENIED_REQUESTS, actor_id=event.actor_id, ip=event.ip
        )
