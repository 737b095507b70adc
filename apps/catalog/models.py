"""Embedding spaces and their vectors, cached analyses (projection, clusters, outliers) and saved slices."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from apps.core.models import OrganizationOwnedModel


class EmbeddingSpace(OrganizationOwnedModel):
    """A named vector space of one organization. `version` is bumped on every change of its vectors: the in-process
    index and the cached analyses compare it to know they are stale."""

    name = models.CharField(max_length=200)
    dims = models.PositiveIntegerField()
    model_description = models.TextField(blank=True, default="")
    version = models.PositiveBigIntegerField(default=0)
    builtin = models.CharField(max_length=50, blank=True, default="")  # the built-in embedder that fills it, if any
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta(OrganizationOwnedModel.Meta):
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="embedding_space_unique_name")]

    def __str__(self) -> str:
        return f"{self.name} ({self.dims}-d)"


class EmbeddingVector(models.Model):
    """One float32 little-endian vector (`dims * 4` bytes) per (space, data row)."""

    id = models.BigAutoField(primary_key=True)
    space = models.ForeignKey(EmbeddingSpace, on_delete=models.CASCADE, related_name="vectors", db_index=False)
    data_row = models.ForeignKey("datasets.DataRow", on_delete=models.CASCADE, related_name="+")
    vector = models.BinaryField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["space", "data_row"], name="embedding_vector_unique_space_row")]

    def __str__(self) -> str:
        return f"vector of {self.data_row_id} in {self.space_id}"


class SpaceAnalysis(OrganizationOwnedModel):
    """The cached result of one analysis job of a space at one version: 2-D projection, k-means clusters and
    outlier scores for every row, packed as an npz blob (`domain.packing`)."""

    space = models.ForeignKey(EmbeddingSpace, on_delete=models.CASCADE, related_name="analyses")
    space_version = models.PositiveBigIntegerField()
    clusters = models.PositiveSmallIntegerField()
    neighbors = models.PositiveSmallIntegerField()
    rows = models.PositiveIntegerField(default=0)
    summary = models.JSONField(default=dict, blank=True)
    data = models.BinaryField()

    class Meta(OrganizationOwnedModel.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["space", "space_version", "clusters", "neighbors"], name="space_analysis_unique_params"
            )
        ]

    def __str__(self) -> str:
        return f"analysis of {self.space_id} v{self.space_version} (k={self.clusters})"


class Slice(OrganizationOwnedModel):
    """A saved selection: metadata filters (the `data_rows` list filters of a dataset) and/or explicit rows."""

    name = models.CharField(max_length=200)
    dataset = models.ForeignKey("datasets.Dataset", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    filters = models.JSONField(default=dict, blank=True)
    row_ids = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta(OrganizationOwnedModel.Meta):
        indexes = [models.Index(fields=["organization", "-created_at"], name="slice_org_created")]

    def __str__(self) -> str:
        return self.name
