"""Every write of the webhooks app: subscriptions, recording events for them, and delivery attempts.

An event (see `apps.core.events`) becomes one `WebhookEvent` row plus one pending `WebhookDelivery` per listening
webhook, in the caller's transaction; the delivery task is enqueued on commit, so a rolled-back write sends nothing.
A delivery attempt locks its pending row (`SKIP LOCKED`): a duplicate task skips it, and a succeeded row is never
sent again. A failed automatic try schedules the next one as a new pending row (`domain.retry`); after the last
one the webhook is marked failing and the organization's admins are emailed once.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Max, QuerySet
from django.utils import timezone

from apps.accounts.models import Organization, User
from apps.accounts.roles import OrgRole
from apps.core.access import get_in_organization
from apps.core.audit import audit_record
from apps.core.compiled import CompiledQuery
from apps.core.errors import ValidationFailed
from apps.core.events import Event
from apps.core.middleware import current_request_context
from apps.core.queue import enqueue_on_commit
from apps.core.url_safety import FetchFailed, UnsafeURL, safe_fetch, validate_outbound_url
from apps.labeling.models import Project
from apps.webhooks.domain import retry, signing
from apps.webhooks.domain.events import EVENT_TYPES, TEST_EVENT, normalize_events, unknown_event_types
from apps.webhooks.models import DeliveryState, Webhook, WebhookDelivery, WebhookEvent

MAX_WEBHOOKS_PER_ORGANIZATION = 100
_UNSET: Any = object()


# --- subscriptions ----------------------------------------------------------------------------------------------


def _clean_url(url: Any) -> str:
    if not isinstance(url, str) or not url.strip():
        raise ValidationFailed("A URL is required.", details={"url": ["An http(s) URL."]})
    url = url.strip()
    try:
        validate_outbound_url(url)
    except UnsafeURL as exc:
        details = exc.details if isinstance(exc.details, dict) else {}
        raise ValidationFailed(exc.message, code=exc.code, details={"url": [exc.message], **details}) from None
    return url


def _clean_events(events: Any) -> list[str]:
    bad = unknown_event_types(events)
    if bad is not None:
        message = "Unknown event type(s): " + ", ".join(bad) + "." if bad else "List at least one event type."
        raise ValidationFailed(
            message, code="unknown_event_type", details={"events": [message], "known": list(EVENT_TYPES)}
        )
    return normalize_events(events)


@transaction.atomic
def webhook_create(
    *, actor: User, organization: Organization, url: Any, events: Any, project_id: Any = None
) -> Webhook:
    """A new webhook with a generated secret (the caller shows `webhook.secret` once)."""
    clean_url = _clean_url(url)
    clean_events = _clean_events(events)
    project = None
    if project_id is not None:
        project = get_in_organization(Project.objects.all(), actor, project_id)
        if project.organization_id != organization.pk:
            raise ValidationFailed("The project belongs to another organization.", details={"project": ["Invalid."]})
    if Webhook.objects.filter(organization=organization).count() >= MAX_WEBHOOKS_PER_ORGANIZATION:
        raise ValidationFailed(f"At most {MAX_WEBHOOKS_PER_ORGANIZATION} webhooks per organization.")
    webhook = Webhook.objects.create(
        organization=organization,
        project=project,
        url=clean_url,
        events=clean_events,
        secret=signing.generate_secret(),
        created_by=actor if actor.is_authenticated else None,
    )
    audit_record(
        action="webhook.created",
        actor=actor,
        organization=organization,
        target=webhook,
        extra={"url": clean_url, "events": clean_events, "project": str(project.pk) if project else None},
    )
    return webhook


@transaction.atomic
def webhook_update(
    *, actor: User, webhook: Webhook, url: Any = _UNSET, events: Any = _UNSET, active: Any = _UNSET
) -> Webhook:
    webhook = Webhook.objects.select_for_update().get(pk=webhook.pk)
    changed: dict[str, Any] = {}
    if url is not _UNSET:
        webhook.url = changed["url"] = _clean_url(url)
    if events is not _UNSET:
        webhook.events = changed["events"] = _clean_events(events)
    if active is not _UNSET:
        if not isinstance(active, bool):
            raise ValidationFailed("active must be true or false.", details={"active": ["A boolean."]})
        webhook.active = changed["active"] = active
    if changed.get("active") or "url" in changed:
        # A fixed or re-enabled target gets a fresh start.
        webhook.failing, webhook.failing_since, webhook.failure_notified_at = False, None, None
    webhook.save()
    audit_record(
        action="webhook.updated", actor=actor, organization=webhook.organization, target=webhook, extra=changed
    )
    return webhook


@transaction.atomic
def webhook_delete(*, actor: User, webhook: Webhook) -> None:
    audit_record(action="webhook.deleted", actor=actor, organization=webhook.organization, target=webhook)
    webhook.delete()


# --- recording events -------------------------------------------------------------------------------------------


def _active_webhooks(*, organization_id: Any) -> QuerySet[Webhook]:
    return Webhook.objects.filter(organization_id=organization_id, active=True).only(
        "id", "organization_id", "project_id", "events"
    )


# Every labeling write that emits an event asks this (most organizations have no webhook): compiled once per thread.
ACTIVE_WEBHOOKS = CompiledQuery(_active_webhooks, organization_id="uuid")


def _listening(event: Event) -> list[Webhook]:
    """Active webhooks of the organization (org-wide or of the event's project) subscribed to the type: one indexed
    query, remembered for the rest of the request."""
    context = current_request_context()
    key = ("webhooks:active", str(event.organization_id))
    if context is not None and key in context.memo:
        hooks: list[Webhook] = context.memo[key]
    else:
        hooks = ACTIVE_WEBHOOKS.all(organization_id=event.organization_id)
        if context is not None:
            context.memo[key] = hooks
    project = str(event.project_id) if event.project_id is not None else None
    return [
        hook
        for hook in hooks
        if event.type in hook.events and (hook.project_id is None or str(hook.project_id) == project)
    ]


def is_listened(event: Event) -> bool:
    return bool(_listening(event))


def _enqueue(delivery_ids: list[str]) -> None:
    for delivery_id in delivery_ids:  # a lost message is retried by the `deliver_due` schedule
        enqueue_on_commit("apps.webhooks.tasks.deliver", delivery_id, task_name=f"webhook:{delivery_id}")


def on_event(event: Event) -> None:
    """The `apps.core.events` listener: record the event for the webhooks that listen to it (in the caller's
    transaction) and enqueue their deliveries after commit."""
    if event.type not in EVENT_TYPES:
        raise ValueError(f"Unknown event type {event.type!r}.")
    hooks = _listening(event)
    if not hooks:
        return
    with transaction.atomic():
        record = WebhookEvent.objects.create(
            type=event.type,
            organization_id=event.organization_id,
            project_id=event.project_id,
            payload=event.data(),
        )
        now = timezone.now()
        deliveries = WebhookDelivery.objects.bulk_create(
            WebhookDelivery(webhook=hook, event=record, attempt=1, next_retry_at=now) for hook in hooks
        )
        _enqueue([str(d.pk) for d in deliveries])


@transaction.atomic
def webhook_send_test(*, actor: User, webhook: Webhook) -> WebhookDelivery:
    """A `webhook.test` event delivered to this webhook only (one manual try, whatever its subscriptions)."""
    record = WebhookEvent.objects.create(
        type=TEST_EVENT,
        organization_id=webhook.organization_id,
        project_id=webhook.project_id,
        payload={"webhook": str(webhook.pk), "message": "A test event from TDP."},
    )
    delivery = WebhookDelivery.objects.create(
        webhook=webhook, event=record, attempt=1, manual=True, next_retry_at=timezone.now()
    )
    audit_record(action="webhook.tested", actor=actor, organization=webhook.organization, target=webhook)
    _enqueue([str(delivery.pk)])
    return delivery


@transaction.atomic
def delivery_redeliver(*, actor: User, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send the delivery's event again (same event id) as one manual try."""
    webhook = Webhook.objects.select_for_update().get(pk=delivery.webhook_id)
    top = WebhookDelivery.objects.filter(webhook=webhook, event_id=delivery.event_id).aggregate(top=Max("attempt"))
    again = WebhookDelivery.objects.create(
        webhook=webhook,
        event_id=delivery.event_id,
        attempt=(top["top"] or 0) + 1,
        manual=True,
        next_retry_at=timezone.now(),
    )
    audit_record(
        action="webhook.redelivered",
        actor=actor,
        organization=webhook.organization,
        target=webhook,
        extra={"event": str(delivery.event_id), "delivery": str(again.pk)},
    )
    _enqueue([str(again.pk)])
    return again


# --- delivering -------------------------------------------------------------------------------------------------


def _body(event: WebhookEvent) -> bytes:
    return signing.encode_body(
        signing.envelope(
            event_id=str(event.pk),
            type=event.type,
            created_at=event.created_at.isoformat(),
            organization=str(event.organization_id),
            data=event.payload,
        )
    )


def _post(webhook: Webhook, event: WebhookEvent) -> tuple[int | None, bytes, str]:
    """(status, answer, error): one POST through the SSRF guard, which re-resolves and re-checks the host."""
    body = _body(event)
    timestamp = int(time.time())
    headers = signing.headers(
        event_type=event.type,
        event_id=str(event.pk),
        timestamp=timestamp,
        signature=signing.sign(webhook.secret, timestamp, body),
    )
    try:
        result = safe_fetch(
            webhook.url,
            method="POST",
            body=body,
            headers=headers,
            max_bytes=retry.RESPONSE_MAX_BYTES,
            timeout=settings.TDP_WEBHOOK_TIMEOUT_SECONDS,
            follow_redirects=False,
            truncate=True,
        )
    except UnsafeURL as exc:
        return None, b"", f"Refused: {exc.message}"
    except FetchFailed as exc:
        return None, b"", exc.message
    error = "" if retry.is_success(result.status) else f"The receiver answered HTTP {result.status}."
    return result.status, result.body, error


def delivery_perform(*, delivery_id: Any, now: datetime | None = None) -> WebhookDelivery | None:
    """Try one pending delivery. Returns it after the try, or None when it is not pending (already done, or being
    tried by another worker right now). The row stays locked during the request, so a duplicate cannot send it."""
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("webhook", "event")
            .filter(pk=delivery_id, state=DeliveryState.PENDING)
            .first()
        )
        if delivery is None:
            return None
        webhook = delivery.webhook
        if not webhook.active and not delivery.manual:
            delivery.state = DeliveryState.FAILED
            delivery.error = "The webhook is inactive."
            delivery.next_retry_at = None
            delivery.save(update_fields=["state", "error", "next_retry_at", "updated_at"])
            return delivery
        started = time.monotonic()
        status, answer, error = _post(webhook, delivery.event)
        finished = timezone.now()
        delivery.latency_ms = int((time.monotonic() - started) * 1000)
        delivery.status_code = status
        delivery.response_body = retry.truncate_response(answer)
        delivery.error = error
        delivery.delivered_at = finished
        delivery.next_retry_at = None
        if retry.is_success(status):
            delivery.state = DeliveryState.SUCCEEDED
            delivery.save()
            Webhook.objects.filter(pk=webhook.pk, failing=True).update(
                failing=False, failing_since=None, failure_notified_at=None
            )
            return delivery
        delivery.state = DeliveryState.FAILED
        if not delivery.manual:
            _after_failure(delivery, webhook, now or finished)
        delivery.save()
        return delivery


