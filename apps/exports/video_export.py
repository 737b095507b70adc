"""Video exports of a project: the current labels of its video rows (with their probes), streamed through the pure
writers of `domain/video_formats.py`. Reads page by page (a few rows at a time), so memory stays flat."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

from apps.accounts.models import User
from apps.core.audit import audit_record
from apps.core.errors import NotFound, ValidationFailed
from apps.datasets.models import VideoAsset, VideoStatus
from apps.datasets.video import frame_table
from apps.exports.domain.video_formats import (
    VideoItem,
    coco_video_json,
    cvat_video_xml,
    mot_lines,
    ndjson_video_line,
)
from apps.labeling.models import Label, Project
from apps.ontologies.domain import walk

FORMATS = {
    "ndjson": ("application/x-ndjson", "ndjson"),
    "mot": ("text/plain; charset=utf-8", "txt"),
    "coco": ("application/json", "json"),
    "cvat": ("application/xml", "xml"),
}
PAGE = 20


def _labels(project: Project, data_row_id: str | None) -> Any:
    labels = Label.objects.filter(project=project, is_current=True, data_row__media_type="video")
    if data_row_id is not None:
        labels = labels.filter(data_row_id=uuid.UUID(data_row_id))
    return labels.order_by("data_row_id", "-created_at", "-pk")


def video_items(project: Project, data_row_id: str | None = None) -> Iterator[VideoItem]:
    """One item per video row with a current label (the newest when consensus gave several), in row id order."""
    last_row = None
    after = None
    while True:
        page = _labels(project, data_row_id)
        if after is not None:
            page = page.filter(data_row_id__gt=after)
        batch = list(page.select_related("data_row").only("pk", "annotations", "data_row__global_key")[: PAGE * 4])
        if not batch:
            return
        probes = {
            a.pk: a
            for a in VideoAsset.objects.filter(pk__in={label.data_row_id for label in batch}, status=VideoStatus.READY)
        }
        for label in batch:
            if label.data_row_id == last_row:
                continue  # an older label of the same row
            last_row = label.data_row_id
            asset = probes.get(label.data_row_id)
            if asset is None or not asset.frame_count:
                continue
            table = frame_table(asset)
            yield VideoItem(
                data_row_id=str(label.data_row_id),
                global_key=label.data_row.global_key,
                frame_count=asset.frame_count,
                width=asset.width,
                height=asset.height,
                annotations=label.annotations,
                label_id=str(label.pk),
                frame_times=table.times() if table is not None else None,
            )
        after = batch[-1].data_row_id


def _tool_features(project: Project) -> list[tuple[str, str]]:
    """(schema_id, name) of the tools of the project's ontology version, in tree order."""
    return [
        (str(node.schema_id), node.name)
        for node in walk(project.ontology_version.tree)
        if node.kind == "tool" and node.subtype in ("bbox", "polygon", "polyline", "point")
    ]


def video_export_stream(
    *, actor: User, project: Project, fmt: str, data_row_id: str | None, interpolated: bool
) -> Iterator[str]:
    """The export's text pieces; audits the export. MOT and CVAT describe one video: `data_row` is required."""
    if fmt not in FORMATS:
        raise ValidationFailed("kind must be one of ndjson, mot, coco, cvat.", details={"kind": ["Invalid."]})
    if fmt in ("mot", "cvat") and not data_row_id:
        raise ValidationFailed(
            f"A {fmt} export describes one video: give `data_row`.", details={"data_row": ["Required."]}
        )
    audit_record(
        action="export.created",
        actor=actor,
        organization=project.organization,
        target=project,
        extra={"project": str(project.pk), "format": f"video_{fmt}", "stream": True, "data_row": data_row_id},
    )
    if fmt == "ndjson":
        return (
            piece
            for one in video_items(project, data_row_id)
            for piece in ndjson_video_line(one, interpolated=interpolated)
        )
    if fmt == "coco":
        tools = _tool_features(project)
        categories = [{"id": n, "name": name, "schema_id": sid} for n, (sid, name) in enumerate(tools, start=1)]
        return coco_video_json(list(video_items(project, data_row_id)), categories)
    item = next(video_items(project, data_row_id), None)
    if item is None:
        raise NotFound("This video row has no current label in the project (or is not probed).", code="no_video_label")
    if fmt == "mot":
        return mot_lines(item)
    return cvat_video_xml(item, [name for _sid, name in _tool_features(project)])
