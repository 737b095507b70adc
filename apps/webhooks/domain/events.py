"""The event types a webhook may subscribe to."""

from __future__ import annotations

EVENT_TYPES: tuple[str, ...] = (
    "data_rows.imported",
    "label.created",
    "label.updated",
    "review.approved",
    "review.rejected",
    "issue.created",
    "issue.resolved",
    "task.done",
    "batch.done",
    "export.succeeded",
    "export.failed",
    "prediction_import.finished",
    "quality.threshold_breached",
    "expert_task.overdue",
)
# Sent only by `POST /api/v1/webhooks/{id}/test`, to that webhook; not subscribable.
TEST_EVENT = "webhook.test"


def unknown_event_types(events: object) -> list[str] | None:
    """None when `events` is a non-empty list of known types; else the offending entries (may be empty)."""
    if not isinstance(events, list) or not events:
        return []
    bad = [str(e) for e in events if not isinstance(e, str) or e not in EVENT_TYPES]
    return bad or None


def normalize_events(events: list[str]) -> list[str]:
    """Known types, deduplicated, in the canonical order."""
    wanted = set(events)
    return [e for e in EVENT_TYPES if e in wanted]
