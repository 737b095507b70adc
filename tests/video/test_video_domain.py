"""Tracks, keyframes, interpolation, outside ranges and the video label validator (pure, no database)."""

from __future__ import annotations

from typing import Any

import pytest

from apps.ontologies.domain.video import Keyframe, Track, document_from_items, interpolate
from apps.ontologies.domain.video_validation import validate_video_annotations
from tests.ontologies.helpers import compiled_vehicles, schema_id_of

COMPILED, TREE = compiled_vehicles()


def bbox(left: float, top: float, width: float, height: float) -> dict[str, float]:
    return {"top": top, "left": left, "height": height, "width": width}


POLICE = [{"name": "kind", "answer": {"name": "police"}}]


def car(*keyframes: dict[str, Any], track_id: str = "car-1", **extra: Any) -> dict[str, Any]:
    return {"name": "vehicle", "track_id": track_id, "keyframes": list(keyframes), "classifications": POLICE, **extra}


def test_keyframes_at_0_and_30_give_the_exact_box_at_15() -> None:
    track = Track("t", "bbox", "s", "vehicle", [Keyframe(0, bbox(10, 20, 40, 30)), Keyframe(30, bbox(70, 50, 100, 60))])
    geometry, is_key = track.at(15)  # type: ignore[misc]
    assert geometry == bbox(40, 35, 70, 45) and is_key is False
    assert track.at(0) == (bbox(10, 20, 40, 30), True)
    assert track.at(30) == (bbox(70, 50, 100, 60), True)
    assert track.at(10)[0] == bbox(30, 30, 60, 40)  # type: ignore[index]
    assert track.at(-1) is None


def test_points_and_equal_vertex_polygons_interpolate_vertex_by_vertex() -> None:
    assert interpolate("point", {"x": 0, "y": 10}, {"x": 10, "y": 30}, 0.25) == {"x": 2.5, "y": 15}
    a = [{"x": 0, "y": 0}, {"x": 10, "y": 0}, {"x": 10, "y": 10}]
    b = [{"x": 10, "y": 10}, {"x": 30, "y": 10}, {"x": 30, "y": 30}]
    assert interpolate("polygon", a, b, 0.5) == [{"x": 5, "y": 5}, {"x": 20, "y": 5}, {"x": 20, "y": 20}]
    # different vertex counts: the earlier shape holds until the next keyframe
    assert interpolate("polygon", a, b[:2] + b[:2], 0.5) == a


def test_outside_ranges_hide_the_object_and_it_stays_until_the_end() -> None:
    track = Track(
        "t",
        "bbox",
        "s",
        "vehicle",
        [Keyframe(40, None, True), Keyframe(0, bbox(0, 0, 10, 10)), Keyframe(50, bbox(20, 0, 10, 10))],
    )
    assert [k.frame for k in track.keyframes] == [0, 40, 50]  # sorted
    assert track.at(39) == (bbox(0, 0, 10, 10), False)  # no interpolation towards an outside keyframe
    assert track.at(40) is None and track.at(49) is None
    assert track.at(99, frame_count=100) == (bbox(20, 0, 10, 10), False)
    assert track.at(100, frame_count=100) is None
    assert track.outside_ranges(100) == [(40, 49)]
    frames = list(track.frames(frame_count=100))
    assert [f for f, _g, _k in frames] == list(range(40)) + list(range(50, 100))
    assert [f for f, _g, k in frames if k] == [0, 50]


def test_frames_iteration_equals_per_frame_lookup() -> None:
    track = Track(
        "t",
        "bbox",
        "s",
        "v",
        [Keyframe(3, bbox(0, 0, 10, 10)), Keyframe(13, bbox(10, 5, 20, 10)), Keyframe(20, None, True)],
    )
    frames = list(track.frames(frame_count=30))
    assert [(f, g, k) for f, g, k in frames] == [
        (f, *track.at(f, 30))
        for f in range(30)
        if track.at(f, 30) is not None  # type: ignore[misc]
    ]
    assert frames[-1][0] == 19 and track.outside_ranges(30) == [(20, 29)]


def test_validator_normalizes_tracks_and_classifications() -> None:
    doc = [
        car(
            {"frame": 30, "bbox": bbox(70, 50, 100, 60)},
            {"frame": 0, "bbox": bbox(10, 20, 40, 30)},
            {"frame": 45, "outside": True},
        ),
        {"name": "wheel", "track_id": "w1", "keyframes": [{"frame": 5, "point": {"x": 1, "y": 2}}]},
        {"name": "weather", "answer": {"name": "sunny"}, "frames": [[10, 20], [0, 5]]},
        {"name": "caption", "answer": "a street"},
    ]
    normalized, errors = validate_video_annotations(COMPILED, doc, image_size=(640, 480), frame_count=60)
    assert errors == []
    track = normalized[0]
    assert track["schema_id"] == schema_id_of(TREE, "vehicle") and track["track_id"] == "car-1"
    assert [k["frame"] for k in track["keyframes"]] == [0, 30, 45]
    assert track["keyframes"][2] == {"frame": 45, "outside": True}
    assert track["classifications"][0]["answer"]["name"] == "police"
    assert normalized[2]["frames"] == [[0, 5], [10, 20]] and normalized[2]["answer"]["name"] == "sunny"
    assert "frames" not in normalized[3]
    document = document_from_items(normalized)
    assert document.tracks[0].at(15)[0] == bbox(40, 35, 70, 45)  # type: ignore[index]
    weather = document.classifications[0]
    assert weather.covers(3) and not weather.covers(7) and document.classifications[1].covers(59)


