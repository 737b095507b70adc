"""Ontologies, their immutable versions, and features (the stable `schema_id`s shared across versions and clones)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from apps.core.ids import uuid7
from apps.core.models import BaseModel, OrganizationOwnedModel


class Feature(OrganizationOwnedModel):
    """One tool, classification or option, identified by a `schema_id` that never changes.

    The same feature appears in every version of an ontology and in its clones; labels reference it by `schema_id`,
    which is what lets a team query "all ambulances" across projects. `name` is the latest name it was given.
    """

    class Kind(models.TextChoices):
        TOOL = "tool"
        CLASSIFICATION = "classification"
        OPTION = "option"

    schema_id = models.UUIDField(unique=True, default=uuid7, editable=False)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    subtype = models.CharField(max_length=20, blank=True, help_text="Tool kind or classification type.")
    name = models.CharField(max_length=200)

    class Meta(OrganizationOwnedModel.Meta):
        indexes = [models.Index(fields=["organization", "kind"], name="feature_org_kind")]

    def __str__(self) -> str:
        return f"{self.kind} {self.name} ({self.schema_id})"


class Ontology(OrganizationOwnedModel):
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    current_version = models.PositiveIntegerField(default=0)
    archived = models.BooleanField(default=False, db_index=True)
    cloned_from = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="clones")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta(OrganizationOwnedModel.Meta):
        verbose_name_plural = "ontologies"
        indexes = [models.Index(fields=["organization", "-created_at"], name="ontology_org_created")]

    def __str__(self) -> str:
        return self.name


class OntologyVersion(BaseModel):
    """An immutable snapshot of the whole tree (every node with its schema_id). Projects pin one."""

    ontology = models.ForeignKey(Ontology, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    tree = models.JSONField()
    features = models.ManyToManyField(Feature, related_name="versions", blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-number"]
        constraints = [models.UniqueConstraint(fields=["ontology", "number"], name="ontology_version_unique_number")]

    def __str__(self) -> str:
        return f"{self.ontology} v{self.number}"
