"""Video export writers (pure): NDJSON keyframes and interpolated frames, MOT Challenge (read back by motmetrics),
COCO per frame, CVAT-for-video XML; memory stays flat on a long video."""

from __future__ import annotations

import io
import json
import tracemalloc
import xml.etree.ElementTree as ET
from typing import Any

import motmetrics as mm
import pytest

from apps.exports.domain.video_formats import (
    VideoItem,
    coco_video_json,
    cvat_video_xml,
    mot_lines,
    ndjson_video_line,
)


def box(left: float, top: float, width: float, height: float) -> dict[str, float]:
    return {"top": top, "left": left, "height": height, "width": width}


def item(frame_count: int = 60, annotations: list[dict[str, Any]] | None = None) -> VideoItem:
    annotations = annotations or [
        {
            "schema_id": "s-car",
            "name": "vehicle",
            "tool": "bbox",
            "track_id": "car-1",
            "keyframes": [
                {"frame": 0, "bbox": box(10, 20, 40, 30)},
                {"frame": 30, "bbox": box(70, 50, 100, 60)},
                {"frame": 45, "outside": True},
            ],
        },
        {
            "schema_id": "s-roof",
            "name": "roof",
            "tool": "polygon",
            "track_id": "roof",
            "keyframes": [
                {"frame": 10, "polygon": [{"x": 0, "y": 0}, {"x": 10, "y": 0}, {"x": 10, "y": 10}]},
                {"frame": 20, "polygon": [{"x": 10, "y": 10}, {"x": 30, "y": 10}, {"x": 30, "y": 30}]},
            ],
        },
        {"schema_id": "s-weather", "name": "weather", "answer": {"name": "rain"}, "frames": [[0, 4]]},
    ]
    return VideoItem("row-1", "clip.mp4", frame_count, 640, 480, annotations, label_id="label-1")


def test_ndjson_keyframes_only_is_one_line_with_the_label() -> None:
    text = "".join(ndjson_video_line(item()))
    assert text.count("\n") == 1
    line = json.loads(text)
    assert line["annotations"][0]["keyframes"][1]["frame"] == 30 and "frames" not in line
    assert line["tracks"] == [{"track_id": "car-1", "outside": [[45, 59]]}, {"track_id": "roof", "outside": []}]


def test_ndjson_interpolated_frames() -> None:
    line = json.loads("".join(ndjson_video_line(item(), interpolated=True)))
    frames = line["frames"]
    assert [f["frame"] for f in frames] == list(range(60))
    car15 = next(o for o in frames[15]["objects"] if o["track_id"] == "car-1")
    assert car15 == {"track_id": "car-1", "schema_id": "s-car", "bbox": box(40, 35, 70, 45), "keyframe": False}
    assert next(o for o in frames[30]["objects"] if o["track_id"] == "car-1")["keyframe"] is True
    assert all(o["track_id"] != "car-1" for f in frames[45:] for o in f["objects"])
    roof15 = next(o for o in frames[15]["objects"] if o["track_id"] == "roof")
    assert roof15["polygon"] == [{"x": 5, "y": 5}, {"x": 20, "y": 5}, {"x": 20, "y": 20}]
    assert frames[4]["classifications"] == [{"schema_id": "s-weather", "answer": {"name": "rain"}}]
    assert "classifications" not in frames[5]


def test_mot_text_reads_back_with_motmetrics() -> None:
    text = "".join(mot_lines(item()))
    table = mm.io.loadtxt(io.StringIO(text), fmt="mot15-2D")
    car = table.xs(1, level="Id")
    assert list(car.index) == list(range(1, 46))  # frames 1..45 (0..44 here)
    assert tuple(car.loc[16, ["X", "Y", "Width", "Height"]]) == (40, 35, 70, 45)  # frame 15, 0-based pixels again
    roof = table.xs(2, level="Id")
    assert list(roof.index) == list(range(11, 61))
    assert tuple(roof.loc[16, ["X", "Y", "Width", "Height"]]) == (5, 5, 15, 15)  # the polygon's envelope


def test_coco_has_one_image_per_frame() -> None:
    categories = [{"id": 1, "name": "vehicle", "schema_id": "s-car"}, {"id": 2, "name": "roof", "schema_id": "s-roof"}]
    doc = json.loads("".join(coco_video_json([item(), item(frame_count=10)], categories)))
    assert len(doc["images"]) == 70
    assert doc["images"][15]["file_name"] == "clip.mp4/frame_000015.jpg" and doc["images"][15]["frame_index"] == 15
    assert doc["images"][60]["video_id"] == 2 and doc["images"][60]["frame_index"] == 0
    at15 = [a for a in doc["annotations"] if a["image_id"] == 16]
    car = next(a for a in at15 if a["category_id"] == 1)
    assert car["bbox"] == [40, 35, 70, 45] and car["track_id"] == "car-1" and car["keyframe"] is False
    roof = next(a for a in at15 if a["category_id"] == 2)
    assert roof["segmentation"] == [[5, 5, 20, 5, 20, 20]]
    assert len({a["id"] for a in doc["annotations"]}) == len(doc["annotations"])
    assert sum(1 for a in doc["annotations"] if a["category_id"] == 1) == 45 + 10


def test_cvat_xml_tracks() -> None:
    root = ET.fromstring("".join(cvat_video_xml(item(), ["vehicle", "roof", "a<b"])))  # noqa: S314 (our own XML)
    assert root.findtext("meta/task/size") == "60" and root.findtext("meta/task/mode") == "interpolation"
    assert [e.text for e in root.iter("name")][1:] == ["vehicle", "roof", "a<b"]
    car, roof = root.findall("track")
    assert car.get("label") == "vehicle" and car.get("id") == "0"
    boxes = {int(b.get("frame")): b for b in car.findall("box")}
    assert set(boxes) == set(range(46))
    b15 = boxes[15]
    assert (b15.get("xtl"), b15.get("ytl"), b15.get("xbr"), b15.get("ybr"), b15.get("keyframe")) == (
        "40",
        "35",
        "110",
        "80",
        "0",
    )
    assert boxes[30].get("keyframe") == "1" and boxes[45].get("outside") == "1"
    polygons = roof.findall("polygon")
    assert polygons[0].get("frame") == "10" and polygons[0].get("points") == "0,0;10,0;10,10"
    assert len(polygons) == 50  # visible to the end of the video: no outside shape


@pytest.mark.parametrize("writer", ["ndjson", "mot", "cvat"])
def test_memory_stays_flat_on_a_long_video(writer: str) -> None:
    tracks = [
        {
            "schema_id": "s-car",
            "name": "vehicle",
            "tool": "bbox",
            "track_id": f"t{n}",
            "keyframes": [{"frame": f, "bbox": box(n + f % 7, n, 10, 10)} for f in range(0, 10_000, 100)],
        }
        for n in range(10)
    ]
    long = item(frame_count=10_000, annotations=tracks)
    pieces = {
        "ndjson": lambda: ndjson_video_line(long, interpolated=True),
        "mot": lambda: mot_lines(long),
        "cvat": lambda: cvat_video_xml(long, ["vehicle"]),
    }[writer]
    tracemalloc.start()
    total = 0
    try:
        for piece in pieces():
            total += len(piece)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert total > 3_000_000  # 100,000 boxes written
    assert peak < 2_000_000, peak  # a few frames' worth, not the output