def test_a_per_frame_classification_may_repeat_with_other_answers() -> None:
    doc = [
        {"name": "weather", "answer": {"name": "sunny"}, "frames": [[0, 9]]},
        {"name": "weather", "answer": {"name": "rain"}, "frames": [[10, 19]]},
    ]
    normalized, errors = validate_video_annotations(COMPILED, doc, frame_count=20)
    assert errors == [] and [n["answer"]["name"] for n in normalized] == ["sunny", "rain"]


@pytest.mark.parametrize(
    ("item", "path", "message"),
    [
        (car({"frame": 60, "bbox": bbox(0, 0, 1, 1)}), "annotations[0].keyframes[0].frame", "60 frames"),
        (car({"frame": -1, "bbox": bbox(0, 0, 1, 1)}), "annotations[0].keyframes[0].frame", "integer"),
        (car({"frame": 1.5, "bbox": bbox(0, 0, 1, 1)}), "annotations[0].keyframes[0].frame", "integer"),
        (
            car({"frame": 1, "bbox": bbox(0, 0, 1, 1)}, {"frame": 1, "bbox": bbox(0, 0, 1, 1)}),
            "annotations[0].keyframes[1].frame",
            "two keyframes",
        ),
        (car({"frame": 1, "outside": True}), "annotations[0].keyframes", "at least one keyframe with a shape"),
        (car(), "annotations[0].keyframes", "keyframes"),
        (car({"frame": 1, "bbox": bbox(0, 0, 1, 1)}, track_id="bad id!"), "annotations[0].track_id", "letters"),
        (car({"frame": 1, "bbox": bbox(0, 0, 1, 1), "speed": 3}), "annotations[0].keyframes[0].speed", "Unknown"),
        (car({"frame": 1, "bbox": bbox(600, 0, 100, 1)}), "annotations[0].keyframes[0].bbox", "outside the image"),
        (car({"frame": 1, "bbox": {"top": 1}}), "annotations[0].keyframes[0].bbox", "bbox"),
        (car({"frame": 1, "point": {"x": 1, "y": 1}}), "annotations[0].keyframes[0]", "bbox"),
        (
            car({"frame": 1, "outside": True, "bbox": bbox(0, 0, 1, 1)}),
            "annotations[0].keyframes[0].bbox",
            "no shape",
        ),
        ({"name": "person", "track_id": "p", "keyframes": [{"frame": 0}]}, "annotations[0]", "cannot be tracked"),
        ({"name": "weather", "answer": {"name": "sunny"}, "frames": [[5, 2]]}, "annotations[0].frames[0]", "after"),
        ({"name": "weather", "answer": {"name": "sunny"}, "frames": [[0, 99]]}, "annotations[0].frames[0]", "frames"),
        ({"name": "weather", "answer": {"name": "snow"}, "frames": [[0, 1]]}, "annotations[0].answer", ""),
        ({"name": "nothing", "track_id": "x", "keyframes": []}, "annotations[0]", "tool of the ontology"),
    ],
)
def test_invalid_video_documents_get_precise_errors(item: dict[str, Any], path: str, message: str) -> None:
    normalized, errors = validate_video_annotations(COMPILED, [item], image_size=(640, 480), frame_count=60)
    assert normalized == []
    assert errors and errors[0]["path"].startswith(path), errors
    assert message in errors[0]["message"], errors


def test_required_track_answers_are_checked() -> None:
    item = {"name": "vehicle", "track_id": "c", "keyframes": [{"frame": 0, "bbox": bbox(0, 0, 1, 1)}]}
    normalized, errors = validate_video_annotations(COMPILED, [item], frame_count=10)
    assert normalized == [] and "Required classification 'kind'" in errors[0]["message"]


def test_track_ids_are_unique() -> None:
    one = car({"frame": 0, "bbox": bbox(0, 0, 1, 1)})
    normalized, errors = validate_video_annotations(COMPILED, [one, dict(one)], frame_count=10)
    assert len(normalized) == 1 and errors[0]["path"] == "annotations[1].track_id"


def test_not_a_list() -> None:
    assert validate_video_annotations(COMPILED, {"a": 1})[1][0]["path"] == "annotations"
