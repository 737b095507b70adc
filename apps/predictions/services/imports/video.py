"""Video lines of a pre-label or prediction import: one line is one track (`track_id`, `keyframes` of per-frame
boxes or other shapes, an optional `confidence` per keyframe and for the track) or one per-frame classification
(`frames`), checked by the video label validator against the row's probed frame count and size."""

from __future__ import annotations

import re
from typing import Any

from apps.datasets.models import VideoStatus
from apps.ontologies.domain.validation import CompiledOntology
from apps.ontologies.domain.video_validation import validate_video_annotations
from apps.predictions.domain.lines import LineError, ParsedLine, _confidence
from apps.predictions.services.imports.rows import _Row

_PATH = re.compile(r"^annotations\[\d+\]\.?")


def _status_error(row: _Row) -> str | None:
    if row.video is None:
        return "Tracks and per-frame answers (track_id, keyframes, frames) are for video rows; this row is not a video."
    status, frames = row.video
    if status == VideoStatus.FAILED:
        return "The video could not be read (see its probe error); it takes no tracks."
    if status != VideoStatus.READY or frames is None:
        return "The video is still being probed; import its tracks once its frames are known."
    return None


def not_for_video(row: _Row) -> str | None:
    """Why an image-style line (a single shape, no track) cannot go on this row, if it is a video row."""
    if row.video is None:
        return None
    return "A video row takes tracks: send track_id and keyframes ([{frame, bbox}, …]), not a single shape."


def video_line(compiled: CompiledOntology, line: ParsedLine, row: _Row) -> tuple[dict[str, Any] | None, str | None]:
    """(the normalized track or per-frame answer, None) or (None, the reason the line is refused)."""
    problem = _status_error(row)
    if problem:
        return None, problem
    annotation = dict(line.annotation)
    confidences: dict[int, float] = {}
    keyframes = annotation.get("keyframes")
    if type(keyframes) is list:
        cleaned = []
        for k, keyframe in enumerate(keyframes):
            if type(keyframe) is dict and "confidence" in keyframe:
                keyframe = dict(keyframe)
                try:
                    value = _confidence(keyframe.pop("confidence"))
                except LineError as exc:
                    return None, f"keyframes[{k}].confidence: {exc}"
                if value is not None and type(keyframe.get("frame")) is int:
                    confidences[keyframe["frame"]] = value
            cleaned.append(keyframe)
        annotation["keyframes"] = cleaned
    _status, frame_count = row.video  # type: ignore[misc]
    normalized, errors = validate_video_annotations(
        compiled, [annotation], image_size=row.bounds[0], frame_count=frame_count
    )
    if errors:
        error = errors[0]
        path = _PATH.sub("", error["path"] or "")
        return None, f"{path}: {error['message']}" if path else error["message"]
    if not normalized:
        return None, "The annotation is empty."
    item = normalized[0]
    if confidences and "keyframes" in item:
        item["keyframes"] = [
            {**k, "confidence": confidences[k["frame"]]} if k["frame"] in confidences else k for k in item["keyframes"]
        ]
    return item, None
