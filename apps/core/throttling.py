"""Rate limits kept in the `throttle` cache (Redis when configured, else per-process memory): no DB round trips.

If the cache cannot be reached (Redis down), requests are let through and a warning is logged: rate limiting is a
protection, not a reason to refuse a labeler's submit."""

import logging
from typing import Any

from django.core.cache import caches
from rest_framework import throttling

from apps.core.client_address import client_ip

logger = logging.getLogger(__name__)


class ClientAddressMixin:
    """Throttles key anonymous clients by the address of `apps.core.client_address` (`TDP_TRUSTED_PROXIES`), never
    by a raw `X-Forwarded-For` a client can rotate."""

    def get_ident(self, request: Any) -> str:
        return client_ip(request) or "unknown"


class FailOpenMixin:
    def allow_request(self, request: Any, view: Any) -> bool:
        try:
            return super().allow_request(request, view)  # type: ignore[misc]
        except Exception as exc:  # the cache backend is unreachable
            logger.warning("Rate-limit cache unavailable (%s: %s); request allowed", type(exc).__name__, exc)
            return True


class AnonRateThrottle(ClientAddressMixin, FailOpenMixin, throttling.AnonRateThrottle):
    cache = caches["throttle"]


class UserRateThrottle(ClientAddressMixin, FailOpenMixin, throttling.UserRateThrottle):
    cache = caches["throttle"]


class ScopedRateThrottle(ClientAddressMixin, FailOpenMixin, throttling.ScopedRateThrottle):
    cache = caches["throttle"]


class LoginRateThrottle(ClientAddressMixin, throttling.SimpleRateThrottle):
    """Login form posts per client address (`login` rate): slows password spraying across many usernames, which the
    per-username lockout (django-axes) does not see. Works on plain Django requests (the login pages)."""

    cache = caches["throttle"]
    scope = "login"

    def get_cache_key(self, request, view):  # type: ignore[no-untyped-def]
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
