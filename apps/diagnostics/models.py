"""Diagnostics tables: the ground-truth snapshot of a model run, cached metric results (keyed by run, IoU and
confidence, with a fingerprint of their inputs) and the per-match records of a result (for SQL filters/paging)."""

from __future__ import annotations

from django.db import models

from apps.core.models import BaseModel


class GroundTruth(models.Model):
    """One data row's ground truth for a run: a copy of a `done` label as it was when snapshotted, so metrics are
    reproducible (a later edit of the label changes nothing until the next snapshot)."""

    id = models.BigAutoField(primary_key=True)
    model_run = models.ForeignKey("predictions.ModelRun", on_delete=models.CASCADE, related_name="+")
    project = models.ForeignKey("labeling.Project", on_delete=models.CASCADE, related_name="+")
    data_row = models.ForeignKey("datasets.DataRow", on_delete=models.CASCADE, related_name="+")
    label = models.ForeignKey("labeling.Label", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    label_revision = models.PositiveIntegerField()
    # What the run's training data was, as of the snapshot (`training_data` export): the ontology version the label
    # was made against and the row's split in the run (null/blank in snapshots taken before these were recorded).
    ontology_version = models.ForeignKey(
        "ontologies.OntologyVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    split = models.CharField(max_length=12, blank=True, default="")
    annotations = models.JSONField(default=list)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["model_run", "data_row"], name="ground_truth_run_row")]

    def __str__(self) -> str:
        return f"ground truth of {self.data_row_id}"


class MetricsResult(BaseModel):
    """Metrics of a run at one (IoU, confidence), valid while `fingerprint` matches the run's inputs."""

    model_run = models.ForeignKey("predictions.ModelRun", on_delete=models.CASCADE, related_name="+")
    iou = models.FloatField()
    confidence = models.FloatField()
    fingerprint = models.CharField(max_length=64)
    metrics = models.JSONField(default=dict)
    errors = models.JSONField(default=dict)
    data_rows = models.JSONField(default=list, help_text="Image index → data row id, as the engine saw them.")
    project = models.ForeignKey("labeling.Project", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    seconds = models.FloatField(default=0)

    class Meta(BaseModel.Meta):
        constraints = [
            models.UniqueConstraint(fields=["model_run", "iou", "confidence"], name="metrics_result_key"),
        ]

    def __str__(self) -> str:
        return f"metrics of {self.model_run_id} at iou={self.iou} confidence={self.confidence}"


class MatchRecord(models.Model):
    """One record of the engine's `.matches` (a kept prediction or a missed box), with its data row."""

    id = models.BigAutoField(primary_key=True)
    result = models.ForeignKey(MetricsResult, on_delete=models.CASCADE, related_name="matches")
    data_row = models.ForeignKey("datasets.DataRow", on_delete=models.CASCADE, related_name="+", db_constraint=False)
    schema_id = models.CharField(max_length=64, help_text="The prediction's class, else the box's.")
    gt_schema_id = models.CharField(max_length=64, blank=True)
    pred_schema_id = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=20)
    localisation = models.BooleanField(default=False)
    iou = models.FloatField()
    confidence = models.FloatField(null=True, blank=True)
    confidence_key = models.FloatField(help_text="confidence, -1 without one (for ordering).")
    index = models.PositiveIntegerField()
    gt_box = models.JSONField(null=True, blank=True)
    pred_box = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["index"]
        constraints = [models.UniqueConstraint(fields=["result", "index"], name="match_record_index")]
        indexes = [
            models.Index(fields=["result", "iou", "index"], name="match_record_iou"),
            models.Index(fields=["result", "confidence_key", "index"], name="match_record_confidence"),
            models.Index(fields=["result", "data_row"], name="match_record_row"),
        ]

    def __str__(self) -> str:
        return f"{self.status} on {self.data_row_id}"
