"""The delivery envelope and its signature.

Receivers verify `X-TDP-Signature: sha256=<hex>` = HMAC-SHA256(secret, "<X-TDP-Timestamp>.<raw body>") and reject
timestamps too far from their clock (replays)."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from typing import Any

SIGNATURE_PREFIX = "sha256="


def generate_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def envelope(*, event_id: str, type: str, created_at: str, organization: str, data: dict[str, Any]) -> dict[str, Any]:
    return {"id": event_id, "type": type, "created_at": created_at, "organization": organization, "data": data}


def encode_body(body: dict[str, Any]) -> bytes:
    """Compact, key-sorted UTF-8 JSON: the same event always produces the same bytes."""
    return json.dumps(body, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode()


def sign(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return SIGNATURE_PREFIX + digest


def verify(
    secret: str, timestamp: int | str, body: bytes, signature: str, *, now: int | None = None, tolerance: int = 300
) -> bool:
    """What a receiver does: constant-time compare, and (with `now`) refuse stale timestamps."""
    try:
        ts = int(timestamp)
    except (TypeError, ValueError):
        return False
    if now is not None and abs(now - ts) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, ts, body), signature)


def headers(*, event_type: str, event_id: str, timestamp: int, signature: str) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-TDP-Event": event_type,
        "X-TDP-Delivery": event_id,
        "X-TDP-Timestamp": str(timestamp),
        "X-TDP-Signature": signature,
    }
