"""Video rows: probing (a django-q2 task per row, after every import that brought video rows), and reading a row's
probe. The probe itself is pure (`domain/video_probe.py`); this module fetches the bytes, stores the poster and the
thumbnail strip, and writes the typed figures to `VideoAsset` (and the row's width/height)."""

from __future__ import annotations

import io
import logging
from fractions import Fraction
from typing import IO

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from apps.core.errors import ValidationFailed
from apps.core.queue import enqueue
from apps.core.url_safety import safe_fetch
from apps.datasets import cloud
from apps.datasets.domain.video_frames import FrameTable
from apps.datasets.domain.video_probe import VideoProbeError, probe_video
from apps.datasets.models import DataRow, MediaType, StorageIntegration, VideoAsset, VideoStatus

logger = logging.getLogger(__name__)


class SourceUnavailable(Exception):
    """The video's bytes could not be read (missing upload, refused or failing URL, no integration)."""


def _open_source(data_row: DataRow) -> IO[bytes]:
    row_data = data_row.row_data
    limit = settings.TDP_MAX_UPLOAD_FILE_BYTES
    if row_data.startswith("upload://"):
        name = row_data[len("upload://") :]
        if not name.startswith(f"uploads/{data_row.organization_id}/") or ".." in name:
            raise SourceUnavailable("The uploaded file is not stored for this organization.")
        if not default_storage.exists(name):
            raise SourceUnavailable("The uploaded file is missing from storage.")
        return default_storage.open(name, "rb")
    if row_data.startswith("s3://"):
        bucket, _, key = row_data[5:].partition("/")
        integration = StorageIntegration.objects.filter(organization_id=data_row.organization_id, bucket=bucket).first()
        if integration is None:
            raise SourceUnavailable(f"No storage integration of this organization covers the bucket {bucket!r}.")
        url = cloud.signed_get_url(integration, key, ttl=600)
    elif row_data.startswith(("http://", "https://")):
        url = row_data
    else:
        raise SourceUnavailable("row_data of a video must be a URL, s3://bucket/key or an upload:// reference.")
    try:
        fetched = safe_fetch(url, max_bytes=limit)
    except ValidationFailed as exc:
        raise SourceUnavailable(f"The video could not be fetched: {exc.message}") from None
    if fetched.status >= 400:
        raise SourceUnavailable(f"The video could not be fetched: the server answered HTTP {fetched.status}.")
    return io.BytesIO(fetched.body)


def video_probe_row(*, data_row_id: str) -> VideoAsset | None:
    """Probe one video row and store what it found; an unreadable file leaves `status=failed` with the reason.
    Safe to run twice (the second run probes again and overwrites)."""
    data_row = DataRow.objects.filter(pk=data_row_id, media_type=MediaType.VIDEO).first()
    if data_row is None:
        return None
    asset, _ = VideoAsset.objects.get_or_create(
        data_row=data_row, defaults={"organization_id": data_row.organization_id}
    )
    try:
        with _open_source(data_row) as handle:
            result = probe_video(handle)
    except (SourceUnavailable, VideoProbeError) as exc:
        asset.status, asset.error, asset.probed_at = VideoStatus.FAILED, str(exc)[:2000], timezone.now()
        asset.save(update_fields=["status", "error", "probed_at"])
        return asset
    base = f"video/{data_row.organization_id}/{data_row.pk}"
    for name in (asset.poster, asset.strip):
        if name:
            default_storage.delete(name)
    poster = default_storage.save(f"{base}/poster.jpg", ContentFile(result.poster_jpeg))
    strip = default_storage.save(f"{base}/strip.jpg", ContentFile(result.strip_jpeg))
    figures = result.figures()
    with transaction.atomic():
        VideoAsset.objects.filter(pk=asset.pk).update(
            status=VideoStatus.READY,
            error="",
            time_base=f"{result.time_base.numerator}/{result.time_base.denominator}",
            pts=result.pts,
            poster=poster,
            strip=strip,
            strip_frames=result.strip_frames,
            probed_at=timezone.now(),
            **figures,
        )
        DataRow.objects.filter(pk=data_row.pk).update(width=result.width, height=result.height)
    asset.refresh_from_db()
    return asset


def video_probes_pending(*, dataset_id: str) -> int:
    """Create a pending probe for every video row of the dataset that has none yet and enqueue one task per row.
    Returns how many were enqueued."""
    rows = list(
        DataRow.objects.filter(dataset_id=dataset_id, media_type=MediaType.VIDEO, video_asset__isnull=True).values_list(
            "pk", "organization_id"
        )
    )
    VideoAsset.objects.bulk_create(
        [VideoAsset(data_row_id=pk, organization_id=org) for pk, org in rows], ignore_conflicts=True
    )
    for pk, _org in rows:
        enqueue("apps.datasets.tasks.video_probe_task", str(pk))
    return len(rows)


def frame_table(asset: VideoAsset) -> FrameTable | None:
    """The asset's frame table (None until it is probed)."""
    if asset.status != VideoStatus.READY or not asset.pts or not asset.time_base:
        return None
    return FrameTable(tuple(asset.pts), Fraction(asset.time_base))


def video_document(asset: VideoAsset | None) -> dict[str, object]:
    """The `video` block of a data row for the API and the editor: status, figures, frame times."""
    if asset is None:
        return {"status": VideoStatus.PENDING}
    body: dict[str, object] = {"status": asset.status}
    if asset.status == VideoStatus.FAILED:
        body["error"] = asset.error
    if asset.status == VideoStatus.READY:
        table = frame_table(asset)
        body.update(
            frame_count=asset.frame_count,
            frame_rate=asset.frame_rate,
            frame_rate_exact=asset.frame_rate_exact,
            variable_frame_rate=asset.variable_frame_rate,
            duration=asset.duration,
            width=asset.width,
            height=asset.height,
            codec=asset.codec,
            strip_frames=asset.strip_frames,
            frame_times=table.times() if table is not None else [],
        )
    return body