def _after_failure(delivery: WebhookDelivery, webhook: Webhook, now: datetime) -> None:
    delay = retry.retry_delay(delivery.attempt)
    if delay is not None:
        delivery.next_retry_at = now + delay
        WebhookDelivery.objects.get_or_create(
            webhook=webhook,
            event_id=delivery.event_id,
            attempt=delivery.attempt + 1,
            defaults={"next_retry_at": now + delay},
        )
        return
    Webhook.objects.filter(pk=webhook.pk, failing=False).update(failing=True, failing_since=now)
    webhook_id = str(webhook.pk)
    enqueue_on_commit("apps.webhooks.tasks.notify_failing", webhook_id)


def due_delivery_ids(*, now: datetime | None = None, limit: int = 1000) -> list[str]:
    """Pending tries whose time has come (retries, and first tries whose task was lost)."""
    rows = (
        WebhookDelivery.objects.filter(state=DeliveryState.PENDING, next_retry_at__lte=now or timezone.now())
        .order_by("next_retry_at", "id")
        .values_list("id", flat=True)[:limit]
    )
    return [str(pk) for pk in rows]


def webhook_failure_notify(*, webhook_id: Any) -> bool:
    """Email the organization's admins that the webhook is failing, once per failing spell."""
    with transaction.atomic():
        webhook = Webhook.objects.select_for_update().select_related("organization").filter(pk=webhook_id).first()
        if webhook is None or not webhook.failing or webhook.failure_notified_at is not None:
            return False
        recipients = list(
            User.objects.filter(organization_id=webhook.organization_id, role=OrgRole.ADMIN, is_active=True)
            .exclude(email="")
            .values_list("email", flat=True)
        )
        if recipients:
            send_mail(
                subject=f"[TDP] Webhook failing: {webhook.url[:100]}",
                message=(
                    f"Deliveries to the webhook {webhook.url} of {webhook.organization.name} failed "
                    f"{retry.MAX_ATTEMPTS} times in a row since {webhook.failing_since:%Y-%m-%d %H:%M} UTC.\n"
                    "New events are still sent; the webhook is marked failing until a delivery succeeds. "
                    "See its deliveries in the admin or at GET /api/v1/webhooks/"
                    f"{webhook.pk}/deliveries.\n"
                ),
                from_email=None,
                recipient_list=recipients,
            )
        webhook.failure_notified_at = timezone.now()
        webhook.save(update_fields=["failure_notified_at", "updated_at"])
        return True
