"""Imaging details of data rows (DICOM slices, tiled large images, georeferenced images) and the organization's
imaging settings. The data row stays an ordinary image row (a rendered PNG or a pyramid thumbnail in `row_data`),
so the queue, review, consensus, issues and exports work on it unchanged; this app adds what those rows need on top.
"""

from __future__ import annotations

from django.db import models

from apps.core.models import BaseModel, OrganizationOwnedModel


class AssetKind(models.TextChoices):
    DICOM = "dicom", "DICOM slice"
    TILED = "tiled", "Tiled large image"
    GEOTIFF = "geotiff", "Georeferenced image"
    XYZ = "xyz", "Tile service (XYZ/TMS)"


class TileStatus(models.TextChoices):
    NONE = "none", "No tiles"
    PENDING = "pending", "Tiling"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"


class ImagingSettings(OrganizationOwnedModel):
    """Per organization: whether DICOM pseudonyms are kept (re-identification key) and which DICOM tags become
    metadata (`{"DICOM keyword": "metadata field name"}`; the field's kind types the value)."""

    keep_identity_mapping = models.BooleanField(default=False)
    dicom_metadata_tags = models.JSONField(default=dict, blank=True)

    class Meta(OrganizationOwnedModel.Meta):
        constraints = [models.UniqueConstraint(fields=["organization"], name="imaging_settings_one_per_org")]


class IdentityMapping(OrganizationOwnedModel):
    """original → pseudonym, written only when the organization's settings ask for it."""

    kind = models.CharField(max_length=20)  # "patient" | "uid"
    original = models.CharField(max_length=512)
    pseudonym = models.CharField(max_length=128)

    class Meta(OrganizationOwnedModel.Meta):
        constraints = [
            models.UniqueConstraint(fields=["organization", "kind", "original"], name="identity_mapping_unique")
        ]


class ImagingAsset(BaseModel):
    """One data row's imaging details. Coordinates of labels stay in full-resolution pixels of the row."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    data_row = models.OneToOneField("datasets.DataRow", on_delete=models.CASCADE, related_name="imaging")
    kind = models.CharField(max_length=10, choices=AssetKind.choices)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    # DICOM
    source_name = models.CharField(max_length=500, blank=True, default="")  # the de-identified file in storage
    series_uid = models.CharField(max_length=128, blank=True, default="")  # the replaced (pseudonymous) UID
    slice_index = models.PositiveIntegerField(null=True, blank=True)  # 1-based position in the series
    slice_count = models.PositiveIntegerField(null=True, blank=True)
    pixel_spacing = models.JSONField(null=True, blank=True)  # [row spacing, column spacing] in mm
    dicom = models.JSONField(default=dict, blank=True)  # modality, window presets, rescale (no identifiers)
    # Tiles (Deep Zoom pyramid under `tiles_prefix`)
    tile_status = models.CharField(max_length=10, choices=TileStatus.choices, default=TileStatus.NONE)
    tiles_prefix = models.CharField(max_length=500, blank=True, default="")
    tile_size = models.PositiveIntegerField(default=256)
    tile_error = models.TextField(blank=True, default="")
    # Geo: GDAL-order affine (x0, dx, rx, y0, ry, dy) into `crs`, and the WGS 84 bounds for the area filter
    geo_transform = models.JSONField(null=True, blank=True)
    crs = models.CharField(max_length=100, blank=True, default="")
    min_lon = models.FloatField(null=True, blank=True)
    min_lat = models.FloatField(null=True, blank=True)
    max_lon = models.FloatField(null=True, blank=True)
    max_lat = models.FloatField(null=True, blank=True)
    footprint = models.JSONField(null=True, blank=True)  # the image outline in WGS 84, [[lon, lat], …]
    # Tile service (XYZ/TMS): the URL template, zoom range and y order; pixel space = the world at `max_zoom`
    # cropped to the bounds (`domain.xyz`), with `geo_transform` into EPSG:3857
    url_template = models.CharField(max_length=2000, blank=True, default="")
    min_zoom = models.PositiveSmallIntegerField(null=True, blank=True)
    max_zoom = models.PositiveSmallIntegerField(null=True, blank=True)
    tms = models.BooleanField(default=False)

    class Meta(BaseModel.Meta):
        indexes = [
            models.Index(fields=["organization", "series_uid", "slice_index"], name="imaging_series_slice"),
            models.Index(fields=["organization", "min_lon", "max_lon"], name="imaging_lon_range"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.data_row_id}"
