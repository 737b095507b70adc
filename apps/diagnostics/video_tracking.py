"""The `tracking` block of a model run's metrics: MOTA, MOTP, IDF1, IDP, IDR and ID switches of the predicted box
tracks of its video rows against the ground-truth tracks (`apps/diagnostics/domain/tracking.py`).

Every frame of every track is compared (interpolated frames included, up to the probed frame count). The videos are
scored as one sequence (frames of each video after the previous one's, ids kept apart per video), which is what
py-motmetrics' summary over several sequences gives. Class-agnostic, as the MOT Challenge is; predicted tracks below
the confidence threshold (their `confidence`) are left out."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from apps.datasets.models import VideoAsset
from apps.diagnostics.domain.tracking import Box, tracking_metrics
from apps.ontologies.domain.video import track_from_item

Frames = dict[int, list[tuple[str, Box]]]


def box_tracks(document: Any) -> list[dict[str, Any]]:
    """The box tracks (items with keyframes) of a video label or prediction document."""
    if not isinstance(document, list):
        return []
    return [
        item
        for item in document
        if isinstance(item, dict) and item.get("tool") == "bbox" and isinstance(item.get("keyframes"), list)
    ]


def video_rows(
    row_ids: Sequence[Any], gt_docs: Sequence[Any], pred_docs: Sequence[Sequence[dict[str, Any]]]
) -> tuple[list[int], dict[Any, int | None]]:
    """The positions of the rows with box tracks on either side, and their probed frame counts by row id."""
    rows = [i for i in range(len(gt_docs)) if box_tracks(gt_docs[i]) or box_tracks(list(pred_docs[i]))]
    if not rows:
        return rows, {}
    counts = VideoAsset.objects.filter(data_row_id__in=[row_ids[i] for i in rows]).values_list(
        "data_row_id", "frame_count"
    )
    return rows, dict(counts)


def _add(frames: Frames, items: list[dict[str, Any]], prefix: str, offset: int, frame_count: int | None) -> int:
    """Every visible frame of the tracks into `frames`; returns the last frame index seen (−1: none)."""
    last = -1
    for item in items:
        try:
            track = track_from_item(dict(item))
            for frame, box, _keyframe in track.frames(frame_count):
                xywh = (float(box["left"]), float(box["top"]), float(box["width"]), float(box["height"]))
                frames.setdefault(offset + frame, []).append((f"{prefix}:{track.track_id}", xywh))
                last = max(last, frame)
        except (KeyError, TypeError, ValueError, IndexError):
            continue  # a malformed stored track is not scored
    return last


def _json(value: float) -> float | None:
    return None if math.isnan(value) else round(value, 6)


def tracking_block(
    row_ids: Sequence[Any],
    gt_docs: Sequence[Any],
    pred_docs: Sequence[Sequence[dict[str, Any]]],
    *,
    iou: float,
    confidence: float,
) -> dict[str, Any] | None:
    """The `tracking` metrics over the rows with box tracks on either side, or None when there are none."""
    rows, counts = video_rows(row_ids, gt_docs, pred_docs)
    if not rows:
        return None
    truth: Frames = {}
    predicted: Frames = {}
    offset = 0
    for i in rows:
        frame_count = counts.get(row_ids[i])
        kept = [
            t for t in box_tracks(list(pred_docs[i])) if t.get("confidence") is None or t["confidence"] >= confidence
        ]
        last = max(
            _add(truth, box_tracks(gt_docs[i]), f"{i}", offset, frame_count),
            _add(predicted, kept, f"{i}", offset, frame_count),
        )
        offset += max(frame_count or 0, last + 1)
    m = tracking_metrics(truth, predicted, min_iou=iou)
    return {
        "videos": len(rows),
        "mota": _json(m.mota),
        "motp": _json(m.motp),
        "idf1": _json(m.idf1),
        "idp": _json(m.idp),
        "idr": _json(m.idr),
        "id_switches": m.id_switches,
        "misses": m.misses,
        "false_positives": m.false_positives,
        "matches": m.matches,
        "objects": m.objects,
        "predictions": m.predictions,
    }
