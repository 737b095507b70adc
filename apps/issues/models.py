"""Issues pinned on a label or a data row of a project (optionally at a spot of the asset or on one annotation),
their comment threads, and the inbox of mentions."""

from __future__ import annotations

from django.conf import settings as django_settings
from django.db import models

from apps.core.models import BaseModel, OrganizationOwnedModel


class IssueStatus(models.TextChoices):
    OPEN = "open", "Open"
    RESOLVED = "resolved", "Resolved"


class Issue(OrganizationOwnedModel):
    project = models.ForeignKey("labeling.Project", on_delete=models.CASCADE, related_name="issues")
    data_row = models.ForeignKey("datasets.DataRow", on_delete=models.CASCADE, related_name="issues")
    # The queue slot the issue was raised on (a labeler may raise one before submitting) and, when a label existed,
    # the revision it was raised on.
    task = models.ForeignKey("labeling.Task", null=True, blank=True, on_delete=models.CASCADE, related_name="issues")
    label = models.ForeignKey("labeling.Label", null=True, blank=True, on_delete=models.SET_NULL, related_name="issues")
    created_by = models.ForeignKey(django_settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField()
    # Position on the asset: image pixels (x, y) or a text offset.
    x = models.FloatField(null=True, blank=True)
    y = models.FloatField(null=True, blank=True)
    text_offset = models.PositiveIntegerField(null=True, blank=True)
    annotation_index = models.PositiveIntegerField(null=True, blank=True)
    feature_schema_id = models.UUIDField(null=True, blank=True)
    feature_name = models.CharField(max_length=200, blank=True)
    # The pinned object's geometry when the issue was opened (`{"bbox": {...}}`, `{"polygon": [...]}`, `{"line":
    # [...]}` or `{"point": {...}}`, image pixels): the crop shows the object as the reporter saw it, even after edits.
    annotation_geometry = models.JSONField(null=True, blank=True)
    # On a video: the global frame index the issue is about (inside the probed frame count) and the track, if any.
    frame = models.PositiveIntegerField(null=True, blank=True)
    track_id = models.CharField(max_length=64, blank=True, default="")
    status = models.CharField(max_length=10, choices=IssueStatus.choices, default=IssueStatus.OPEN)
    resolved_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta(OrganizationOwnedModel.Meta):
        indexes = [
            models.Index(fields=["project", "status", "-created_at"], name="issue_project_status"),
            models.Index(fields=["task", "status"], name="issue_task_status"),
            models.Index(fields=["project", "data_row"], name="issue_project_row"),
        ]

    def __str__(self) -> str:
        return f"issue {self.id} ({self.status})"


class Comment(BaseModel):
    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(django_settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"comment {self.id}"


class Mention(BaseModel):
    """`@username` in an issue or comment: an inbox entry for that user (and an email)."""

    user = models.ForeignKey(django_settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mentions")
    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="mentions")
    comment = models.ForeignKey(Comment, null=True, blank=True, on_delete=models.CASCADE, related_name="mentions")
    mentioned_by = models.ForeignKey(django_settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta(BaseModel.Meta):
        indexes = [models.Index(fields=["user", "-created_at"], name="mention_user_created")]
        constraints = [
            models.UniqueConstraint(fields=["user", "issue", "comment"], name="mention_unique_per_text"),
        ]

    def __str__(self) -> str:
        return f"@{self.user_id} in {self.issue_id}"
