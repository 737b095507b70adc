"""Video labels: the video validator (tracks, keyframes, frame ranges) against the row's probed frame count and
size, and the normalized rows of a video document (a track row plus one row per keyframe)."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from apps.core.errors import Conflict, PayloadTooLarge, ValidationFailed
from apps.datasets.models import DataRow, VideoAsset, VideoStatus
from apps.labeling.domain.video_rows import video_annotation_rows
from apps.ontologies.domain.video_validation import validate_video_annotations
from apps.ontologies.models import OntologyVersion
from apps.ontologies.selectors import compiled_version


def is_video_document(document: list[dict[str, Any]]) -> bool:
    """Whether a normalized document has video items (tracks or per-frame answers)."""
    return any("keyframes" in item or "frames" in item for item in document)


def _probe(data_row: DataRow) -> VideoAsset:
    asset = VideoAsset.objects.filter(pk=data_row.pk).first()
    if asset is None or asset.status == VideoStatus.PENDING:
        raise Conflict("The video is still being probed; label it once its frames are known.", code="video_pending")
    if asset.status == VideoStatus.FAILED:
        raise Conflict(f"The video could not be read: {asset.error}", code="video_unreadable")
    return asset


def validate_video_label_document(
    *, version: OntologyVersion, data_row: DataRow, annotations: Any
) -> list[dict[str, Any]]:
    """The normalized video document, or 400 with every error; 409 while the video is not probed (or unreadable)."""
    asset = _probe(data_row)
    keyframes = 0
    if type(annotations) is list:
        keyframes = sum(len(a.get("keyframes") or ()) if type(a) is dict else 1 for a in annotations)
    limit = settings.TDP_MAX_ANNOTATIONS_PER_LABEL
    if keyframes > limit:
        raise PayloadTooLarge(
            f"A label holds at most {limit} keyframes and annotations; this one has {keyframes}.",
            code="too_many_annotations",
            details={"annotations": [f"At most {limit}."], "limit": limit},
        )
    size = (float(asset.width), float(asset.height)) if asset.width and asset.height else None
    normalized, errors = validate_video_annotations(
        compiled_version(version), annotations, image_size=size, frame_count=asset.frame_count, complete=True
    )
    if errors:
        raise ValidationFailed(
            f"The label has {len(errors)} invalid annotation(s).",
            code="invalid_annotations",
            details={"annotations": errors},
        )
    return normalized


def video_rows(data_row_id: Any, document: list[dict[str, Any]]) -> list[dict[str, Any]]:
    frame_count = VideoAsset.objects.filter(pk=data_row_id).values_list("frame_count", flat=True).first()
    return video_annotation_rows(document, frame_count)
