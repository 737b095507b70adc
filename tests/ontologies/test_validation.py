"""The annotation validator: every rule, good and bad, table-driven. No database."""

from __future__ import annotations

import copy
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.ontologies.domain import validate_annotations
from tests.ontologies.helpers import compiled_vehicles, schema_id_of

COMPILED, TREE = compiled_vehicles()


def box(**b: Any) -> dict[str, Any]:
    values = {"top": 10, "left": 20, "height": 50, "width": 80, **b}
    return {"name": "vehicle", "bbox": values, "classifications": [{"name": "kind", "answer": {"name": "police"}}]}


AMBULANCE_LIGHTS = {
    "name": "vehicle",
    "bbox": {"top": 1, "left": 1, "height": 5, "width": 5},
    "classifications": [
        {
            "name": "kind",
            "answer": {"name": "ambulance", "classifications": [{"name": "lights_on", "answer": {"name": "yes"}}]},
        }
    ],
}

VALID: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    ("bbox with radio", box(), {}),
    ("bbox float coordinates", box(top=0.5, left=0.25, height=1.5, width=2.75), {}),
    ("bbox touching the image edge", box(top=0, left=0, height=100, width=200), {"image_size": (200, 100)}),
    ("nested radio under the right option", AMBULANCE_LIGHTS, {}),
    (
        "polygon",
        {"name": "roof", "polygon": [{"x": 1, "y": 2}, {"x": 30, "y": 2}, {"x": 30, "y": 40}]},
        {"image_size": (100, 100)},
    ),
    ("polyline", {"name": "lane", "line": [{"x": 0, "y": 0}, {"x": 10, "y": 12}]}, {}),
    ("point", {"name": "wheel", "point": {"x": 5, "y": 6}}, {"image_size": (10, 10)}),
    ("ner span", {"name": "person", "location": {"start": 0, "end": 5}}, {"text_length": 5}),
    ("radio", {"name": "weather", "answer": {"name": "sunny"}}, {}),
    ("radio as a one-item list", {"name": "weather", "answer": [{"name": "rain"}]}, {}),
    ("checklist", {"name": "tags", "answer": [{"name": "night"}, {"name": "blurry"}]}, {}),
    ("empty optional checklist", {"name": "tags", "answer": []}, {}),
    ("text", {"name": "caption", "answer": "free text"}, {}),
    ("confidence", {**box(), "confidence": 0.75}, {}),
]


@pytest.mark.parametrize(("case", "annotation", "kwargs"), VALID, ids=[c[0] for c in VALID])
def test_valid_annotations_pass_and_reference_features_by_schema_id(case, annotation, kwargs):
    normalized, errors = validate_annotations(COMPILED, [copy.deepcopy(annotation)], **kwargs)
    assert errors == []
    assert normalized[0] is not None
    assert normalized[0]["name"] == annotation["name"]
    assert normalized[0]["schema_id"] == schema_id_of(TREE, annotation["name"])


def test_features_may_be_referenced_by_schema_id_instead_of_name():
    vehicle = schema_id_of(TREE, "vehicle")
    kind = schema_id_of(TREE, "vehicle / kind")
    police = schema_id_of(TREE, "vehicle / kind / police")
    annotation = {
        "schema_id": vehicle,
        "bbox": {"top": 1, "left": 1, "height": 5, "width": 5},
        "classifications": [{"schema_id": kind, "answer": {"schema_id": police}}],
    }
    normalized, errors = validate_annotations(COMPILED, [annotation])
    assert errors == []
    assert normalized[0]["name"] == "vehicle"
    assert normalized[0]["classifications"][0]["answer"] == {"schema_id": police, "name": "police"}


