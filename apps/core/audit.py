"""Writing the audit trail. Every service that changes something security-relevant calls `audit_record`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import models

from apps.core.middleware import current_request_context
from apps.core.models import AuditEvent
from apps.core.row_writes import row_insert

if TYPE_CHECKING:
    from apps.accounts.models import Organization, User


def storable(value: Any) -> Any:
    """Text PostgreSQL can store, whatever the request held: NUL becomes the visible `\\x00` (jsonb and text refuse
    it) and lone surrogates their escape, e.g. `\\ud800` (not UTF-8), in strings at any depth of dicts and lists."""
    if isinstance(value, str):
        if "\x00" in value:
            value = value.replace("\x00", "\\x00")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            value = value.encode("utf-8", "backslashreplace").decode("utf-8")
        return value
    if isinstance(value, dict):
        return {storable(str(k)): storable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [storable(v) for v in value]
    return value


def audit_record(
    *,
    action: str,
    actor: User | None = None,
    organization: Organization | None = None,
    target: models.Model | None = None,
    extra: dict[str, Any] | None = None,
    ip: str | None = None,
    user_agent: str | None = None,
    object_type: str = "",
    object_id: str = "",
    object_repr: str = "",
    organization_id: Any = None,
) -> AuditEvent:
    """One INSERT. `target` names the object; without one, `object_type`/`object_id`/`object_repr` may (e.g. an
    admin log entry of a deleted object). Address and user agent default to the current request's."""
    context = current_request_context()
    if organization is not None:
        organization_id = organization.pk
    elif organization_id is None and actor is not None and getattr(actor, "is_authenticated", False):
        organization_id = actor.organization_id
    return row_insert(
        AuditEvent(
            action=action,
            actor=actor if actor is not None and getattr(actor, "is_authenticated", False) else None,
            organization_id=organization_id,
            object_type=target._meta.label_lower if target is not None else object_type[:100],
            object_id=str(target.pk) if target is not None else storable(object_id[:64]),
            object_repr=storable(str(target)[:200] if target is not None else object_repr[:200]),
            ip=ip if ip is not None else (context.ip if context else None),
            user_agent=storable(user_agent if user_agent is not None else (context.user_agent if context else ""))[
                :300
            ],
            extra=storable(extra or {}),
        )
    )
