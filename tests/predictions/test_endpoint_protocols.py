"""The model server protocols without a database: TDP v1 and Label Studio answers parsed into annotations, class
mapping, backoff and the circuit breaker's transitions."""

from __future__ import annotations

import pytest

from apps.predictions.domain import endpoint_protocols as p

FEATURES = [
    {"name": "vehicle", "schema_id": "a", "tool": "bbox"},
    {"name": "roof", "schema_id": "b", "tool": "polygon"},
    {"name": "weather", "schema_id": "c", "tool": "radio", "options": ["sunny", "rain"]},
]


def test_tdp_answer_per_row_with_missing_and_reported_errors():
    payload = {
        "model_version": "v7",
        "results": [
            {"id": "r1", "annotations": [{"name": "car", "bbox": {"top": 1, "left": 2, "width": 3, "height": 4}}]},
            {"id": "r2", "error": "could not decode"},
            {"id": "someone-else", "annotations": []},
            {"id": "r4", "annotations": "nope"},
        ],
    }
    answer = p.parse_tdp_answer(payload, ["r1", "r2", "r3", "r4"])
    assert answer.model_version == "v7"
    assert answer.rows["r1"].annotations[0]["name"] == "car" and not answer.rows["r1"].error
    assert "could not decode" in answer.rows["r2"].error
    assert answer.rows["r3"].error == "The answer has no result for this row."
    assert "not a list" in answer.rows["r4"].error
    assert "someone-else" not in answer.rows


@pytest.mark.parametrize("payload", [None, [], {"results": {}}, "x", {"model_version": "1"}])
def test_tdp_answer_of_the_wrong_shape_is_a_protocol_error(payload):
    with pytest.raises(p.ProtocolError):
        p.parse_tdp_answer(payload, ["r1"])


def test_label_studio_regions_become_annotations_in_pixels():
    rows = [{"id": "r1", "width": 200, "height": 100}, {"id": "r2", "width": 200, "height": 100}]
    payload = {
        "results": [
            {
                "model_version": "ls-1",
                "score": 0.7,
                "result": [
                    {
                        "type": "rectanglelabels",
                        "from_name": "label",
                        "value": {"x": 10, "y": 20, "width": 50, "height": 50, "rectanglelabels": ["car"]},
                        "score": 0.9,
                    },
                    {
                        "type": "polygonlabels",
                        "value": {"points": [[0, 0], [50, 0], [50, 50]], "polygonlabels": ["roof"]},
                    },
                    {"type": "choices", "from_name": "weather", "value": {"choices": ["rain"]}},
                    {
                        "type": "keypointlabels",
                        "value": {"x": 50, "y": 50, "width": 1, "values": {"keypointlabels": ["w"]}},
                    },
                ],
            },
            {"result": [{"type": "brushlabels", "value": {"rle": [1, 2], "brushlabels": ["x"]}}]},
        ]
    }
    answer = p.parse_ls_answer(payload, rows)
    assert answer.model_version == "ls-1"
    car, roof, weather, point = answer.rows["r1"].annotations
    assert car == {
        "name": "car",
        "bbox": {"left": 20.0, "top": 20.0, "width": 100.0, "height": 50.0},
        "confidence": 0.9,
    }
    assert roof["polygon"][1] == {"x": 100.0, "y": 0.0} and roof["confidence"] == 0.7  # the task's score
    assert weather["name"] == "weather" and weather["answer"] == {"name": "rain"}
    assert point["point"] == {"x": 100.0, "y": 50.0} and point["name"] == "w"
    assert "brushlabels" in answer.rows["r2"].error  # one bad region: that row fails, not the batch


def test_label_studio_percentages_need_a_size_and_bare_lists_are_accepted():
    region = {"type": "rectanglelabels", "value": {"x": 1, "y": 1, "width": 1, "height": 1, "rectanglelabels": ["a"]}}
    answer = p.parse_ls_answer([{"result": [region]}], [{"id": "r", "width": None, "height": None}])
    assert "size is unknown" in answer.rows["r"].error
    with pytest.raises(p.ProtocolError):
        p.parse_ls_answer({"predictions": []}, [{"id": "r"}])


def test_label_config_lists_the_ontology():
    config = p.ls_label_config(FEATURES)
    assert '<RectangleLabels name="vehicle" toName="image"><Label value="vehicle"/></RectangleLabels>' in config
    assert '<Choice value="rain"/>' in config and "PolygonLabels" in config
    assert p.ls_label_config([{"name": 'a"<b', "tool": "bbox"}]).count("&lt;") == 2  # attributes escaped


def test_class_map_renames_and_reports_unknown_classes():
    annotations = [{"name": "car"}, {"name": "vehicle"}, {"name": "tree"}, {"name": "tree"}]
    mapped, messages = p.map_classes(annotations, {"car": "vehicle"}, {"vehicle", "roof"})
    assert [a["name"] for a in mapped] == ["vehicle", "vehicle"]
    assert messages == ["The model's class 'tree' maps to no feature (add it to the class map)."]


def test_backoff_and_breaker():
    assert [p.backoff_seconds(n, 5) for n in (1, 2, 3)] == [5, 10, 20]
    assert p.backoff_seconds(30, 5) == 3600
    state, failures = "closed", 0
    for _ in range(2):
        state, failures = p.breaker_after(state=state, failures=failures, ok=False, threshold=3)
    assert (state, failures) == ("closed", 2)
    state, failures = p.breaker_after(state=state, failures=failures, ok=False, threshold=3)
    assert state == "open"
    assert p.breaker_after(state="half_open", failures=0, ok=False, threshold=3)[0] == "open"
    assert p.breaker_after(state="half_open", failures=3, ok=True, threshold=3) == ("closed", 0)