INVALID: list[tuple[str, Any, dict[str, Any], str, str]] = [
    ("not an object", "vehicle", {}, "annotations[0]", "object"),
    ("unknown feature name", {"name": "truck", "answer": {"name": "x"}}, {}, "annotations[0].name", "Unknown"),
    (
        "unknown schema_id",
        {"schema_id": "00000000-0000-0000-0000-000000000000", "answer": "x"},
        {},
        "annotations[0].schema_id",
        "Unknown",
    ),
    ("no name nor schema_id", {"answer": "x"}, {}, "annotations[0]", "name"),
    (
        "polygon geometry on a bbox tool",
        {"name": "vehicle", "polygon": [{"x": 1, "y": 1}] * 3, "classifications": []},
        {},
        "annotations[0].polygon",
        "is a bbox",
    ),
    ("bbox tool without geometry", {"name": "vehicle"}, {}, "annotations[0]", "`bbox` is required"),
    (
        "two geometries",
        {**box(), "point": {"x": 1, "y": 1}},
        {},
        "annotations[0].point",
        "not allowed",
    ),
    ("geometry on a classification", {"name": "weather", "bbox": {}}, {}, "annotations[0].bbox", "no geometry"),
    (
        "missing required classification",
        {"name": "vehicle", "bbox": {"top": 1, "left": 1, "height": 1, "width": 1}},
        {},
        "annotations[0].classifications",
        "Required classification 'kind' is missing",
    ),
    (
        "radio with several answers",
        {"name": "weather", "answer": [{"name": "sunny"}, {"name": "rain"}]},
        {},
        "annotations[0].answer",
        "takes one answer, got 2",
    ),
    (
        "radio option not in the list",
        {"name": "weather", "answer": {"name": "snow"}},
        {},
        "annotations[0].answer",
        "not in the list",
    ),
    (
        "checklist option not in the list",
        {"name": "tags", "answer": [{"name": "night"}, {"name": "foggy"}]},
        {},
        "annotations[0].answer[1]",
        "not in the list",
    ),
    (
        "checklist option twice",
        {"name": "tags", "answer": [{"name": "night"}] * 2},
        {},
        "annotations[0].answer[1]",
        "twice",
    ),
    ("checklist not a list", {"name": "tags", "answer": {"name": "night"}}, {}, "annotations[0].answer", "list"),
    ("text too long", {"name": "caption", "answer": "x" * 10_001}, {}, "annotations[0].answer", "too long"),
    ("text with NUL", {"name": "caption", "answer": "a\x00b"}, {}, "annotations[0].answer", "NUL"),
    ("text not a string", {"name": "caption", "answer": 5}, {}, "annotations[0].answer", "string"),
    ("NaN width", box(width=math.nan), {}, "annotations[0].bbox.width", "finite"),
    ("Inf top", box(top=math.inf), {}, "annotations[0].bbox.top", "finite"),
    ("negative height", box(height=-5), {}, "annotations[0].bbox.height", "positive"),
    ("integer too large for a float", box(width=10**400), {}, "annotations[0].bbox.width", "finite"),
    ("zero width", box(width=0), {}, "annotations[0].bbox.width", "positive"),
    ("negative left", box(left=-1), {}, "annotations[0].bbox.left", "outside"),
    ("string coordinate", box(top="10"), {}, "annotations[0].bbox.top", "number"),
    ("boolean coordinate", box(top=True), {}, "annotations[0].bbox.top", "number"),
    ("bbox missing a key", {**box(), "bbox": {"top": 1, "left": 1, "height": 1}}, {}, "annotations[0].bbox", "bbox"),
    (
        "box past the right edge",
        box(left=150, width=80),
        {"image_size": (200, 100)},
        "annotations[0].bbox.width",
        "outside",
    ),
    (
        "box past the bottom",
        box(top=60, height=50),
        {"image_size": (200, 100)},
        "annotations[0].bbox.height",
        "outside",
    ),
    (
        "polygon with 2 points",
        {"name": "roof", "polygon": [{"x": 1, "y": 2}, {"x": 3, "y": 4}]},
        {},
        "annotations[0].polygon",
        "at least 3",
    ),
    (
        "self-intersecting polygon",
        {"name": "roof", "polygon": [{"x": 0, "y": 0}, {"x": 10, "y": 10}, {"x": 10, "y": 0}, {"x": 0, "y": 10}]},
        {},
        "annotations[0].polygon",
        "not valid",
    ),
    (
        "polygon point with NaN",
        {"name": "roof", "polygon": [{"x": 0, "y": 0}, {"x": math.nan, "y": 1}, {"x": 1, "y": 0}]},
        {},
        "annotations[0].polygon[1].x",
        "finite",
    ),
    (
        "polygon outside the image",
        {"name": "roof", "polygon": [{"x": 0, "y": 0}, {"x": 500, "y": 1}, {"x": 1, "y": 3}]},
        {"image_size": (100, 100)},
        "annotations[0].polygon[1].x",
        "outside",
    ),
    ("polyline with 1 point", {"name": "lane", "line": [{"x": 0, "y": 0}]}, {}, "annotations[0].line", "at least 2"),
    (
        "point outside the image",
        {"name": "wheel", "point": {"x": 5, "y": 60}},
        {"image_size": (10, 50)},
        "annotations[0].point.y",
        "outside",
    ),
    ("point with Inf", {"name": "wheel", "point": {"x": math.inf, "y": 6}}, {}, "annotations[0].point.x", "finite"),
    (
        "ner end before start",
        {"name": "person", "location": {"start": 5, "end": 5}},
        {},
        "annotations[0].location.end",
        "greater",
    ),
    (
        "ner negative start",
        {"name": "person", "location": {"start": -1, "end": 5}},
        {},
        "annotations[0].location.start",
        "negative",
    ),
    (
        "ner past the text",
        {"name": "person", "location": {"start": 0, "end": 6}},
        {"text_length": 5},
        "annotations[0].location.end",
        "past the end",
    ),
    (
        "ner float offsets",
        {"name": "person", "location": {"start": 0.5, "end": 6}},
        {},
        "annotations[0].location.start",
        "integer",
    ),
    (
        "nested answer under the wrong option",
        {
            **box(),
            "classifications": [
                {
                    "name": "kind",
                    "answer": {"name": "police", "classifications": [{"name": "lights_on", "answer": {"name": "yes"}}]},
                }
            ],
        },
        {},
        "annotations[0].classifications[0].answer.classifications[0]",
        "belongs under vehicle / kind / ambulance",
    ),
    (
        "nested classification at the top level",
        {"name": "kind", "answer": {"name": "police"}},
        {},
        "annotations[0]",
        "belongs under vehicle",
    ),
    (
        "top-level classification nested under a tool",
        {
            **box(),
            "classifications": [
                {"name": "kind", "answer": {"name": "police"}},
                {"name": "weather", "answer": {"name": "sunny"}},
            ],
        },
        {},
        "annotations[0].classifications[1]",
        "belongs under the top level",
    ),
    (
        "classification answered twice under one tool",
        {**box(), "classifications": [{"name": "kind", "answer": {"name": "police"}}] * 2},
        {},
        "annotations[0].classifications[1]",
        "more than once",
    ),
    ("confidence above 1", {**box(), "confidence": 1.5}, {}, "annotations[0].confidence", "0 to 1"),
    ("unknown field", {**box(), "colour": "red"}, {}, "annotations[0].colour", "Unknown field"),
    (
        "name and schema_id disagree",
        {"name": "weather", "schema_id": schema_id_of(TREE, "tags"), "answer": {"name": "sunny"}},
        {},
        "annotations[0]",
        "not 'weather'",
    ),
]


