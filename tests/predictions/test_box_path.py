"""The bulk path of box lines gives exactly what the general path (parse_line + the ontology validator) gives.

Domain level (no database, property-based): a line the box path takes parses to the same parts with `parse_line`,
and its box is accepted by the path exactly when the validator accepts the annotation, with the same normalized
JSON. Import level (database): one file of good and bad lines of every kind, imported with the box path and without
it, gives the same report (counts, line numbers, messages) and the same stored annotations, also on re-import.
"""

from __future__ import annotations

import copy
import json
import math
import uuid
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.ontologies import services as ontology_services
from apps.ontologies.demo import VEHICLES
from apps.ontologies.domain import compile_ontology, normalize_tree, validate_annotations, walk
from apps.predictions.domain.boxes import BoxLines, BoxPath
from apps.predictions.domain.lines import LineError, parse_line
from apps.predictions.models import Prelabel
from apps.predictions.services import annotations_import, prelabel_target
from tests.predictions.conftest import add_batch

# vehicles (a bbox tool with a required radio, nested under an option) plus a bbox tool with optional checklist,
# text and radio answers and a name that needs escaping, and one that is archived.
EXTRA_TOOLS = [
    {
        "name": 'sign "50%"',
        "tool": "bbox",
        "classifications": [
            {"name": "flags", "type": "checklist", "options": [{"value": "a"}, {"value": "b"}]},
            {"name": "note", "type": "text"},
            {"name": "color", "type": "radio", "options": [{"value": "red"}, {"value": "blue"}]},
        ],
    },
    {"name": "old box", "tool": "bbox"},
]
TOOLS = VEHICLES["tools"] + EXTRA_TOOLS
CLASSIFICATIONS = VEHICLES["classifications"]


def _compiled() -> Any:
    tree, errors = normalize_tree(copy.deepcopy({"tools": TOOLS, "classifications": CLASSIFICATIONS}))
    assert errors == []
    for node in walk(tree):
        node.node["schema_id"] = str(uuid.uuid4())
    tree["tools"][-1]["archived"] = True
    return compile_ontology(tree)


COMPILED = _compiled()
SIZES = [None, (640.0, 480.0), (100.0, 50.0)]

numbers = st.one_of(
    st.integers(min_value=-5, max_value=700),
    st.floats(min_value=-5, max_value=700, allow_nan=False),
    st.sampled_from([0, 0.0, -0.0, 1e-7, 5e-324, 1e15, 1e16, 2**63, 2**64 - 1, 1.5e300, 0.1 + 0.2, 479.9999995]),
)
bad_numbers = st.sampled_from([None, True, "1", [1], {"v": 1}])
good_boxes = st.one_of(
    st.fixed_dictionaries({"top": numbers, "left": numbers, "height": numbers, "width": numbers}),
    st.fixed_dictionaries({"left": numbers, "top": numbers, "width": numbers, "height": numbers}),
)
bad_boxes = st.one_of(
    st.fixed_dictionaries({"top": numbers, "left": bad_numbers, "height": numbers, "width": numbers}),
    st.fixed_dictionaries({"top": numbers, "left": numbers, "height": numbers}),
    st.fixed_dictionaries({"top": numbers, "left": numbers, "height": numbers, "width": numbers, "x": numbers}),
    st.fixed_dictionaries({"top": numbers, "left": numbers, "height": numbers, "right": numbers}),
    st.sampled_from([None, [], "box", [1, 2, 3, 4]]),
)
odd_classifications = [
    [{"name": "kind", "answer": {"name": "police"}}],
    [{"name": "kind", "answer": {"name": "ambulance"}}],
    [
        {
            "name": "kind",
            "answer": {"name": "ambulance", "classifications": [{"name": "lights_on", "answer": {"name": "no"}}]},
        }
    ],
    [{"name": "kind", "answer": [{"name": "police"}]}],
    [{"name": "kind", "answer": {"name": "police", "confidence": 0.5}}],
    [{"name": "kind", "answer": {"name": "police", "confidence": 2}}],
    [{"name": "kind", "answer": {"name": "nope"}}],
    [{"name": "kind", "answer": {"name": "police"}}, {"name": "kind", "answer": {"name": "police"}}],
    [{"name": "flags", "answer": [{"name": "a"}, {"name": "b"}]}],
    [{"name": "flags", "answer": [{"name": "a"}, {"name": "a"}]}],
    [{"name": "note", "answer": 'tab\there \\ "quoted" é'}],
    [{"name": "note", "answer": 5}],
    [{"name": "color", "answer": {"name": "red"}}, {"name": "note", "answer": ""}],
    [{"name": "weather", "answer": {"name": "sunny"}}],
    [{"schema_id": "not-an-id", "answer": {"name": "police"}}],
    [],
    None,
    "kind",
    [5],
]
ABSENT = object()


