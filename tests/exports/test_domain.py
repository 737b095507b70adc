"""Pure pieces of the exports (no database)."""

from __future__ import annotations

import json

import pytest

from apps.exports.domain import coco_import, documents, paths, voc, yolo
from apps.exports.domain.filters import FilterError, parse_filters, query_to_raw
from apps.exports.domain.ndjson import LineEncoder, RawJSON, splice


def test_raw_json_is_spliced_and_user_text_cannot_fake_a_placeholder():
    encoder = LineEncoder()
    hostile = f"\x00{encoder._nonce}:0"  # even knowing the nonce, a string stays a string
    line = encoder.encode({"a": RawJSON('[{"x": 1}]'), "b": hostile, "c": RawJSON("{}")})
    assert json.loads(line) == {"a": [{"x": 1}], "b": hostile, "c": {}}


def test_splice():
    assert json.loads(splice('{"a":1}', '"b":[2]')) == {"a": 1, "b": [2]}
    assert json.loads(splice("{}", '"b":2')) == {"b": 2}


def test_filters_parse_and_normalize():
    parsed = parse_filters(
        query_to_raw(
            [
                ("state", ["done,in_review"]),
                ("global_keys", ["a,b"]),
                ("metadata.split", ["train"]),
                ("label", ["approved"]),
                ("label_created_from", ["2026-01-01T00:00:00Z"]),
            ]
        ),
        from_query=True,
    )
    assert parsed.states == ("done", "in_review") and parsed.global_keys == ("a,b",)
    assert parsed.metadata == {"split": "train"} and parsed.label == "approved"
    assert parse_filters(parsed.as_dict()) == parsed


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"colour": "red"}, "colour"),
        ({"state": ["done", "later"]}, "state"),
        ({"batch": ["x"]}, "batch"),
        ({"labeler": 5}, "labeler"),
        ({"label": "best"}, "label"),
        (
            {"label_created_from": "2026-01-02T00:00:00Z", "label_created_to": "2026-01-01T00:00:00Z"},
            "label_created_to",
        ),
        ({"metadata": {"split": ["a"]}}, "metadata.split"),
        ({"metadata.": "x"}, "metadata."),
    ],
)
def test_bad_filters(raw, field):
    with pytest.raises(FilterError) as caught:
        parse_filters(raw)
    assert field in caught.value.details


def test_file_stems_are_safe_and_distinct():
    assert paths.file_stem("img-1.jpg", "0190-aaaa") == "img-1.jpg"
    a = paths.file_stem("a/b", "01900000-0000-7000-8000-000000000001")
    b = paths.file_stem("a_b", "01900000-0000-7000-8000-000000000002")
    assert a != b and "/" not in a
    assert ".." not in paths.file_stem("../../etc/passwd", "01900000-0000-7000-8000-000000000003")


def test_voc_text_escapes_and_drops_invalid_characters():
    assert voc.text('<a href="x">&\x01\x1f') == '&lt;a href="x"&gt;&amp;'


def test_yolo_normalizes_and_clamps():
    shape = documents.Shape("s", "vehicle", "bbox", (0.0, 0.0, 640.0, 480.0), (), {})
    assert yolo.label_text([shape], width=640, height=480, class_index={"s": 3}) == (
        "3 0.500000 0.500000 1.000000 1.000000\n"
    )


def test_categories_keep_tool_order_ids():
    tree = {
        "tools": [{"name": "a", "tool": "point", "schema_id": "1"}, {"name": "b", "tool": "bbox", "schema_id": "2"}]
    }
    (category,) = documents.categories(tree)
    assert (category.id, category.name, category.schema_id) == (2, "b", "2")


def test_coco_attributes_become_nested_classifications():
    tool = {
        "name": "vehicle",
        "tool": "bbox",
        "classifications": [
            {
                "name": "kind",
                "type": "radio",
                "options": [
                    {"value": "ambulance", "classifications": [{"name": "lights_on", "type": "radio", "options": []}]}
                ],
            },
            {"name": "note", "type": "text"},
        ],
    }
    (annotation,) = coco_import.to_annotations(
        {"bbox": [1, 2, 3, 4], "attributes": {"kind": "ambulance", "kind.lights_on": "yes", "note": "n"}},
        category="vehicle",
        tool=tool,
    )
    assert annotation["bbox"] == {"left": 1, "top": 2, "width": 3, "height": 4}
    assert annotation["classifications"] == [
        {
            "name": "kind",
            "answer": {"name": "ambulance", "classifications": [{"name": "lights_on", "answer": {"name": "yes"}}]},
        },
        {"name": "note", "answer": "n"},
    ]
    with pytest.raises(coco_import.CocoImportError):
        coco_import.to_annotations({"bbox": [1, 2, 3]}, category="vehicle", tool=tool)


@pytest.mark.parametrize("tool", ["bbox", "polygon"])
def test_coco_annotation_fast_encoding_matches_the_dict(tool):
    from apps.exports.domain import coco

    points = ((1.0, 2.5), (10.25, 2.0), (7.0, 9.125)) if tool == "polygon" else ()
    shape = documents.Shape("sid", "x", tool, (1.0, 2.0, 9.25, 7.125), points, {"kind": 'a"<', "tags": ["n"]})
    category = documents.Category(id=4, name="x", schema_id="sid", tool=tool)
    kwargs = {"annotation_id": 7, "image_id": 3, "shape": shape, "category": category, "label_id": "lid"}
    assert json.loads(coco.annotation_json(**kwargs)) == coco.annotation(**kwargs)


def test_section_names_are_checked():
    from apps.exports import registry

    for bad in ("", 'labels"', "data_row", "Quality", "a b"):
        with pytest.raises(ValueError):
            registry.register_row_section(bad, lambda project, ids: {})
