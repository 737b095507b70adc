"""Writing the audit trail. Every service that changes something security-relevant calls `audit_record`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import models

from apps.core.middleware import current_request_context
from apps.core.models import AuditEvent

if TYPE_CHECKING:
    from apps.accounts.models import Organization, User


def audit_record(
    *,
    action: str,
    actor: User | None = None,
    organization: Organization | None = None,
    target: models.Model | None = None,
    extra: dict[str, Any] | None = None,
    ip: str | None = None,
    user_agent: str | None = None,
) -> AuditEvent:
    context = current_request_context()
    if organization is None and actor is not None and getattr(actor, "is_authenticated", False):
        organization = actor.organization
    return AuditEvent.objects.create(
        action=action,
        actor=actor if actor is not None and getattr(actor, "is_authenticated", False) else None,
        organization=organization,
        object_type=target._meta.label_lower if target is not None else "",
        object_id=str(target.pk) if target is not None else "",
        object_repr=str(target)[:200] if target is not None else "",
        ip=ip if ip is not None else (context.ip if context else None),
        user_agent=(user_agent if user_agent is not None else (context.user_agent if context else ""))[:300],
        extra=extra or {},
    )
