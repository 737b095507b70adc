"""The `frame_detection` block of a model run's metrics: per-frame detection metrics of its video rows.

Each sampled frame of each video is one image for the detection evaluation (`apps/diagnostics/domain/detection.py`,
the same matching as the image runs, equal to pycocotools): the ground truth's boxes on that frame are its
interpolated track boxes, the prediction's boxes its tracks' (interpolated) boxes on that frame. A predicted box's
score is the confidence of the keyframe at or before the frame, else its track's `confidence`, else 1.0. All frames
are scored up to MAX_FRAMES in total; above that every k-th frame (k the smallest that fits), reported as
`sampled_every`. Boxes only (the run ontology's box tools are the classes)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from apps.diagnostics.domain.boxes import ClassRef
from apps.diagnostics.domain.detection import evaluate
from apps.diagnostics.domain.documents import from_documents
from apps.diagnostics.video_tracking import box_tracks, video_rows
from apps.ontologies.domain.video import track_from_item

MAX_FRAMES = 20_000

FrameDocs = dict[int, list[dict[str, Any]]]


def _score(item: dict[str, Any], frame: int) -> float | None:
    """The keyframe's confidence at or before `frame`, else the track's."""
    score = None
    for key in item["keyframes"]:
        if not isinstance(key, dict) or not isinstance(key.get("frame"), int) or key["frame"] > frame:
            break
        if isinstance(key.get("confidence"), int | float):
            score = float(key["confidence"])
    if score is None and isinstance(item.get("confidence"), int | float):
        score = float(item["confidence"])
    return score


def _frames(items: list[dict[str, Any]], frame_count: int | None, step: int, scored: bool) -> FrameDocs:
    """The sampled frames' boxes of `items`, as image annotation documents (frame → list)."""
    out: FrameDocs = {}
    for item in items:
        try:
            track = track_from_item(dict(item))
            keyframes = sorted((k for k in item["keyframes"] if isinstance(k, dict)), key=lambda k: k.get("frame", 0))
            ordered = {**item, "keyframes": keyframes}
            for frame, box, _keyframe in track.frames(frame_count):
                if frame % step:
                    continue
                annotation: dict[str, Any] = {
                    "schema_id": item.get("schema_id"),
                    "name": item.get("name"),
                    "tool": "bbox",
                    "bbox": {k: float(box[k]) for k in ("top", "left", "height", "width")},
                }
                if scored:
                    score = _score(ordered, frame)
                    if score is not None:
                        annotation["confidence"] = score
                out.setdefault(frame, []).append(annotation)
        except (KeyError, TypeError, ValueError, IndexError):
            continue  # a malformed stored track is not scored
    return out


def _json(value: float) -> float | None:
    return None if value is None or math.isnan(value) else round(value, 6)


def frame_detection_block(
    row_ids: Sequence[Any],
    gt_docs: Sequence[Any],
    pred_docs: Sequence[Sequence[dict[str, Any]]],
    *,
    iou: float,
    confidence: float,
    classes: Sequence[ClassRef],
    max_frames: int = MAX_FRAMES,
) -> dict[str, Any] | None:
    """AP, precision, recall and F1 at `iou` over the video rows' sampled frames, or None without video tracks."""
    rows, counts = video_rows(row_ids, gt_docs, pred_docs)
    if not rows:
        return None
    known = [counts.get(row_ids[i]) for i in rows]
    total = sum(c or 0 for c in known)
    step = max(1, math.ceil(total / max_frames)) if total else 1
    gt_images: list[list[dict[str, Any]]] = []
    pred_images: list[list[dict[str, Any]]] = []
    for i, frame_count in zip(rows, known, strict=True):
        truth = _frames(box_tracks(gt_docs[i]), frame_count, step, scored=False)
        predicted = _frames(box_tracks(list(pred_docs[i])), frame_count, step, scored=True)
        last = frame_count - 1 if frame_count else max([*truth, *predicted, 0])
        for frame in range(0, last + 1, step):
            gt_images.append(truth.get(frame, []))
            pred_images.append(predicted.get(frame, []))
    inp = from_documents(gt_images, pred_images, classes=list(classes))
    ev = evaluate(inp.gt, inp.pred, iou=iou, confidence=confidence, classes=inp.classes, num_images=inp.num_images)
    totals = ev.totals
    return {
        "videos": len(rows),
        "frames": len(gt_images),
        "sampled_every": step,
        "iou": iou,
        "ap": _json(ev.mean_ap),
        "precision": _json(totals["precision"]),
        "recall": _json(totals["recall"]),
        "f1": _json(totals["f1"]),
        "true_positives": totals["true_positives"],
        "false_positives": totals["false_positives"],
        "false_negatives": totals["false_negatives"],
        "classes": [
            {
                "name": c.name,
                "schema_id": c.key,
                "ap": _json(c.ap),
                "precision": _json(c.precision),
                "recall": _json(c.recall),
                "f1": _json(c.f1),
                "support": c.support,
            }
            for c in ev.classes
            if c.support or c.predictions
        ],
    }
