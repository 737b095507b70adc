"""Datasets, data rows (upserted by `global_key`), their attachments, the metadata schema and storage integrations."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from apps.core.models import OrganizationOwnedModel


class MediaType(models.TextChoices):
    IMAGE = "image", "Image"
    TEXT = "text", "Text"
    VIDEO = "video", "Video"


class MetadataKind(models.TextChoices):
    STRING = "string", "String"
    NUMBER = "number", "Number"
    DATETIME = "datetime", "Datetime"
    ENUM = "enum", "Enum"


class AttachmentType(models.TextChoices):
    IMAGE = "image", "Image URL"
    IMAGE_OVERLAY = "image_overlay", "Image overlay URL"
    VIDEO = "video", "Video URL"
    TEXT = "text", "Text URL"
    RAW_TEXT = "raw_text", "Inline text"
    HTML = "html", "HTML URL"
    PDF_URL = "pdf_url", "PDF URL"


class MetadataField(OrganizationOwnedModel):
    """An organization-level metadata schema entry. `split` and `tag` are built in (see `domain.metadata`)."""

    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=20, choices=MetadataKind.choices)
    options = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta(OrganizationOwnedModel.Meta):
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="metadata_field_unique_name")]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind})"


class Dataset(OrganizationOwnedModel):
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta(OrganizationOwnedModel.Meta):
        indexes = [models.Index(fields=["organization", "-created_at"], name="dataset_org_created")]

    def __str__(self) -> str:
        return self.name


class DataRow(OrganizationOwnedModel):
    """One asset. `row_data` is an http(s) URL, `s3://bucket/key`, `upload://<storage name>` or inline text.

    Metadata values live in one JSON(B) column, validated against `MetadataField` on the way in. On PostgreSQL a GIN
    index (`jsonb_path_ops`, created by migration 0002 only there) answers the `metadata.<field>=` containment filters.
    """

    # Indexes and constraint checks are what an import pays per row: the composite indexes below cover the FKs and
    # created_at, and the organization is always copied from the dataset (whose own FK the database checks), so it
    # needs no second deferred FK trigger per row. Django still cascades deletes of organizations to rows.
    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="data_rows", db_index=False)
    global_key = models.CharField(max_length=255)
    external_id = models.CharField(max_length=255, blank=True, default="")
    row_data = models.TextField()
    media_type = models.CharField(max_length=10, choices=MediaType.choices, default=MediaType.IMAGE)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)

    class Meta(OrganizationOwnedModel.Meta):
        constraints = [
            models.UniqueConstraint(fields=["organization", "global_key"], name="data_row_unique_global_key")
        ]
        # Ascending on purpose: lists read them backwards (newest first) just as fast, and an import appends its
        # rows (one created_at per batch, ids in increasing UUIDv7 order) at the right edge of each index, which
        # PostgreSQL's B-tree does on a fast path; descending keys made every row land at the left edge instead
        # (page splits all the way), about half of the import's database time.
        indexes = [
            models.Index(fields=["dataset", "created_at", "id"], name="data_row_dataset_created_asc"),
            models.Index(fields=["organization", "created_at", "id"], name="data_row_org_created_asc"),
        ]

    def __str__(self) -> str:
        return self.global_key


class Attachment(models.Model):
    """Context shown next to a data row (another image, a text, a PDF link …). Replaced as a whole on upsert."""

    id = models.BigAutoField(primary_key=True)
    data_row = models.ForeignKey(DataRow, on_delete=models.CASCADE, related_name="attachments")
    type = models.CharField(max_length=20, choices=AttachmentType.choices)
    value = models.TextField()
    name = models.CharField(max_length=255, blank=True, default="")

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.type}: {self.name or self.value[:50]}"


class StorageIntegration(OrganizationOwnedModel):
    """Delegated read access to a customer bucket: the server assumes `role_arn` (with `external_id`) through STS."""

    class Provider(models.TextChoices):
        AWS = "aws", "Amazon S3"

    name = models.CharField(max_length=200)
    provider = models.CharField(max_length=20, choices=Provider.choices, default=Provider.AWS)
    bucket = models.CharField(max_length=63)
    region = models.CharField(max_length=50, blank=True, default="")
    role_arn = models.CharField(max_length=2048)
    external_id = models.CharField(max_length=100, editable=False)
    endpoint_url = models.CharField(max_length=500, blank=True, default="")
    last_validated_at = models.DateTimeField(null=True, blank=True)
    last_validation_ok = models.BooleanField(null=True, blank=True)
    last_validation_message = models.TextField(blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta(OrganizationOwnedModel.Meta):
        constraints = [
            models.UniqueConstraint(fields=["organization", "bucket"], name="storage_integration_unique_bucket"),
            models.UniqueConstraint(fields=["organization", "name"], name="storage_integration_unique_name"),
        ]

    def __str__(self) -> str:
        return f"{self.name} (s3://{self.bucket})"


from apps.datasets.models_video import VideoAsset, VideoStatus  # noqa: E402,F401  (registers the model)