def mostly(good: list[Any], bad: list[Any]) -> st.SearchStrategy[Any]:
    """Good values (ABSENT: the key is left out) four times as often as bad ones, so most lines are near misses."""
    return st.one_of(
        st.sampled_from(good), st.sampled_from(good), st.sampled_from(good), st.sampled_from(good), st.sampled_from(bad)
    )


fields = {
    "name": mostly(["vehicle", 'sign "50%"'], ["old box", "roof", "weather", "nope", 5, ABSENT]),
    "bbox": st.one_of(good_boxes, good_boxes, good_boxes, bad_boxes),
    "classifications": mostly(
        [ABSENT, None, [], [{"name": "kind", "answer": {"name": "police"}}], [{"name": "flags", "answer": []}]],
        odd_classifications,
    ),
    "confidence": mostly([ABSENT, None, 0, 1, 0.5, 1.0, 1e-9], [1.5, -0.1, True, "0.5", 2, [0.5]]),
    "uuid": mostly(
        [
            ABSENT,
            "0190A0B0-0000-7000-8000-00000000000A",
            "0190a0b0-0000-7000-8000-00000000000b",
            "{0190a0b0-0000-7000-8000-00000000000c}",
        ],
        [None, "x", 7, "a" * 70, "", "0190a0b0-0000-7000-8000-00000000000b" + "-" * 30],
    ),
    "data_row": mostly(
        [
            {"global_key": "k"},
            {"id": "0190a0b0-0000-7000-8000-000000000000"},
            {"id": "nope"},
            {"global_key": "k" * 255},
        ],
        [
            ABSENT,
            {"global_key": ""},
            {},
            {"global_key": "k", "id": "x"},
            "k",
            {"global_key": 5},
            {"global_key": None},
            {"id": 5},
            {"global_key": "k" * 256},
        ],
    ),
    "extra": mostly([ABSENT], [("schema_id", "x"), ("polygon", [{"x": 1, "y": 1}]), ("answer", {"name": "police"})]),
}


@st.composite
def line_parts(draw: Any) -> dict[str, Any]:
    keys = draw(st.permutations(list(fields)))
    line: dict[str, Any] = {}
    for key in keys:
        value = draw(fields[key])
        if value is ABSENT:
            continue
        if key == "extra":
            line[value[0]] = value[1]
        else:
            line[key] = value
    return line


@settings(max_examples=1500, deadline=None)
@given(line_parts(), st.sampled_from(SIZES))
def test_box_path_agrees_with_parse_line_and_the_validator(parts, image_size):
    raw = json.dumps(parts).encode()
    path = BoxPath(COMPILED)
    taken, others = path.take([(7, raw)])
    try:
        general = parse_line(7, raw)
    except LineError:
        general = None
    if not len(taken):
        assert others == [(7, raw)]
        return
    assert others == []
    assert general is not None, "the box path took a line parse_line refuses"
    assert (taken.numbers, taken.raws, taken.keys, taken.row_ids) == (
        [7],
        [raw],
        [general.global_key],
        [general.row_id],
    )
    assert (taken.uuids, taken.confidences) == ([general.uuid], [general.confidence])
    normalized, errors = validate_annotations(COMPILED, [general.annotation], image_size=image_size)
    width, height = image_size or (math.nan, math.nan)
    problem = bool(taken.problems([0], [width], [height])[0])
    assert problem == bool(errors), errors
    if not problem:
        assert taken.documents([0]) == [orjson.dumps(normalized[0])]


