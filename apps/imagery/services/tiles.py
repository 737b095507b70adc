"""Large images: upload (one row per file; images over the threshold get a Deep Zoom pyramid built by a django-q2
job) and the pyramid build's copy into storage (the build itself: `services/pyramid.py`, in bounded memory).

The row's `row_data` is the pyramid's one-tile level (a ≤ tile_size thumbnail) while `width`/`height` are the full
resolution, so every page that shows the row's content (review, issues, catalog) shows the thumbnail scaled to the
full-resolution coordinates, and the labeling editor shows the tiles (`static/labeling/tiles.js`). The original
stays in storage (`ImagingAsset.source_name`).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.core.files import File
from django.core.files.storage import Storage, default_storage
from django.db import transaction

from apps.accounts.models import User
from apps.core.audit import audit_record
from apps.core.errors import PayloadTooLarge, ValidationFailed
from apps.core.ids import uuid7
from apps.core.jobs import job_create_and_enqueue
from apps.core.models import Job
from apps.datasets.domain.rows import CleanRow
from apps.datasets.importer import ImportReport, RowWriter
from apps.datasets.models import Dataset, MediaType
from apps.datasets.services import UploadedFile, sanitize_filename
from apps.imagery.domain.deepzoom import thumbnail_level
from apps.imagery.domain.geo import GeoError, Georeference, bounds, footprint, read_georeference
from apps.imagery.models import AssetKind, ImagingAsset, TileStatus
from apps.imagery.services.pyramid import build_pyramid_into

TILE_SIZE = 256
JPEG_QUALITY = 85


def tile_min_pixels() -> int:
    """Images with at least this many pixels get a pyramid (default 4096 × 4096)."""
    return int(getattr(settings, "TDP_TILE_MIN_PIXELS", 4096 * 4096))


@contextmanager
def local_path(storage_name: str, storage: Storage | None = None) -> Iterator[str]:
    """A local file path for a stored file: the file itself on local storage, else a streamed temporary copy."""
    storage = storage or default_storage
    try:
        local = storage.path(storage_name)
    except NotImplementedError:
        local = None
    if local is not None:
        yield local
        return
    suffix = os.path.splitext(storage_name)[1]
    with tempfile.NamedTemporaryFile(suffix=suffix) as tmp, storage.open(storage_name, "rb") as src:
        shutil.copyfileobj(src, tmp, 1024 * 1024)
        tmp.flush()
        yield tmp.name


def image_size(path: str) -> tuple[int, int]:
    """Width and height from the header only (pyvips opens lazily: no pixels are decoded)."""
    import pyvips

    try:
        image = pyvips.Image.new_from_file(path, access="sequential")
    except pyvips.Error:
        raise ValidationFailed("The file is not an image pyvips can read (JPEG, PNG, TIFF, WebP …).") from None
    return int(image.width), int(image.height)


def geo_fields(geo: Georeference) -> dict[str, Any]:
    outline = footprint(geo)
    min_lon, min_lat, max_lon, max_lat = bounds(outline)
    return {
        "geo_transform": list(geo.transform),
        "crs": geo.crs,
        "footprint": [[lon, lat] for lon, lat in outline],
        "min_lon": min_lon,
        "min_lat": min_lat,
        "max_lon": max_lon,
        "max_lat": max_lat,
    }


@transaction.atomic
def large_images_upload(*, actor: User, dataset: Dataset, files: list[UploadedFile]) -> dict[str, Any]:
    """Store images; rows at or over the threshold get an `ImagingAsset` and a tiling job each."""
    if not files:
        raise ValidationFailed("Send at least one image in the `files` field.", details={"files": ["Required."]})
    limit = settings.TDP_MAX_UPLOAD_FILE_BYTES
    report = ImportReport(keep_rows=True)
    rows: list[CleanRow] = []
    pending: dict[str, dict[str, Any]] = {}
    for index, upload in enumerate(files):
        if upload.size > limit:
            raise PayloadTooLarge(f"An image is larger than the limit of {limit} bytes.", details={"limit": limit})
        safe = sanitize_filename(upload.name)
        folder = f"uploads/{dataset.organization_id}/{uuid7()}"
        stored = default_storage.save(f"{folder}/{safe}", File(upload.file))
        with local_path(stored) as path:
            try:
                width, height = image_size(path)
            except ValidationFailed as exc:
                default_storage.delete(stored)
                report.error(index, safe, exc.message)
                continue
        with local_path(stored) as path:
            try:
                geo = read_georeference(path) if stored.lower().endswith((".tif", ".tiff")) else None
            except GeoError as exc:
                default_storage.delete(stored)
                report.error(index, safe, str(exc))
                continue
        row_data = f"upload://{stored}"
        if geo is not None or width * height >= tile_min_pixels():  # browsers show no TIFF: GeoTIFFs always tile
            prefix = f"{folder}/tiles"
            level = thumbnail_level(width, height, TILE_SIZE)
            row_data = f"upload://{prefix}/{level}/0_0.jpeg"  # written by the tiling job
            pending[safe] = {"source_name": stored, "tiles_prefix": prefix, "width": width, "height": height}
            if geo is not None:
                pending[safe].update(geo_fields(geo))
        rows.append(CleanRow(index, safe, safe, row_data, MediaType.IMAGE, width, height, {}, []))
    RowWriter(dataset, report).write(rows)
    jobs = []
    for row in report.data_rows:
        details = pending.get(row["global_key"])
        if details is None:
            continue
        ImagingAsset.objects.filter(data_row_id=uuid.UUID(row["id"])).delete()
        asset = ImagingAsset.objects.create(
            organization_id=dataset.organization_id,
            data_row_id=row["id"],
            kind=AssetKind.GEOTIFF if "crs" in details else AssetKind.TILED,
            tile_status=TileStatus.PENDING,
            tile_size=TILE_SIZE,
            **details,
        )
        job = job_create_and_enqueue(
            user=actor, kind="imagery.tiles", func="apps.imagery.tasks.tiles_build", params={"asset": str(asset.pk)}
        )
        jobs.append({"data_row": row["id"], "job": str(job.pk)})
    audit_record(
        action="large_images.uploaded",
        actor=actor,
        organization=dataset.organization,
        target=dataset,
        extra={"created": report.created, "updated": report.updated, "tiled": len(jobs)},
    )
    result = report.as_dict()
    result["tiling"] = jobs
    return result


def tiles_build(*, job: Job, on_progress: Any = None) -> dict[str, Any]:
    """Build the pyramid of one asset into storage (idempotent: a re-run writes the same names again)."""
    asset = ImagingAsset.objects.get(pk=job.params["asset"], organization_id=job.organization_id)
    try:
        written = build_pyramid(asset.source_name, asset.tiles_prefix, tile_size=asset.tile_size)
    except Exception as exc:
        ImagingAsset.objects.filter(pk=asset.pk).update(tile_status=TileStatus.FAILED, tile_error=str(exc)[:2000])
        raise
    ImagingAsset.objects.filter(pk=asset.pk).update(tile_status=TileStatus.READY, tile_error="")
    return {"asset": str(asset.pk), "tiles": written}


def build_pyramid(source_name: str, prefix: str, *, tile_size: int = TILE_SIZE, storage: Storage | None = None) -> int:
    """Build the pyramid in bounded memory (`services/pyramid.py`: vertical bands) and copy each tile into storage
    as soon as it is written."""
    storage = storage or default_storage

    def publish(level: int, col: int, row: int, file: str) -> None:
        target = f"{prefix}/{level}/{col}_{row}.jpeg"
        if storage.exists(target):
            storage.delete(target)
        with open(file, "rb") as handle:
            storage.save(target, File(handle))
        os.remove(file)

    with local_path(source_name, storage) as path:
        return build_pyramid_into(path, publish, tile_size=tile_size, quality=JPEG_QUALITY)
