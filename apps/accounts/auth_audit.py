"""Logins, failed logins and logouts in the audit trail, from Django's auth signals (connected in `ready()`), so the
login page, the admin login and the token endpoint are all covered by one piece of code."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.http import HttpRequest

from apps.accounts.models import User
from apps.core.alerts import alert_check_later
from apps.core.audit import audit_record


def _via(request: HttpRequest | None) -> str:
    if request is None:
        return "internal"
    if request.path.startswith("/admin/"):
        return "admin"
    return "api" if request.path.startswith("/api/") else "page"


def on_logged_in(sender: Any, request: HttpRequest | None, user: User, **kwargs: Any) -> None:
    audit_record(action="auth.login", actor=user, target=user, extra={"via": _via(request)})


def on_logged_out(sender: Any, request: HttpRequest | None, user: User | None, **kwargs: Any) -> None:
    if user is not None and user.is_authenticated:
        audit_record(action="auth.logout", actor=user, target=user, extra={"via": _via(request)})


def on_login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    """Attributed to the organization of the username tried, when it exists, so its admins see (and are alerted
    to) attacks on their accounts. The password never reaches here (Django masks it)."""
    username = str(credentials.get("username", ""))[:150]
    target = User.objects.filter(username__iexact=username).select_related("organization").first() if username else None
    organization = target.organization if target is not None else None
    locked_out = bool(getattr(request, "axes_locked_out", False))
    event = audit_record(
        action="auth.login_failed",
        organization=organization,
        target=target,
        extra={"username": username, "via": _via(request), "locked_out": locked_out},
    )
    if organization is not None:
        alert_check_later(organization_id=organization.pk, kind="failed_logins", actor_id=None, ip=event.ip)


def connect() -> None:
    user_logged_in.connect(on_logged_in, dispatch_uid="tdp_audit_logged_in")
    user_logged_out.connect(on_logged_out, dispatch_uid="tdp_audit_logged_out")
    user_login_failed.connect(on_login_failed, dispatch_uid="tdp_audit_login_failed")