def test_the_common_shapes_take_the_box_path():
    lines = [
        {
            "name": "vehicle",
            "bbox": {"top": 1, "left": 2, "height": 3.5, "width": 4},
            "classifications": [{"name": "kind", "answer": {"name": "police"}}],
            "data_row": {"global_key": "k"},
        },
        {
            "data_row": {"id": "0190a0b0-0000-7000-8000-000000000000"},
            "confidence": 0.25,
            "uuid": "0190a0b0-0000-7000-8000-00000000000b",
            "name": 'sign "50%"',
            "bbox": {"width": 4, "height": 3, "left": 2, "top": 1},
        },
        {
            "name": 'sign "50%"',
            "bbox": {"top": 1, "left": 2, "height": 3, "width": 4},
            "classifications": [],
            "data_row": {"global_key": "k"},
        },
    ]
    taken, others = BoxPath(COMPILED).take([(i, json.dumps(line).encode()) for i, line in enumerate(lines, start=1)])
    assert taken.numbers == [1, 2, 3] and others == []
    assert (
        taken.documents([0, 1, 2])[1].startswith(b'{"schema_id":"')
        and b'"name":"sign \\"50%\\""' in taken.documents([1])[0]
    )


def test_box_lines_documents_of_a_subset_keep_their_numbers():
    raws = [
        (
            i,
            json.dumps(
                {
                    "name": 'sign "50%"',
                    "bbox": {"top": i, "left": 0.5, "height": 1e16, "width": 1e-7},
                    "data_row": {"global_key": "k"},
                }
            ).encode(),
        )
        for i in range(1, 4)
    ]
    taken, _ = BoxPath(COMPILED).take(raws)
    assert [json.loads(d)["bbox"]["top"] for d in taken.documents([2, 0])] == [3, 1]
    assert isinstance(taken, BoxLines) and len(taken) == 3


# --- import level ---------------------------------------------------------------------------------------------------


@pytest.fixture
def shapes(org, org_admin):
    return ontology_services.ontology_create(
        organization=org, name="shapes", tools=TOOLS, classifications=CLASSIFICATIONS, actor=org_admin
    )


@pytest.fixture
def two_projects(shapes, org_admin, make_rows):
    from apps.labeling import services as labeling_services

    rows = make_rows(3) + make_rows(1, prefix="nosize", width=None, height=None)
    projects = []
    for name in ("with box path", "without box path"):
        project = labeling_services.project_create(
            actor=org_admin, name=name, ontology=shapes, instructions="", settings={}
        )
        add_batch(project, org_admin, rows)
        projects.append(project)
    return projects, rows, make_rows(1, prefix="outside")[0]


def raw_box(top: str, key: str) -> str:
    """A box line whose top is written as given (JSON that json.dumps would not write)."""
    line = json.dumps(
        {"name": "vehicle", "bbox": {"top": 0, "left": 0, "height": 2, "width": 1}, "data_row": {"global_key": key}}
    )
    return line.replace('"top": 0', f'"top": {top}')


