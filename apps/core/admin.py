from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.core import alerts
from apps.core.admin_scoping import OrganizationScopedAdmin, ReadOnlyScopedAdmin, adopt_saved
from apps.core.errors import ValidationFailed
from apps.core.models import Alert, AlertRule, AuditEvent, Job


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyScopedAdmin):
    list_display = ("created_at", "action", "actor", "object_type", "object_repr", "ip")
    list_filter = ("action", "object_type")
    search_fields = ("action", "object_id", "object_repr", "actor__username")
    date_hierarchy = "created_at"
    list_select_related = ("actor",)
    readonly_fields = [f.name for f in AuditEvent._meta.fields]
    show_full_result_count = False  # the trail is large: no COUNT(*) of the whole table per page


@admin.register(Job)
class JobAdmin(ReadOnlyScopedAdmin):
    list_display = ("created_at", "kind", "status", "progress_done", "progress_total", "created_by")
    list_filter = ("kind", "status")
    list_select_related = ("created_by",)
    readonly_fields = [f.name for f in Job._meta.fields]


class AlertStatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("open", "Open"), ("acknowledged", "Acknowledged")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Alert]) -> QuerySet[Alert]:
        if self.value() == "open":
            return queryset.filter(acknowledged_at__isnull=True)
        if self.value() == "acknowledged":
            return queryset.filter(acknowledged_at__isnull=False)
        return queryset


@admin.register(Alert)
class AlertAdmin(ReadOnlyScopedAdmin):
    list_display = ("last_seen_at", "kind", "subject", "actor", "ip", "count", "acknowledged_at", "acknowledged_by")
    list_filter = (AlertStatusFilter, "kind")
    list_select_related = ("actor", "acknowledged_by", "rule")
    readonly_fields = [f.name for f in Alert._meta.fields]
    actions = ["acknowledge"]

    @admin.action(description="Acknowledge selected alerts")
    def acknowledge(self, request: HttpRequest, queryset: QuerySet[Alert]) -> None:
        done = 0
        for alert in queryset.filter(acknowledged_at__isnull=True):
            alerts.alert_acknowledge(actor=request.user, alert=alert)  # type: ignore[arg-type]
            done += 1
        self.message_user(request, f"Acknowledged {done} alert(s).", messages.SUCCESS)


@admin.register(AlertRule)
class AlertRuleAdmin(OrganizationScopedAdmin):
    org_admin_can_delete = True
    list_display = ("kind", "threshold", "window_minutes", "enabled", "organization")
    list_filter = ("kind", "enabled")
    list_select_related = ("organization",)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = ["kind", "threshold", "window_minutes", "enabled"]
        if request.user.is_superuser and obj is None:
            fields.insert(0, "organization")
        return fields

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ("kind",) if obj is not None else ()

    def save_model(self, request: HttpRequest, obj: AlertRule, form: forms.ModelForm, change: bool) -> None:
        actor = request.user
        data = form.cleaned_data
        if change:
            fields = ("threshold", "window_minutes", "enabled")
            alerts.alert_rule_update(
                actor=actor,  # type: ignore[arg-type]
                rule=AlertRule.objects.get(pk=obj.pk),
                data={f: data[f] for f in fields if f in form.changed_data},
            )
            return
        organization = data.get("organization") if actor.is_superuser else actor.organization  # type: ignore[union-attr]
        if organization is None:
            raise ValidationFailed("Choose an organization for the rule.")
        created = alerts.alert_rule_create(
            actor=actor,  # type: ignore[arg-type]
            organization=organization,
            kind=data["kind"],
            threshold=data["threshold"],
            window_minutes=data["window_minutes"],
            enabled=data.get("enabled", True),
        )
        adopt_saved(obj, created)

    def delete_model(self, request: HttpRequest, obj: AlertRule) -> None:
        alerts.alert_rule_delete(actor=request.user, rule=obj)  # type: ignore[arg-type]

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[AlertRule]) -> None:
        for rule in queryset:
            alerts.alert_rule_delete(actor=request.user, rule=rule)  # type: ignore[arg-type]