@pytest.mark.parametrize(("case", "annotation", "kwargs", "path", "message"), INVALID, ids=[c[0] for c in INVALID])
@pytest.mark.parametrize("fast", [True, False], ids=["fast", "full"])
def test_invalid_annotations_give_a_precise_error(case, annotation, kwargs, path, message, fast):
    good = {"name": "wheel", "point": {"x": 0, "y": 0}}
    normalized, errors = validate_annotations(COMPILED, [copy.deepcopy(annotation), good], fast=fast, **kwargs)
    assert [e["path"] for e in errors][:1] == [path], errors
    assert message in errors[0]["message"]
    assert errors[0]["index"] == 0
    assert normalized[0] is None
    assert normalized[1] is not None  # one bad annotation does not sink the others


def test_archived_features_are_refused_for_new_work_unless_allowed():
    def archive_police(tree):
        tree["tools"][0]["classifications"][0]["options"][0]["archived"] = True

    compiled, _ = compiled_vehicles(archive_police)
    _, errors = validate_annotations(compiled, [box()])
    assert "archived" in errors[0]["message"]
    normalized, errors = validate_annotations(compiled, [box()], allow_archived=True)
    assert errors == [] and normalized[0] is not None


def test_a_complete_label_must_answer_required_top_level_classifications():
    def require_weather(tree):
        tree["classifications"][0]["required"] = True

    compiled, _ = compiled_vehicles(require_weather)
    _, errors = validate_annotations(compiled, [box()], complete=True)
    assert errors == [
        {"index": None, "path": "annotations", "message": "Required classification 'weather' is missing."}
    ]
    _, errors = validate_annotations(compiled, [box(), {"name": "weather", "answer": {"name": "sunny"}}], complete=True)
    assert errors == []


