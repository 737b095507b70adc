"""Background work of the webhooks app (django-q2): ids in, re-fetch, safe to run twice."""

from __future__ import annotations

from datetime import datetime

from django_q.tasks import async_task

from apps.webhooks import services


def deliver(delivery_id: str) -> str | None:
    """Try one pending delivery (a no-op when it is already done or being tried)."""
    delivery = services.delivery_perform(delivery_id=delivery_id)
    return delivery.state if delivery is not None else None


def deliver_due(now: datetime | None = None) -> int:
    """Every minute (a django-q2 Schedule): enqueue the pending tries that are due. Returns how many."""
    ids = services.due_delivery_ids(now=now)
    for delivery_id in ids:
        async_task("apps.webhooks.tasks.deliver", delivery_id, task_name=f"webhook:{delivery_id}")
    return len(ids)


def notify_failing(webhook_id: str) -> bool:
    return services.webhook_failure_notify(webhook_id=webhook_id)
