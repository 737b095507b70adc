"""Rate limits kept in the `throttle` cache (Redis when configured, else per-process memory): no DB round trips."""

from django.core.cache import caches
from rest_framework import throttling


class AnonRateThrottle(throttling.AnonRateThrottle):
    cache = caches["throttle"]


class UserRateThrottle(throttling.UserRateThrottle):
    cache = caches["throttle"]


class ScopedRateThrottle(throttling.ScopedRateThrottle):
    cache = caches["throttle"]
