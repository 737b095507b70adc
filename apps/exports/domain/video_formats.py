"""Video label exports (pure, streamed): NDJSON with keyframes and optionally every interpolated frame, MOT Challenge
text, COCO with one image per frame, CVAT-for-video XML. Every writer is a generator of text pieces computed frame by
frame, so memory stays flat however long the video is.

`VideoItem` is one video row with one label: its identity, the probed frame count and size, and the normalized
label document (see docs/api-extensions.md, "Video labels").
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import quoteattr

from apps.ontologies.domain.video import Track, VideoDocument, document_from_items

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


@dataclass
class VideoItem:
    data_row_id: str
    global_key: str
    frame_count: int
    width: int | None
    height: int | None
    annotations: list[dict[str, Any]]
    label_id: str | None = None
    frame_times: list[float] | None = None

    def document(self) -> VideoDocument:
        return document_from_items(self.annotations)


def box_of(tool: str, geometry: Any) -> tuple[float, float, float, float] | None:
    """(left, top, width, height) of a shape: the box itself, or the envelope of a polygon/polyline."""
    if tool == "bbox":
        return geometry["left"], geometry["top"], geometry["width"], geometry["height"]
    if tool in ("polygon", "polyline") and geometry:
        xs = [p["x"] for p in geometry]
        ys = [p["y"] for p in geometry]
        return min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)
    return None


# --- NDJSON ---------------------------------------------------------------------------------------------------


def _frame_objects(document: VideoDocument, frame: int, frame_count: int) -> list[dict[str, Any]]:
    objects = []
    for track, geometry, is_key in document.objects_at(frame, frame_count):
        key = "line" if track.tool == "polyline" else track.tool
        objects.append({"track_id": track.track_id, "schema_id": track.schema_id, key: geometry, "keyframe": is_key})
    return objects


def ndjson_video_line(item: VideoItem, *, interpolated: bool = False) -> Iterator[str]:
    """One NDJSON line for the video, in pieces: the label as stored (tracks with keyframes, outside ranges) and, when
    `interpolated`, `frames`: every frame's visible objects (`keyframe` false where interpolated) and answers."""
    document = item.document()
    head = {
        "data_row": {"id": item.data_row_id, "global_key": item.global_key, "media_type": "video"},
        "video": {"frame_count": item.frame_count, "width": item.width, "height": item.height},
        "label": item.label_id,
        "annotations": item.annotations,
        "tracks": [
            {"track_id": t.track_id, "outside": [list(r) for r in t.outside_ranges(item.frame_count)]}
            for t in document.tracks
        ],
    }
    text = _dumps(head)
    if not interpolated:
        yield text + "\n"
        return
    yield text[:-1] + ',"frames":['
    ranged = [c for c in document.classifications if c.ranges]
    for frame in range(item.frame_count):
        body: dict[str, Any] = {"frame": frame, "objects": _frame_objects(document, frame, item.frame_count)}
        if item.frame_times is not None:
            body["time"] = item.frame_times[frame]
        answers = [{"schema_id": c.schema_id, "answer": c.answer} for c in ranged if c.covers(frame)]
        if answers:
            body["classifications"] = answers
        yield ("," if frame else "") + _dumps(body)
    yield "]}\n"


# --- MOT Challenge ------------------------------------------------------------------------------------------------


def numeric_track_ids(tracks: list[Track]) -> dict[str, int]:
    """MOT and CVAT need integer ids: 1, 2, … in document order (the label's `track_id` maps to them)."""
    return {t.track_id: n for n, t in enumerate(tracks, start=1)}


def mot_lines(item: VideoItem) -> Iterator[str]:
    """MOT Challenge text (`frame,id,bb_left,bb_top,bb_width,bb_height,conf,x,y,z`, sorted by frame then id), every
    visible frame of every box-like track (polygons give their envelope). MOT counts frames and pixels from 1 (the
    MATLAB convention its tools, `motmetrics` included, undo on reading): frame `f` is written `f + 1` and a box at
    our 0-based `left` is written at `left + 1`."""
    document = item.document()
    ids = numeric_track_ids(document.tracks)
    for frame in range(item.frame_count):
        for track, geometry, _is_key in document.objects_at(frame, item.frame_count):
            box = box_of(track.tool, geometry)
            if box is None:
                continue
            left, top, width, height = box
            yield f"{frame + 1},{ids[track.track_id]},{left + 1:g},{top + 1:g},{width:g},{height:g},1,-1,-1,-1\n"


# --- COCO, one image per frame --------------------------------------------------------------------------------


def coco_frame_name(global_key: str, frame: int) -> str:
    return f"{global_key}/frame_{frame:06d}.jpg"


