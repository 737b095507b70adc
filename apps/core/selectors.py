"""Reads of core tables (jobs, audit events), limited to the caller's organization."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from django.db.models import QuerySet

from apps.core.models import Alert, AlertRule, AuditEvent

if TYPE_CHECKING:
    from apps.accounts.models import User


def audit_events_visible_to(
    *,
    actor: User,
    action: str | None = None,
    actor_id: str | None = None,
    object_id: str | None = None,
    object_type: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[AuditEvent]:
    queryset = AuditEvent.objects.select_related("actor")
    if not actor.is_superuser:
        queryset = queryset.filter(organization_id=actor.organization_id or "")
    if action:
        queryset = queryset.filter(action=action)
    if actor_id:
        queryset = queryset.filter(actor__pk=actor_id)
    if object_id:
        queryset = queryset.filter(object_id=object_id)
    if object_type:
        queryset = queryset.filter(object_type=object_type)
    if since:
        queryset = queryset.filter(created_at__gte=since)
    if until:
        queryset = queryset.filter(created_at__lt=until)
    return queryset


def alerts_visible_to(*, actor: User, status: str | None = None) -> QuerySet[Alert]:
    queryset = Alert.objects.select_related("actor", "acknowledged_by", "rule")
    if not actor.is_superuser:
        queryset = queryset.filter(organization_id=actor.organization_id or "")
    if status == "open":
        queryset = queryset.filter(acknowledged_at__isnull=True)
    elif status == "acknowledged":
        queryset = queryset.filter(acknowledged_at__isnull=False)
    return queryset


def alert_rules_visible_to(*, actor: User) -> QuerySet[AlertRule]:
    queryset = AlertRule.objects.all()
    if not actor.is_superuser:
        queryset = queryset.filter(organization_id=actor.organization_id or "")
    return queryset
