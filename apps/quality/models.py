"""Benchmark references and the scores quality computes: per data row (consensus) and per label."""

from __future__ import annotations

from django.conf import settings as django_settings
from django.db import models

from apps.core.models import BaseModel


class BenchmarkReference(BaseModel):
    """The gold label of a data row in a project: every labeler's label of the row is scored against it."""

    project = models.ForeignKey("labeling.Project", on_delete=models.CASCADE, related_name="+")
    data_row = models.ForeignKey("datasets.DataRow", on_delete=models.CASCADE, related_name="+")
    label = models.ForeignKey("labeling.Label", on_delete=models.CASCADE, related_name="+")
    created_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta(BaseModel.Meta):
        constraints = [models.UniqueConstraint(fields=["project", "data_row"], name="benchmark_one_per_row")]
        indexes = [models.Index(fields=["project", "created_at"], name="benchmark_project_created")]

    def __str__(self) -> str:
        return f"benchmark {self.data_row_id} → {self.label_id}"


class ConsensusScore(BaseModel):
    """Agreement between the current labels of a data row: Σ agreement(label, winner) / N, the winner, each label's
    mean agreement with the others and the per-feature breakdown. Recomputed from scratch on every change."""

    project = models.ForeignKey("labeling.Project", on_delete=models.CASCADE, related_name="+")
    data_row = models.ForeignKey("datasets.DataRow", on_delete=models.CASCADE, related_name="+")
    score = models.FloatField()
    winner = models.ForeignKey("labeling.Label", null=True, on_delete=models.SET_NULL, related_name="+")
    label_count = models.PositiveIntegerField()
    # True when every consensus slot of the row has its label (a partial score is shown while some are missing).
    complete = models.BooleanField(default=False)
    # [{"label", "labeler", "agreement"}] in label order; {"<schema_id>": score}
    labels = models.JSONField(default=list)
    features = models.JSONField(default=dict)
    flagged = models.BooleanField(default=False, help_text="Under the project's consensus threshold.")
    computed_at = models.DateTimeField()

    class Meta(BaseModel.Meta):
        constraints = [models.UniqueConstraint(fields=["project", "data_row"], name="consensus_one_per_row")]
        indexes = [models.Index(fields=["project", "score", "id"], name="consensus_project_score")]

    def __str__(self) -> str:
        return f"consensus {self.score:.3f} on {self.data_row_id}"


class LabelScore(BaseModel):
    """One label's quality numbers: mean agreement with the row's other labels, and its benchmark score."""

    label = models.OneToOneField("labeling.Label", on_delete=models.CASCADE, related_name="quality_score")
    project = models.ForeignKey("labeling.Project", on_delete=models.CASCADE, related_name="+")
    data_row = models.ForeignKey("datasets.DataRow", on_delete=models.CASCADE, related_name="+")
    labeler = models.ForeignKey(django_settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    consensus_agreement = models.FloatField(null=True, blank=True)
    consensus_features = models.JSONField(null=True, blank=True)
    benchmark_score = models.FloatField(null=True, blank=True)
    benchmark_features = models.JSONField(null=True, blank=True)
    reference = models.ForeignKey("labeling.Label", null=True, on_delete=models.SET_NULL, related_name="+")
    computed_at = models.DateTimeField()

    class Meta(BaseModel.Meta):
        indexes = [models.Index(fields=["project", "labeler"], name="labelscore_project_labeler")]

    def __str__(self) -> str:
        return f"scores of {self.label_id}"
