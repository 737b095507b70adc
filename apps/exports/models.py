"""Exports of a project: what was asked (format, filters), how far the writer got (the checkpoint), the result."""

from __future__ import annotations

from django.conf import settings as django_settings
from django.db import models

from apps.core.models import OrganizationOwnedModel


class ExportFormat(models.TextChoices):
    NDJSON = "ndjson", "NDJSON (full lineage)"
    COCO = "coco", "COCO instances"
    YOLO = "yolo", "YOLO (zip)"
    VOC = "voc", "Pascal VOC (zip)"
    MASKS = "masks", "PNG masks (zip)"


class ExportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class Export(OrganizationOwnedModel):
    """One export file being written (or written) to default storage by a background job.

    The writer works page by page in data row id order. After each page it stores the page as a part file and then
    advances the checkpoint (`after_data_row`, `part_names`, counters) with a compare-and-set on `chunks_written`,
    so a rerun after a crash continues after the last page recorded and never writes a row twice. When every page
    is written the parts are assembled into `file_name` and removed.
    """

    project = models.ForeignKey("labeling.Project", on_delete=models.CASCADE, related_name="exports")
    format = models.CharField(max_length=10, choices=ExportFormat.choices)
    filters = models.JSONField(default=dict, blank=True, help_text="Normalized filters (see docs/exports.md).")
    status = models.CharField(max_length=20, choices=ExportStatus.choices, default=ExportStatus.QUEUED)
    job = models.ForeignKey("core.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Checkpoint.
    after_data_row = models.UUIDField(null=True, blank=True, help_text="Last data row id written.")
    chunks_written = models.PositiveIntegerField(default=0)
    part_names = models.JSONField(default=list, blank=True)
    rows_total = models.PositiveBigIntegerField(default=0)
    row_count = models.PositiveBigIntegerField(default=0)
    annotation_count = models.PositiveBigIntegerField(default=0)
    skipped_count = models.PositiveBigIntegerField(default=0)
    skipped = models.JSONField(default=list, blank=True, help_text="First rows left out (e.g. no image size).")
    # Result.
    file_name = models.CharField(max_length=500, blank=True)
    file_size = models.PositiveBigIntegerField(default=0)
    error = models.TextField(blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta(OrganizationOwnedModel.Meta):
        indexes = [models.Index(fields=["project", "-created_at"], name="export_project_created")]

    def __str__(self) -> str:
        return f"{self.get_format_display()} export of {self.project_id} ({self.status})"