def test_a_top_level_classification_is_answered_once_per_label():
    _, errors = validate_annotations(COMPILED, [{"name": "caption", "answer": "a"}, {"name": "caption", "answer": "b"}])
    assert errors[0]["path"] == "annotations[1]" and "already answered" in errors[0]["message"]


def test_not_a_list():
    assert validate_annotations(COMPILED, {"name": "vehicle"})[1][0]["path"] == "annotations"


def test_errors_are_sorted_by_annotation_index():
    _, errors = validate_annotations(COMPILED, [box(width=math.nan), {"name": "nope", "answer": 1}, box(height=-1)])
    assert [e["index"] for e in errors] == [0, 1, 2]


coordinate = st.one_of(
    st.integers(-5, 300), st.floats(allow_nan=True, allow_infinity=True), st.just("1"), st.none(), st.booleans()
)
answer = st.one_of(
    st.fixed_dictionaries({"name": st.sampled_from(["police", "ambulance", "nope"])}),
    st.fixed_dictionaries(
        {
            "name": st.sampled_from(["police", "ambulance"]),
            "classifications": st.lists(
                st.fixed_dictionaries(
                    {
                        "name": st.sampled_from(["lights_on", "kind"]),
                        "answer": st.fixed_dictionaries({"name": st.sampled_from(["yes", "no", "x"])}),
                    }
                ),
                max_size=2,
            ),
        }
    ),
    st.lists(st.fixed_dictionaries({"name": st.just("police")}), max_size=2),
    st.text(max_size=3),
)
annotation_strategy = st.fixed_dictionaries(
    {
        "name": st.sampled_from(["vehicle", "vehicle", "roof", "weather"]),
        "bbox": st.fixed_dictionaries(
            {"top": coordinate, "left": coordinate, "height": coordinate, "width": coordinate}
        ),
    },
    optional={
        "classifications": st.lists(
            st.fixed_dictionaries({"name": st.sampled_from(["kind", "weather"]), "answer": answer}), max_size=2
        )
    },
)


def _archive_police(tree):
    tree["tools"][0]["classifications"][0]["options"][0]["archived"] = True


def _require_lights(tree):
    tree["tools"][0]["classifications"][0]["options"][1]["classifications"][0]["required"] = True


def _optional_kind(tree):
    tree["tools"][0]["classifications"][0]["required"] = False


def _archive_vehicle(tree):
    tree["tools"][0]["archived"] = True


VARIANTS = [COMPILED] + [
    compiled_vehicles(m)[0] for m in (_archive_police, _require_lights, _optional_kind, _archive_vehicle)
]


@settings(max_examples=400, deadline=None)
@given(
    st.lists(annotation_strategy, max_size=6),
    st.sampled_from([None, (200.0, 150.0)]),
    st.sampled_from(range(len(VARIANTS))),
)
def test_fast_path_and_full_validator_agree(annotations, image_size, variant):
    compiled = VARIANTS[variant]
    fast = validate_annotations(compiled, copy.deepcopy(annotations), image_size=image_size)
    full = validate_annotations(compiled, copy.deepcopy(annotations), image_size=image_size, fast=False)
    assert fast == full


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=10,
)
keys = st.sampled_from(
    ["name", "schema_id", "bbox", "polygon", "line", "point", "location", "classifications", "answer", "confidence"]
)
names_or_ids = st.sampled_from(
    ["vehicle", "roof", "lane", "wheel", "person", "weather", "tags", "caption", "kind", "lights_on", "police", "x"]
    + [schema_id_of(TREE, p) for p in ("vehicle", "weather", "vehicle / kind", "vehicle / kind / ambulance")]
)
fuzzed_annotation = st.dictionaries(
    keys,
    st.one_of(
        json_values, names_or_ids, st.lists(st.dictionaries(keys, json_values | names_or_ids, max_size=3), max_size=2)
    ),
    max_size=4,
)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(fuzzed_annotation, json_values), max_size=5), st.sampled_from([None, (50.0, 50.0)]))
def test_the_validator_never_raises_on_arbitrary_json(annotations, image_size):
    for fast in (True, False):
        normalized, errors = validate_annotations(
            COMPILED, annotations, image_size=image_size, text_length=10, fast=fast
        )
        assert len(normalized) == len(annotations)
        bad = {e["index"] for e in errors}
        assert all((n is None) == (i in bad) for i, n in enumerate(normalized))
        assert all(isinstance(e["path"], str) and isinstance(e["message"], str) for e in errors)
