"""The client address of a request, under one trusted-proxy policy (`TDP_TRUSTED_PROXIES`) shared by the throttles,
the login lockout (django-axes) and the audit trail.

`TDP_TRUSTED_PROXIES = 0` (the default: the app is reached directly) uses `REMOTE_ADDR` and ignores
`X-Forwarded-For`, which any client can write. With N > 0 proxies in front (e.g. 1 behind the load balancer of
docs/deploy.md), each proxy appends the address it received the connection from, so the N-th address from the
right of `X-Forwarded-For` is the one the outermost trusted proxy saw: whatever a client puts to its left is
ignored. A header shorter than N entries, or an entry that is not an IP address, falls back to `REMOTE_ADDR`
(the request did not come through the expected chain of proxies).
"""

from __future__ import annotations

import ipaddress
from typing import Any

from django.conf import settings


def _ip_or_none(value: str) -> str | None:
    value = value.strip()
    if value.startswith("[") and "]" in value:  # "[2001:db8::1]:443"
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:  # "203.0.113.7:51234"
        value = value.split(":", 1)[0]
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def trusted_proxies() -> int:
    return max(0, int(getattr(settings, "TDP_TRUSTED_PROXIES", 0)))


def client_ip(request: Any) -> str | None:
    """The address of the client as the trusted proxies saw it (see the module docstring)."""
    meta = request.META
    remote = _ip_or_none(str(meta.get("REMOTE_ADDR") or ""))
    proxies = trusted_proxies()
    if proxies == 0:
        return remote
    entries = [entry for entry in str(meta.get("HTTP_X_FORWARDED_FOR") or "").split(",") if entry.strip()]
    if len(entries) < proxies:
        return remote
    return _ip_or_none(entries[-proxies]) or remote
