"""Rate limits kept in the `throttle` cache (Redis when configured, else per-process memory): no DB round trips."""

from django.core.cache import caches
from rest_framework import throttling


class AnonRateThrottle(throttling.AnonRateThrottle):
    cache = caches["throttle"]


class UserRateThrottle(throttling.UserRateThrottle):
    cache = caches["throttle"]


class ScopedRateThrottle(throttling.ScopedRateThrottle):
    cache = caches["throttle"]


class LoginRateThrottle(throttling.SimpleRateThrottle):
    """Login form posts per client address (`login` rate): slows password spraying across many usernames, which the
    per-username lockout (django-axes) does not see. Works on plain Django requests (the login pages)."""

    cache = caches["throttle"]
    scope = "login"

    def get_cache_key(self, request, view):  # type: ignore[no-untyped-def]
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
