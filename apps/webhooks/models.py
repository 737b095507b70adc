"""Webhooks: subscriptions, the events recorded for them and every delivery attempt."""

from __future__ import annotations

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

from apps.core.ids import uuid7
from apps.core.models import BaseModel, OrganizationOwnedModel


class Webhook(OrganizationOwnedModel):
    """A target URL that receives the organization's (or one project's) events of the listed types."""

    project = models.ForeignKey("labeling.Project", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    url = models.CharField(max_length=2048)
    events = models.JSONField(default=list)
    active = models.BooleanField(default=True)
    # The raw secret signs every delivery; it is returned once, by the create call, and never again.
    secret = models.CharField(max_length=100, editable=False)
    failing = models.BooleanField(default=False, help_text="The last delivery gave up after every retry.")
    failing_since = models.DateTimeField(null=True, blank=True)
    failure_notified_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta(OrganizationOwnedModel.Meta):
        indexes = [models.Index(fields=["organization", "active"], name="webhook_org_active")]

    def __str__(self) -> str:
        return self.url


class WebhookEvent(models.Model):
    """One occurrence of an event for the webhooks that listen to it. Its id is the `X-TDP-Delivery` header and the
    body `id`: every attempt and redelivery of it carries the same id, so receivers can deduplicate."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    type = models.CharField(max_length=100)
    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    project = models.ForeignKey("labeling.Project", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    payload = models.JSONField(default=dict, encoder=DjangoJSONEncoder)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.type} {self.id}"


class DeliveryState(models.TextChoices):
    PENDING = "pending", "Pending"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class WebhookDelivery(BaseModel):
    """One attempt to POST an event to a webhook. A failed automatic attempt schedules the next one as a new
    pending row (`next_retry_at`); a redelivery is a manual attempt that does not retry."""

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(WebhookEvent, on_delete=models.CASCADE, related_name="deliveries")
    attempt = models.PositiveIntegerField(default=1)
    manual = models.BooleanField(default=False, help_text="A redelivery or test asked for by an admin.")
    state = models.CharField(max_length=20, choices=DeliveryState.choices, default=DeliveryState.PENDING)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True, help_text="The first 2 KB of the receiver's answer.")
    error = models.TextField(blank=True)
    next_retry_at = models.DateTimeField(null=True, blank=True, help_text="When this (pending) try is due.")
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta(BaseModel.Meta):
        verbose_name_plural = "webhook deliveries"
        constraints = [
            models.UniqueConstraint(fields=["webhook", "event", "attempt"], name="webhook_delivery_unique_attempt")
        ]
        indexes = [
            models.Index(fields=["webhook", "-created_at", "-id"], name="webhook_delivery_list"),
            models.Index(fields=["next_retry_at"], condition=models.Q(state="pending"), name="webhook_delivery_due"),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} → {self.webhook_id} #{self.attempt} ({self.state})"
