"""What probing a video row found (typed columns, one row per video data row). Imported by `models.py`."""

from __future__ import annotations

from django.db import models


class VideoStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"


class VideoAsset(models.Model):
    """The probe of one video data row: the frame table (`pts` in `time_base` units, one per frame, presentation
    order), the rate (exact fraction; the average when `variable_frame_rate`), size, codec, poster and strip."""

    data_row = models.OneToOneField(
        "datasets.DataRow", primary_key=True, on_delete=models.CASCADE, related_name="video_asset"
    )
    organization_id = models.UUIDField(db_index=True)
    status = models.CharField(max_length=10, choices=VideoStatus.choices, default=VideoStatus.PENDING)
    error = models.TextField(blank=True, default="")
    frame_count = models.PositiveIntegerField(null=True, blank=True)
    frame_rate = models.FloatField(null=True, blank=True)
    frame_rate_exact = models.CharField(max_length=40, blank=True, default="")
    variable_frame_rate = models.BooleanField(default=False)
    duration = models.FloatField(null=True, blank=True, help_text="Seconds.")
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    codec = models.CharField(max_length=40, blank=True, default="")
    time_base = models.CharField(max_length=40, blank=True, default="")
    pts = models.JSONField(default=list, blank=True)
    poster = models.CharField(max_length=500, blank=True, default="", help_text="Storage name of the poster JPEG.")
    strip = models.CharField(max_length=500, blank=True, default="", help_text="Storage name of the strip JPEG.")
    strip_frames = models.JSONField(default=list, blank=True)
    probed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"video {self.data_row_id} ({self.status})"
