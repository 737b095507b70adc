"""Retry schedule: 6 tries in about an hour, then the webhook is marked failing."""

from __future__ import annotations

from datetime import timedelta

# Wait before try 2, 3, 4, 5, 6 (after the first try failed): 1 + 5 + 10 + 20 + 30 = 66 minutes in all.
RETRY_DELAYS_MINUTES: tuple[int, ...] = (1, 5, 10, 20, 30)
MAX_ATTEMPTS = len(RETRY_DELAYS_MINUTES) + 1
RESPONSE_MAX_BYTES = 2048


def retry_delay(attempt: int) -> timedelta | None:
    """The wait before the next try after try number `attempt` (1-based) failed; None when it was the last."""
    if attempt < 1 or attempt >= MAX_ATTEMPTS:
        return None
    return timedelta(minutes=RETRY_DELAYS_MINUTES[attempt - 1])


def is_success(status: int | None) -> bool:
    return status is not None and 200 <= status < 300


def truncate_response(body: bytes, limit: int = RESPONSE_MAX_BYTES) -> str:
    """The receiver's answer as text of at most `limit` UTF-8 bytes (a cut or invalid sequence is dropped)."""
    return body[:limit].decode("utf-8", errors="ignore")
