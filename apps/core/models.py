"""Base model fields shared by every app, plus the audit trail and background-job tables."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from apps.core.ids import uuid7


class BaseModel(models.Model):
    """UUID public id (time ordered) and created/updated timestamps."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
        ordering = ["-created_at"]


class OrganizationOwnedModel(BaseModel):
    """Everything a tenant owns carries its organization: the tenancy filter is one column away."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")

    class Meta(BaseModel.Meta):
        abstract = True


class AuditEvent(models.Model):
    """One row per security-relevant action: written by services, never updated."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    organization = models.ForeignKey(
        "accounts.Organization", null=True, blank=True, on_delete=models.CASCADE, related_name="audit_events"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_events"
    )
    action = models.CharField(max_length=100, db_index=True)
    object_type = models.CharField(max_length=100, blank=True)
    object_id = models.CharField(max_length=64, blank=True, db_index=True)
    object_repr = models.CharField(max_length=200, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    extra = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["organization", "-created_at"], name="audit_org_created"),
            # Alert rules count one subject's recent events of one action.
            models.Index(fields=["organization", "action", "-created_at"], name="audit_org_action_created"),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.object_type} {self.object_id}"


class Job(OrganizationOwnedModel):
    """A long-running piece of work started through the API (`202 {"job": id}`), run by django-q2."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    kind = models.CharField(max_length=50)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="jobs"
    )
    progress_done = models.PositiveBigIntegerField(default=0)
    progress_total = models.PositiveBigIntegerField(default=0)
    params = models.JSONField(default=dict, blank=True)
    # The task function (`module.func(job_id)`): lets the stalled-job sweep hand a lost job to a worker again.
    func = models.CharField(max_length=200, blank=True, default="")
    result = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True, null=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.kind} job {self.id} ({self.status})"


class IdempotencyRecord(models.Model):
    """The first answer to a write sent with an `Idempotency-Key`, replayed to retries (see `core.idempotency`)."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    scope = models.CharField(max_length=200)
    status = models.PositiveSmallIntegerField()
    body = models.JSONField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_unique_user_key")]

    def __str__(self) -> str:
        return f"{self.key} ({self.scope})"


class AlertKind(models.TextChoices):
    DENIED_REQUESTS = "denied_requests", "Denied requests (403/404) by one user"
    FAILED_LOGINS = "failed_logins", "Failed logins from one address"
    BULK_RAW_ACCESS = "bulk_raw_access", "Raw data (signed URLs) read by one user"


class AlertRule(OrganizationOwnedModel):
    """Raise an alert when one subject (a user, or an address) causes at least `threshold` events of the rule's kind
    within `window_minutes`. Every organization starts with one rule of each kind (`apps.core.alerts.DEFAULT_RULES`)."""

    kind = models.CharField(max_length=30, choices=AlertKind.choices)
    threshold = models.PositiveIntegerField()
    window_minutes = models.PositiveIntegerField()
    enabled = models.BooleanField(default=True)

    class Meta(OrganizationOwnedModel.Meta):
        constraints = [
            models.CheckConstraint(condition=models.Q(threshold__gte=1), name="alert_rule_threshold_positive"),
            models.CheckConstraint(
                condition=models.Q(window_minutes__gte=1, window_minutes__lte=10080), name="alert_rule_window_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: ≥ {self.threshold} in {self.window_minutes} min"


class Alert(OrganizationOwnedModel):
    """A rule that fired for one subject. While it is open (not acknowledged), repeats of the same rule and subject
    update it (count, last seen) instead of raising another one."""

    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="alerts")
    kind = models.CharField(max_length=30, choices=AlertKind.choices)
    subject = models.CharField(max_length=200)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    ip = models.GenericIPAddressField(null=True, blank=True)
    count = models.PositiveIntegerField()
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    emailed_to = models.PositiveIntegerField(default=0)

    class Meta(OrganizationOwnedModel.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "subject"],
                condition=models.Q(acknowledged_at__isnull=True),
                name="alert_one_open_per_rule_subject",
            )
        ]
        indexes = [models.Index(fields=["organization", "acknowledged_at"], name="alert_org_open")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} — {self.subject} ({self.count})"
