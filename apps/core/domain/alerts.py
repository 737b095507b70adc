"""Alert rules as plain data: which audit action each kind counts, the defaults, the subject key, validation."""

from __future__ import annotations

from dataclasses import dataclass

DENIED_REQUESTS = "denied_requests"
FAILED_LOGINS = "failed_logins"
BULK_RAW_ACCESS = "bulk_raw_access"

# The audit action each kind counts (see `apps.core.audit`).
COUNTED_ACTION = {
    DENIED_REQUESTS: "api.denied",
    FAILED_LOGINS: "auth.login_failed",
    BULK_RAW_ACCESS: "data_row.content_accessed",
}

MAX_WINDOW_MINUTES = 7 * 24 * 60
MAX_THRESHOLD = 1_000_000


@dataclass(frozen=True)
class RuleDefaults:
    kind: str
    threshold: int
    window_minutes: int


# Created for every organization; admins tune or disable them.
DEFAULT_RULES = (
    RuleDefaults(DENIED_REQUESTS, threshold=20, window_minutes=10),
    RuleDefaults(FAILED_LOGINS, threshold=10, window_minutes=10),
    RuleDefaults(BULK_RAW_ACCESS, threshold=1000, window_minutes=60),
)


def subject_key(*, actor_id: object | None, ip: str | None) -> str | None:
    """Who an alert is about: the user when known, else the client address; None when neither is known."""
    if actor_id:
        return f"user:{actor_id}"
    if ip:
        return f"ip:{ip}"
    return None


def rule_errors(*, kind: str | None, threshold: object, window_minutes: object) -> dict[str, list[str]]:
    """Field errors of a rule's settings (`kind` None: unchanged)."""
    errors: dict[str, list[str]] = {}
    if kind is not None and kind not in COUNTED_ACTION:
        errors["kind"] = [f"Choose one of: {', '.join(COUNTED_ACTION)}."]
    if not _int_between(threshold, 1, MAX_THRESHOLD):
        errors["threshold"] = [f"An integer from 1 to {MAX_THRESHOLD}."]
    if not _int_between(window_minutes, 1, MAX_WINDOW_MINUTES):
        errors["window_minutes"] = [f"An integer from 1 to {MAX_WINDOW_MINUTES} (one week)."]
    return errors


def _int_between(value: object, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def breached(*, count: int, threshold: int) -> bool:
    return count >= threshold
