"""The performance rollup: additive figures per (project, day, person, batch), so a dashboard over months of work
reads a few thousand rows instead of every label. Which days it covers, and which of those changed since, are kept
beside it (`RollupDay`, `DirtyDay`); the selectors read covered clean days from here and everything else live."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from apps.labeling.models import Batch, Project


class PerformanceDaily(models.Model):
    """One day of one person's work in one batch. `person` is whoever the figure is attributed to: the labeler for
    labels, reworks, decisions on their labels, issues on their labels and rows done; the reviewer for reviews.
    Histograms map a seconds bucket (`domain.histogram`) to a count, for medians over long ranges. Quality sums are
    those of the quality app's scores of the current labels created that day, by their labeler."""

    id = models.BigAutoField(primary_key=True)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    person = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.CASCADE, related_name="+")
    batch = models.ForeignKey(Batch, null=True, on_delete=models.CASCADE, related_name="+")
    labels = models.IntegerField(default=0)
    label_timed = models.IntegerField(default=0)
    label_seconds = models.FloatField(default=0.0)
    reworks = models.IntegerField(default=0)
    rework_timed = models.IntegerField(default=0)
    rework_seconds = models.FloatField(default=0.0)
    reviews = models.IntegerField(default=0)
    review_timed = models.IntegerField(default=0)
    review_seconds = models.FloatField(default=0.0)
    decisions = models.IntegerField(default=0)
    approved = models.IntegerField(default=0)
    rejected = models.IntegerField(default=0)
    issues = models.IntegerField(default=0)
    rows_done = models.IntegerField(default=0)
    # Quality of the current labels created that day (whatever the range asked: scores are not dated by range).
    benchmark_sum = models.FloatField(default=0.0)
    benchmark_n = models.IntegerField(default=0)
    consensus_sum = models.FloatField(default=0.0)
    consensus_n = models.IntegerField(default=0)
    benchmark_bins = models.JSONField(default=dict)  # {bin 0..9 of 0.1: count}, as the quality app's histogram
    label_histogram = models.JSONField(default=dict)
    review_histogram = models.JSONField(default=dict)

    class Meta:
        indexes = [models.Index(fields=["project", "day"], name="perfdaily_project_day")]

    def __str__(self) -> str:
        return f"{self.project_id} {self.day} {self.person_id} {self.batch_id}"


class RollupDay(models.Model):
    """A day of a project the rollup holds (computed from the source tables at `computed_at`)."""

    id = models.BigAutoField(primary_key=True)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    computed_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "day"], name="rollupday_unique")]

    def __str__(self) -> str:
        return f"{self.project_id} {self.day}"


class DirtyDay(models.Model):
    """A day of a project whose figures changed after the rollup was computed (read live until refreshed)."""

    id = models.BigAutoField(primary_key=True)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "day"], name="dirtyday_unique")]

    def __str__(self) -> str:
        return f"{self.project_id} {self.day}"