def _lines(rows, outside) -> list[Any]:
    key = [r.global_key for r in rows]
    police = [{"name": "kind", "answer": {"name": "police"}}]

    def box(k, **extra):
        line = {
            "name": "vehicle",
            "bbox": {"top": 10, "left": 20, "height": 30, "width": 40},
            "classifications": police,
            "data_row": {"global_key": k},
        }
        line.update(extra)
        return line

    given = "0190a0b0-0000-7000-8000-00000000000c"
    return [
        box(key[0]),
        box(key[0]),  # same content: duplicate annotation
        box(key[1], confidence=0.5),
        box(key[1], confidence=1),
        box(key[1], confidence=1.5),
        box(key[1], confidence=True),
        box(key[2], uuid=given.upper()),
        box(key[2], uuid=given, bbox={"top": 1, "left": 1, "height": 1, "width": 1}),  # duplicate uuid
        box(key[2], uuid="nope"),
        box("missing"),
        box(outside.global_key),
        {**box(key[0]), "data_row": {"id": str(rows[1].id).upper()}},
        {**box(key[0]), "data_row": {"id": "0190a0b0-0000-7000-8000-000000000000"}},
        {**box(key[0]), "data_row": {"id": "nope"}},
        box(key[0], bbox={"top": 10, "left": 600, "height": 30, "width": 41}),  # outside 640
        box(key[0], bbox={"top": 450, "left": 0, "height": 30.0000001, "width": 1}),  # within the tolerance
        box(key[0], bbox={"top": 450, "left": 0, "height": 31, "width": 1}),  # outside 480
        box(key[3], bbox={"top": 10, "left": 6000, "height": 30, "width": 41}),  # no size known: fine
        box(key[0], bbox={"top": -1, "left": 0, "height": 3, "width": 1}),
        box(key[0], bbox={"top": -0.0, "left": 0, "height": 3, "width": 1}),
        box(key[0], bbox={"top": 0, "left": 0, "height": 0, "width": 1}),
        box(key[0], bbox={"top": 0, "left": 0, "height": 2, "width": -1}),
        box(key[0], bbox={"top": 1e-7, "left": 0.1, "height": 2.5e2, "width": 1}),
        box(key[3], bbox={"top": 2**63, "left": 0, "height": 1e16, "width": 1}),
        raw_box("NaN", key[0]),  # not strict JSON
        raw_box("1e400", key[0]),  # infinite
        box(key[0], bbox={"top": 1, "left": 0, "height": 2, "width": "1"}),
        box(key[0], bbox={"top": 1, "left": 0, "height": 2}),
        box(key[0], classifications=[{"name": "kind", "answer": {"name": "ambulance"}}]),
        box(key[0], classifications=[{"name": "kind", "answer": {"name": "nope"}}]),
        box(key[0], classifications=[]),  # the required kind is missing
        box(key[0], classifications=None),
        box(
            key[0],
            classifications=[
                {
                    "name": "kind",
                    "answer": {
                        "name": "ambulance",
                        "classifications": [{"name": "lights_on", "answer": {"name": "yes"}}],
                    },
                }
            ],
        ),
        {
            "name": 'sign "50%"',
            "bbox": {"top": 1, "left": 2, "height": 3, "width": 4},
            "data_row": {"global_key": key[1]},
        },
        {
            "name": 'sign "50%"',
            "bbox": {"top": 1, "left": 2, "height": 3, "width": 5},
            "data_row": {"global_key": key[1]},
            "classifications": [
                {"name": "note", "answer": 'a\ttab, a \\ and a "quote" \u00e9'},
                {"name": "flags", "answer": [{"name": "b"}]},
            ],
        },
        {
            "name": 'sign "50%"',
            "bbox": {"top": 1, "left": 2, "height": 3, "width": 6},
            "data_row": {"global_key": key[1]},
            "classifications": [{"name": "flags", "answer": [{"name": "b"}, {"name": "b"}]}],
        },
        {"name": "old box", "bbox": {"top": 1, "left": 2, "height": 3, "width": 4}, "data_row": {"global_key": key[1]}},
        {
            "name": "vehicle",
            "schema_id": "x",
            "bbox": {"top": 1, "left": 2, "height": 3, "width": 4},
            "data_row": {"global_key": key[1]},
        },
        {
            "name": "roof",
            "polygon": [{"x": 1, "y": 1}, {"x": 5, "y": 1}, {"x": 5, "y": 5}],
            "data_row": {"global_key": key[1]},
        },
        {"name": "weather", "answer": {"name": "sunny"}, "data_row": {"global_key": key[1]}},
        {"name": "weather", "answer": {"name": "rain"}, "data_row": {"global_key": key[1]}},  # answered twice
        box(key[1], data_row={"global_key": key[1], "id": str(rows[1].id)}),
        box(key[1], extra="field"),
        "not json",
        "[1, 2]",
        box(key[2]),
    ]


def _import(project, actor, body) -> dict[str, Any]:
    result = annotations_import(actor=actor, target=prelabel_target(project), chunks=[body], size=len(body))
    result.pop("import")
    return result


def _stored(project) -> list[tuple[Any, ...]]:
    return sorted(
        Prelabel.objects.filter(project=project).values_list(
            "uuid", "data_row_id", "schema_id", "name", "kind", "annotation", "confidence"
        ),
        key=lambda r: str(r[0]),
    )


@pytest.mark.django_db
def test_import_with_and_without_the_box_path_is_the_same(two_projects, org_admin, monkeypatch):
    (fast, general), rows, outside = two_projects
    lines = _lines(rows, outside)
    body = ("\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines) + "\n").encode()
    taken: list[int] = []
    take = BoxPath.take

    def spy(self, raws):
        boxes, others = take(self, raws)
        taken.extend(boxes.numbers)
        return boxes, others

    monkeypatch.setattr(BoxPath, "take", spy)
    first = _import(fast, org_admin, body)
    again = _import(fast, org_admin, body)
    assert len(taken) >= 2 * 25  # most box lines took the bulk path (twice)

    monkeypatch.setattr(BoxPath, "take", lambda self, raws: (BoxLines(), list(raws)))
    assert _import(general, org_admin, body) == first
    assert _import(general, org_admin, body) == again
    assert first["created"] >= 15 and first["failed"] >= 20 and again["updated"] == first["created"]
    assert _stored(fast) == _stored(general)