def coco_video_json(items: Iterable[VideoItem], categories: list[dict[str, Any]]) -> Iterator[str]:
    """COCO (`images` = frames named `<global_key>/frame_000015.jpg` with `video`, `frame_index`; annotations carry
    `track_id` and `keyframe`), streamed. `categories`: `[{"id", "name", "schema_id"}]`; unknown schema ids skip.
    `items` is iterated twice (images, then annotations), so pass a re-iterable sequence."""
    items = list(items) if not isinstance(items, list) else items
    by_schema = {c["schema_id"]: c["id"] for c in categories}
    yield '{"info":{"description":"TDP video export, one image per frame"},"images":['
    image_id = 0
    first = True
    for video_id, item in enumerate(items, start=1):
        for frame in range(item.frame_count):
            image_id += 1
            image = {
                "id": image_id,
                "file_name": coco_frame_name(item.global_key, frame),
                "width": item.width,
                "height": item.height,
                "video_id": video_id,
                "video": item.global_key,
                "frame_index": frame,
            }
            yield ("" if first else ",") + _dumps(image)
            first = False
    yield '],"annotations":['
    image_id = 0
    annotation_id = 0
    for item in items:
        document = item.document()
        for frame in range(item.frame_count):
            image_id += 1
            for track, geometry, is_key in document.objects_at(frame, item.frame_count):
                category = by_schema.get(track.schema_id)
                box = box_of(track.tool, geometry)
                if category is None or box is None:
                    continue
                annotation_id += 1
                annotation: dict[str, Any] = {
                    "id": annotation_id,
                    "image_id": image_id,
                    "category_id": category,
                    "bbox": list(box),
                    "area": box[2] * box[3],
                    "iscrowd": 0,
                    "track_id": track.track_id,
                    "keyframe": is_key,
                }
                if track.tool == "polygon":
                    annotation["segmentation"] = [[v for p in geometry for v in (p["x"], p["y"])]]
                yield ("," if annotation_id > 1 else "") + _dumps(annotation)
    yield '],"categories":' + _dumps(categories) + "}\n"


# --- CVAT for video 1.1 -----------------------------------------------------------------------------------------


def _points(geometry: list[dict[str, float]]) -> str:
    return ";".join(f"{p['x']:g},{p['y']:g}" for p in geometry)


def _cvat_shape(tool: str, frame: int, geometry: Any, *, keyframe: bool, outside: bool) -> str:
    common = f'frame="{frame}" outside="{int(outside)}" occluded="0" keyframe="{int(keyframe)}"'
    if tool == "bbox":
        left, top, width, height = geometry["left"], geometry["top"], geometry["width"], geometry["height"]
        return (
            f'    <box {common} xtl="{left:g}" ytl="{top:g}" xbr="{left + width:g}" ybr="{top + height:g}"'
            ' z_order="0"/>\n'
        )
    if tool == "point":
        return f'    <points {common} points="{geometry["x"]:g},{geometry["y"]:g}" z_order="0"/>\n'
    element = "polygon" if tool == "polygon" else "polyline"
    return f'    <{element} {common} points="{_points(geometry)}" z_order="0"/>\n'


def cvat_video_xml(item: VideoItem, labels: list[str]) -> Iterator[str]:
    """CVAT for video 1.1: one `<track>` per track with every frame it is visible on (keyframe="1" on keyframes),
    and an `outside="1"` shape where it leaves the picture."""
    document = item.document()
    yield '<?xml version="1.0" encoding="utf-8"?>\n<annotations>\n  <version>1.1</version>\n  <meta>\n    <task>\n'
    yield f"      <name>{_text(item.global_key)}</name>\n      <size>{item.frame_count}</size>\n"
    yield "      <mode>interpolation</mode>\n"
    yield f"      <start_frame>0</start_frame>\n      <stop_frame>{max(item.frame_count - 1, 0)}</stop_frame>\n"
    yield "      <labels>\n"
    for name in labels:
        yield f"        <label><name>{_text(name)}</name></label>\n"
    yield "      </labels>\n    </task>\n"
    yield (f"    <original_size><width>{item.width or 0}</width><height>{item.height or 0}</height></original_size>\n")
    yield "  </meta>\n"
    for number, track in enumerate(document.tracks):
        yield f'  <track id="{number}" label={quoteattr(track.name)} source="manual">\n'
        last: tuple[int, Any] | None = None
        for frame, geometry, is_key in track.frames(item.frame_count):
            if last is not None and frame != last[0] + 1:  # an outside range began after `last`
                yield _cvat_shape(track.tool, last[0] + 1, last[1], keyframe=True, outside=True)
            yield _cvat_shape(track.tool, frame, geometry, keyframe=is_key, outside=False)
            last = (frame, geometry)
        if last is not None and last[0] + 1 < item.frame_count:
            yield _cvat_shape(track.tool, last[0] + 1, last[1], keyframe=True, outside=True)
        yield "  </track>\n"
    yield "</annotations>\n"


def _text(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
