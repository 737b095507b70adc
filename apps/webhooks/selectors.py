"""Reads of the webhooks app (the caller has checked access)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from apps.accounts.models import Organization
from apps.webhooks.models import Webhook, WebhookDelivery


def webhooks_of(*, organization: Organization) -> QuerySet[Webhook]:
    return Webhook.objects.filter(organization=organization)


def deliveries_of(*, webhook: Webhook) -> QuerySet[WebhookDelivery]:
    return WebhookDelivery.objects.filter(webhook=webhook).select_related("event")


def serialize_webhook(webhook: Webhook, *, with_secret: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": str(webhook.id),
        "url": webhook.url,
        "events": list(webhook.events),
        "project": str(webhook.project_id) if webhook.project_id else None,
        "active": webhook.active,
        "failing": webhook.failing,
        "failing_since": webhook.failing_since.isoformat() if webhook.failing_since else None,
        "created_by": str(webhook.created_by_id) if webhook.created_by_id else None,
        "created_at": webhook.created_at.isoformat(),
    }
    if with_secret:
        body["secret"] = webhook.secret
    return body


def serialize_delivery(delivery: WebhookDelivery) -> dict[str, Any]:
    return {
        "id": str(delivery.id),
        "event": {
            "id": str(delivery.event_id),
            "type": delivery.event.type,
            "created_at": delivery.event.created_at.isoformat(),
        },
        "attempt": delivery.attempt,
        "manual": delivery.manual,
        "state": delivery.state,
        "status_code": delivery.status_code,
        "latency_ms": delivery.latency_ms,
        "response_body": delivery.response_body,
        "error": delivery.error,
        "next_retry_at": delivery.next_retry_at.isoformat() if delivery.next_retry_at else None,
        "delivered_at": delivery.delivered_at.isoformat() if delivery.delivered_at else None,
        "created_at": delivery.created_at.isoformat(),
    }
