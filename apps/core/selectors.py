"""Reads of core tables (jobs, audit events), limited to the caller's organization."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from django.db.models import QuerySet

from apps.core.models import AuditEvent

if TYPE_CHECKING:
    from apps.accounts.models import User


def audit_events_visible_to(
    *,
    actor: User,
    action: str | None = None,
    actor_id: str | None = None,
    object_id: str | None = None,
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
    if since:
        queryset = queryset.filter(created_at__gte=since)
    if until:
        queryset = queryset.filter(created_at__lt=until)
    return queryset
