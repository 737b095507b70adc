"""Webhooks in the admin (org-scoped): subscriptions with their failing flag, every delivery attempt, and the
"send test event" / "redeliver" actions. Writes go through the services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.accounts.access import request_user
from apps.core.admin_scoping import OrganizationScopedAdmin, ReadOnlyScopedAdmin, adopt_saved, service_error_message
from apps.core.errors import ApplicationError
from apps.webhooks import services
from apps.webhooks.models import Webhook, WebhookDelivery


class DeliveryInline(admin.TabularInline):
    model = WebhookDelivery
    extra = 0
    fields = ("created_at", "event", "attempt", "state", "status_code", "latency_ms", "error", "next_retry_at")
    readonly_fields = fields
    can_delete = False
    ordering = ("-created_at",)
    show_change_link = True

    def get_queryset(self, request: HttpRequest) -> QuerySet[WebhookDelivery]:
        recent = super().get_queryset(request).order_by("-created_at").values_list("pk", flat=True)[:20]
        return WebhookDelivery.objects.filter(pk__in=list(recent)).select_related("event").order_by("-created_at")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Webhook)
class WebhookAdmin(OrganizationScopedAdmin):
    list_display = ("url", "project", "active", "failing", "failing_since", "created_at")
    list_filter = ("active", "failing")
    list_select_related = ("project",)
    search_fields = ("url",)
    readonly_fields = ("failing", "failing_since", "failure_notified_at", "created_by")
    inlines = [DeliveryInline]
    actions = ["send_test_event"]
    org_admin_can_delete = True

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        editable: tuple[str, ...] = ("url", "events", "active") if obj is not None else ("url", "project", "events")
        if obj is None and request.user.is_superuser:
            editable = ("organization", *editable)
        return editable + (self.readonly_fields if obj is not None else ())

    def get_inlines(self, request: HttpRequest, obj: Any) -> Any:
        return self.inlines if obj is not None else []

    def save_model(self, request: HttpRequest, obj: Webhook, form: forms.ModelForm, change: bool) -> None:
        actor = request_user(request)
        if change:
            services.webhook_update(actor=actor, webhook=obj, url=obj.url, events=obj.events, active=obj.active)
            return
        organization = form.cleaned_data.get("organization") or actor.organization
        if organization is None:
            raise ApplicationError("Choose an organization.")
        created = services.webhook_create(
            actor=actor, organization=organization, url=obj.url, events=obj.events, project_id=obj.project_id
        )
        adopt_saved(obj, created)
        messages.warning(request, f"The signing secret of this webhook (shown only now, copy it): {created.secret}")

    def delete_model(self, request: HttpRequest, obj: Webhook) -> None:
        services.webhook_delete(actor=request_user(request), webhook=obj)

    @admin.action(description="Send a test event")
    def send_test_event(self, request: HttpRequest, queryset: QuerySet[Webhook]) -> None:
        actor = request_user(request)
        for webhook in queryset:
            services.webhook_send_test(actor=actor, webhook=webhook)
        self.message_user(request, f"Sent a test event to {queryset.count()} webhook(s).")


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyScopedAdmin):
    organization_path = "webhook__organization"
    list_display = ("created_at", "webhook", "event_type", "attempt", "manual", "state", "status_code", "latency_ms")
    list_filter = ("state", "manual", "event__type", "webhook")
    list_select_related = ("webhook", "event")
    search_fields = ("event__id",)
    actions = ["redeliver"]

    @admin.display(description="Event")
    def event_type(self, obj: WebhookDelivery) -> str:
        return f"{obj.event.type} {obj.event_id}"

    @admin.action(description="Redeliver (send the event again)")
    def redeliver(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        actor = request_user(request)
        count = 0
        for delivery in queryset:
            try:
                services.delivery_redeliver(actor=actor, delivery=delivery)
                count += 1
            except ApplicationError as exc:
                service_error_message(request, exc)
        self.message_user(request, f"Queued {count} redelivery(ies).")
