"""Normalized rows of a video label (pure): one `track` row per track, one `keyframe` row per keyframe (child of
its track row), the track's answers as children of the track row, and one row per classification (per-frame ones
carry their ranges in `geometry.frames`)."""

from __future__ import annotations

from typing import Any

from apps.labeling.domain.annotation_rows import _Flattener
from apps.ontologies.domain.video import GEOMETRY_KEY, track_from_item


def _track_rows(flat: _Flattener, item: dict[str, Any], index: int, frame_count: int | None) -> None:
    track = track_from_item(item)
    key = GEOMETRY_KEY[track.tool]
    summary = {
        "track_id": track.track_id,
        "tool": track.tool,
        "first_frame": track.first_frame,
        "last_frame": track.last_frame(frame_count),
        "keyframes": len(track.keyframes),
        "outside": [list(r) for r in track.outside_ranges(frame_count)],
    }
    base = {"index": index, "schema_id": item["schema_id"], "name": item.get("name", ""), "confidence": None}
    position = flat.add({**base, "parent": None, "kind": "track", "geometry": summary})
    for keyframe in item["keyframes"]:
        row: dict[str, Any] = {**base, "parent": position, "kind": "keyframe"}
        if keyframe.get("outside"):
            row["geometry"] = {"track_id": track.track_id, "frame": keyframe["frame"], "outside": True}
        else:
            shape = keyframe[key]
            row["geometry"] = {"track_id": track.track_id, "frame": keyframe["frame"], key: shape}
            if track.tool == "bbox":
                row.update(x=shape["left"], y=shape["top"], width=shape["width"], height=shape["height"])
            elif track.tool == "point":
                row.update(x=shape["x"], y=shape["y"])
        flat.add(row)
    flat.classifications(item.get("classifications") or [], index, position)


def video_annotation_rows(document: list[dict[str, Any]], frame_count: int | None = None) -> list[dict[str, Any]]:
    """Rows in document order, `parent` = position of the parent row in the list (as `annotation_rows`)."""
    flat = _Flattener()
    for index, item in enumerate(document):
        if "keyframes" in item:
            _track_rows(flat, item, index, frame_count)
            continue
        start = len(flat.rows)
        flat.classifications([{k: v for k, v in item.items() if k != "frames"}], index, None)
        if item.get("frames"):
            flat.rows[start]["geometry"] = {"frames": item["frames"]}
    return flat.rows
