"""Every change made in the admin (its `LogEntry` rows) is copied into the audit trail, attributed to the acting
user's organization (or, for a platform superuser, to the changed object's organization when it has one)."""

from __future__ import annotations

from typing import Any

from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.db.models.signals import post_save

from apps.core.audit import audit_record

_ACTIONS = {ADDITION: "admin.added", CHANGE: "admin.changed", DELETION: "admin.deleted"}


def _organization_id(entry: LogEntry) -> Any:
    organization_id = getattr(entry.user, "organization_id", None)
    if organization_id is not None or entry.action_flag == DELETION:
        return organization_id
    try:
        edited = entry.get_edited_object()
    except Exception:
        return None
    if edited._meta.label_lower == "accounts.organization":
        return edited.pk
    return getattr(edited, "organization_id", None)


def admin_log_entry_audit(entry: LogEntry) -> None:
    content_type: Any = entry.content_type
    audit_record(
        action=_ACTIONS.get(entry.action_flag, "admin.changed"),
        actor=entry.user,  # type: ignore[arg-type]
        organization_id=_organization_id(entry),
        object_type=f"{content_type.app_label}.{content_type.model}" if content_type else "",
        object_id=str(entry.object_id or ""),
        object_repr=entry.object_repr,
        extra={"change": entry.get_change_message()[:1000]},
    )


def on_log_entry_saved(sender: Any, instance: LogEntry, created: bool, raw: bool = False, **kwargs: Any) -> None:
    if created and not raw:
        admin_log_entry_audit(instance)


def connect() -> None:
    post_save.connect(on_log_entry_saved, sender=LogEntry, dispatch_uid="tdp_audit_admin_log_entry")
