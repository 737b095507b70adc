"""Review leases (who is reviewing which task until when) and review decisions (the history of every verdict)."""

from __future__ import annotations

from django.conf import settings as django_settings
from django.db import models

from apps.core.models import BaseModel


class ReviewLease(BaseModel):
    """One reviewer holds a task in review until `expires_at`; claims skip tasks with a live lease of another."""

    task = models.OneToOneField("labeling.Task", on_delete=models.CASCADE, related_name="review_lease")
    project = models.ForeignKey("labeling.Project", on_delete=models.CASCADE, related_name="+")
    reviewer = models.ForeignKey(django_settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    claimed_at = models.DateTimeField()
    expires_at = models.DateTimeField()

    class Meta(BaseModel.Meta):
        indexes = [models.Index(fields=["project", "reviewer", "expires_at"], name="review_lease_reviewer")]

    def __str__(self) -> str:
        return f"review lease of {self.task_id} by {self.reviewer_id}"


class ReviewDecision(models.TextChoices):
    APPROVE = "approve", "Approve"
    REJECT = "reject", "Reject"


class Review(BaseModel):
    """A reviewer's verdict on one label revision. An edit-and-approve points at the reviewer's new revision."""

    project = models.ForeignKey("labeling.Project", on_delete=models.CASCADE, related_name="reviews")
    task = models.ForeignKey("labeling.Task", on_delete=models.CASCADE, related_name="reviews")
    label = models.ForeignKey("labeling.Label", on_delete=models.CASCADE, related_name="reviews")
    result_label = models.ForeignKey(
        "labeling.Label", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewer = models.ForeignKey(django_settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reviews")
    decision = models.CharField(max_length=10, choices=ReviewDecision.choices)
    edited = models.BooleanField(default=False)
    feedback = models.TextField(blank=True)
    overrode_open_issues = models.PositiveIntegerField(default=0)
    seconds_spent = models.FloatField(null=True, blank=True, help_text="Reported by the client.")
    server_seconds = models.FloatField(null=True, blank=True, help_text="From review claim to decision.")

    class Meta(BaseModel.Meta):
        indexes = [
            models.Index(fields=["task", "-created_at"], name="review_task_created"),
            models.Index(fields=["project", "reviewer"], name="review_project_reviewer"),
            # Analytics: reviews in a time range (the live part of a dashboard range).
            models.Index(fields=["project", "created_at"], name="review_project_created"),
        ]

    def __str__(self) -> str:
        return f"{self.decision} of {self.label_id}"
