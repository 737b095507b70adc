"""Alerts on suspicious activity. Requests only write their audit event and ask for a check (`alert_check_later`,
at most one enqueue per subject every few seconds); the django-q2 task `apps.core.tasks.alerts_evaluate` counts the
recent events against the organization's rules and raises (row + email to the org admins) or refreshes an alert."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import caches
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django_q.tasks import async_task

from apps.core.audit import audit_record
from apps.core.domain import alerts as domain
from apps.core.errors import ValidationFailed
from apps.core.models import Alert, AlertRule, AuditEvent

if TYPE_CHECKING:
    from apps.accounts.models import Organization, User

logger = logging.getLogger(__name__)


# --- asking for a check (request path: no query) -------------------------------------------------------------------


def _check_key(organization_id: object, kind: str, subject: str) -> str:
    return f"tdp:alert-check:{organization_id}:{kind}:{subject}"


def alert_check_later(*, organization_id: object, kind: str, actor_id: object | None, ip: str | None) -> None:
    """After commit, enqueue an evaluation of `kind` for this subject unless one is already waiting (a cache key
    the task clears when it starts, with a short expiry as a backstop for caches not shared with the worker)."""
    subject = domain.subject_key(actor_id=actor_id, ip=ip)
    if subject is None:
        return
    key = _check_key(organization_id, kind, subject)

    def enqueue() -> None:
        if caches["throttle"].add(key, 1, timeout=settings.TDP_ALERT_CHECK_DEBOUNCE_SECONDS):
            async_task(
                "apps.core.tasks.alerts_evaluate",
                str(organization_id),
                kind,
                str(actor_id) if actor_id else None,
                ip,
                task_name=f"alerts:{kind}:{subject}"[:100],
            )

    transaction.on_commit(enqueue)


# --- evaluating (worker) -------------------------------------------------------------------------------------------


def _recent_events(rule: AlertRule, *, actor_id: str | None, ip: str | None, since: Any) -> QuerySet[AuditEvent]:
    events = AuditEvent.objects.filter(
        organization_id=rule.organization_id, action=domain.COUNTED_ACTION[rule.kind], created_at__gte=since
    )
    events = events.filter(actor__pk=actor_id) if actor_id else events.filter(ip=ip)
    if rule.kind == domain.BULK_RAW_ACCESS:
        events = events.filter(extra__via="signed_url")
    return events


def alerts_evaluate(*, organization_id: str, kind: str, actor_id: str | None, ip: str | None) -> list[Alert]:
    """Count the subject's recent events for every enabled rule of `kind`; raise or refresh the alerts that breach.
    Safe to run twice: an open alert of the same rule and subject is updated, never duplicated."""
    subject = domain.subject_key(actor_id=actor_id, ip=ip)
    if subject is None or kind not in domain.COUNTED_ACTION:
        return []
    # From here on, new events of this subject ask for another check (this one may not see them).
    caches["throttle"].delete(_check_key(organization_id, kind, subject))
    raised = []
    now = timezone.now()
    for rule in AlertRule.objects.filter(organization_id=organization_id, kind=kind, enabled=True):
        since = now - timedelta(minutes=rule.window_minutes)
        count = _recent_events(rule, actor_id=actor_id, ip=ip, since=since).count()
        if domain.breached(count=count, threshold=rule.threshold):
            raised.append(_raise_or_refresh(rule, subject=subject, actor_id=actor_id, ip=ip, count=count, now=now))
    return raised


@transaction.atomic
def _raise_or_refresh(
    rule: AlertRule, *, subject: str, actor_id: str | None, ip: str | None, count: int, now: Any
) -> Alert:
    AlertRule.objects.select_for_update().filter(pk=rule.pk).first()  # one evaluator per rule at a time
    alert = Alert.objects.filter(rule=rule, subject=subject, acknowledged_at__isnull=True).first()
    if alert is not None:
        alert.count = max(alert.count, count)
        alert.last_seen_at = now
        alert.save(update_fields=["count", "last_seen_at", "updated_at"])
        return alert
    try:
        with transaction.atomic():
            alert = Alert.objects.create(
                organization_id=rule.organization_id,
                rule=rule,
                kind=rule.kind,
                subject=subject,
                actor_id=actor_id,
                ip=ip if not actor_id else None,
                count=count,
                first_seen_at=now,
                last_seen_at=now,
            )
    except IntegrityError:  # raised meanwhile by another evaluator (the constraint is the last word)
        return Alert.objects.get(rule=rule, subject=subject, acknowledged_at__isnull=True)
    audit_record(
        action="alert.raised",
        organization=rule.organization,
        target=alert,
        extra={"kind": rule.kind, "subject": subject, "count": count, "rule": str(rule.pk)},
    )
    alert_id = alert.pk
    transaction.on_commit(lambda: alert_notify_admins(alert_id=alert_id))
    return alert


def _describe(alert: Alert) -> str:
    who = alert.actor.username if alert.actor is not None else (alert.ip or alert.subject)
    return f"{alert.get_kind_display()}: {who} — {alert.count} in {alert.rule.window_minutes} minutes"


def alert_notify_admins(*, alert_id: Any) -> int:
    """Email the organization's active admins (those with an address) about a new alert; returns how many."""
    User = get_user_model()
    alert = Alert.objects.select_related("rule", "actor", "organization").get(pk=alert_id)
    recipients = list(
        User.objects.filter(organization_id=alert.organization_id, role="admin", is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
    )
    if not recipients:
        return 0
    body = (
        f"{_describe(alert)}.\n\n"
        f"Organization: {alert.organization.name}\nRule: {alert.rule}\n"
        f"First seen: {alert.first_seen_at:%Y-%m-%d %H:%M} UTC\n\n"
        "Review and acknowledge it in the admin (Platform › Alerts) or with "
        f"POST /api/v1/alerts/{alert.pk}/acknowledge."
    )
    sent = send_mail(f"[TDP] Alert: {_describe(alert)}", body, None, recipients, fail_silently=True)
    if sent:
        Alert.objects.filter(pk=alert.pk).update(emailed_to=len(recipients))
    return len(recipients) if sent else 0


# --- admins' writes ------------------------------------------------------------------------------------------------


@transaction.atomic
def alert_acknowledge(*, actor: User, alert: Alert) -> Alert:
    locked = Alert.objects.select_for_update().get(pk=alert.pk)
    if locked.acknowledged_at is None:
        locked.acknowledged_at = timezone.now()
        locked.acknowledged_by = actor
        locked.save(update_fields=["acknowledged_at", "acknowledged_by", "updated_at"])
        audit_record(action="alert.acknowledged", actor=actor, organization=locked.organization, target=locked)
    return locked


def alert_rules_create_defaults(*, organization: Organization) -> list[AlertRule]:
    """One rule of each kind the organization has none of yet (idempotent)."""
    existing = set(AlertRule.objects.filter(organization=organization).values_list("kind", flat=True))
    return AlertRule.objects.bulk_create(
        AlertRule(organization=organization, kind=d.kind, threshold=d.threshold, window_minutes=d.window_minutes)
        for d in domain.DEFAULT_RULES
        if d.kind not in existing
    )


def _validate_rule(*, kind: str | None, threshold: object, window_minutes: object) -> None:
    errors = domain.rule_errors(kind=kind, threshold=threshold, window_minutes=window_minutes)
    if errors:
        raise ValidationFailed("Invalid alert rule.", details=errors)


@transaction.atomic
def alert_rule_create(
    *, actor: User, organization: Organization, kind: str, threshold: int, window_minutes: int, enabled: bool = True
) -> AlertRule:
    _validate_rule(kind=kind, threshold=threshold, window_minutes=window_minutes)
    rule = AlertRule.objects.create(
        organization=organization, kind=kind, threshold=threshold, window_minutes=window_minutes, enabled=enabled
    )
    audit_record(action="alert_rule.created", actor=actor, organization=organization, target=rule)
    return rule


@transaction.atomic
def alert_rule_update(*, actor: User, rule: AlertRule, data: dict[str, Any]) -> AlertRule:
    allowed = {"threshold", "window_minutes", "enabled"}
    unknown = set(data) - allowed
    if unknown:
        raise ValidationFailed("Unknown fields.", details={f: ["This field cannot be changed."] for f in unknown})
    threshold = data.get("threshold", rule.threshold)
    window = data.get("window_minutes", rule.window_minutes)
    _validate_rule(kind=None, threshold=threshold, window_minutes=window)
    changes = {field: value for field, value in data.items() if getattr(rule, field) != value}
    for field, value in changes.items():
        setattr(rule, field, value)
    rule.save()
    if changes:
        audit_record(
            action="alert_rule.updated", actor=actor, organization=rule.organization, target=rule, extra=changes
        )
    return rule


@transaction.atomic
def alert_rule_delete(*, actor: User, rule: AlertRule) -> None:
    audit_record(action="alert_rule.deleted", actor=actor, organization=rule.organization, target=rule)
    rule.delete()
