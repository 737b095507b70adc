"""Webhook subscriptions and deliveries, and `verify_signature` for the receiving side."""

from __future__ import annotations

import builtins
import hashlib
import hmac
import time
from collections.abc import Iterator
from typing import Any

from tdp_sdk._http import route
from tdp_sdk.resources._base import Resource, body


def verify_signature(
    secret: str,
    body_bytes: bytes,
    timestamp: str,
    signature: str,
    *,
    tolerance_seconds: int = 300,
    now: float | None = None,
) -> bool:
    """True when `X-TDP-Signature` (`sha256=<hex>`) is the HMAC-SHA256 of `"<timestamp>.<body>"` with the
    subscription's secret and `X-TDP-Timestamp` is within `tolerance_seconds` (replays of old deliveries fail)."""
    try:
        sent_at = float(timestamp)
    except (TypeError, ValueError):
        return False
    if abs((time.time() if now is None else now) - sent_at) > tolerance_seconds:
        return False
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + body_bytes, hashlib.sha256).hexdigest()
    given = signature.removeprefix("sha256=")
    return hmac.compare_digest(expected, given)


class Webhooks(Resource):
    @route("GET", "/webhooks")
    def list(self) -> Iterator[dict[str, Any]]:
        return self._http.pages("/webhooks")

    @route("POST", "/webhooks")
    def create(self, url: str, events: builtins.list[str], project: str | None = None) -> dict[str, Any]:
        """The answer's `secret` is shown once: keep it for `verify_signature`."""
        return self._http.json("POST", "/webhooks", json_body=body(url=url, events=events, project=project))

    @route("GET", "/webhooks/{webhook_id}")
    def get(self, webhook_id: str) -> dict[str, Any]:
        return self._http.json("GET", f"/webhooks/{webhook_id}")

    @route("PATCH", "/webhooks/{webhook_id}")
    def update(self, webhook_id: str, **fields: Any) -> dict[str, Any]:
        return self._http.json("PATCH", f"/webhooks/{webhook_id}", json_body=fields)

    @route("DELETE", "/webhooks/{webhook_id}")
    def delete(self, webhook_id: str) -> None:
        self._http.json("DELETE", f"/webhooks/{webhook_id}")

    @route("GET", "/webhooks/{webhook_id}/deliveries")
    def deliveries(self, webhook_id: str) -> Iterator[dict[str, Any]]:
        return self._http.pages(f"/webhooks/{webhook_id}/deliveries")

    @route("POST", "/webhooks/{webhook_id}/test")
    def test(self, webhook_id: str) -> Any:
        return self._http.json("POST", f"/webhooks/{webhook_id}/test", json_body={})

    @route("POST", "/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver")
    def redeliver(self, webhook_id: str, delivery_id: str) -> Any:
        return self._http.json("POST", f"/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver", json_body={})
