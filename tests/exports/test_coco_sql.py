"""COCO pages built by PostgreSQL (`apps.exports.coco_sql`) against the Python writer they replace: the same file,
byte for byte after the `info` header, for every label mode, filter and page size, on a project with boxes and
polygons of several categories, nested radio answers, checklists and free text (on shapes and on the image), a row
with two labels answering the same question, tools that are not COCO shapes, and images without annotations."""

from __future__ import annotations

import json

import pytest
from django.db import connection

from apps.exports import services as export_services
from apps.exports.domain.filters import parse_filters
from apps.exports.models import Export
from apps.exports.selectors import RowQuery, coco_sql_usable
from apps.labeling import services
from apps.labeling.models import Label, Task, TaskKind
from apps.labeling.services.labels import validate_label_document
from apps.ontologies import services as ontology_services
from apps.ontologies.demo import VEHICLES
from tests.exports.coco_reader import Coco

pytestmark = pytest.mark.django_db

SIGN_CLASSIFICATIONS = [
    {
        "name": "color",
        "type": "radio",
        "options": [
            {"value": "red"},
            {"value": "blue", "classifications": [{"name": "shade", "type": "radio", "options": [{"value": "dark"}]}]},
        ],
    },
    {"name": "note", "type": "text"},
    {"name": "damage", "type": "checklist", "options": [{"value": "bent"}, {"value": "faded"}]},
]
TOOLS = [
    *VEHICLES["tools"],
    {"name": "sign", "tool": "bbox", "classifications": SIGN_CLASSIFICATIONS},
    {"name": "puddle", "tool": "polygon", "classifications": [{"name": "depth", "type": "text"}]},
    {"name": "weed", "tool": "mask", "classifications": [{"name": "depth", "type": "text"}]},
]
ROOF = [{"x": 100.5, "y": 100}, {"x": 200, "y": 100.25}, {"x": 200, "y": 180}, {"x": 120.125, "y": 190}]
PUDDLE = [{"x": 1, "y": 1}, {"x": 4, "y": 1}, {"x": 4, "y": 3.333}]
# A 480 × 640 mask (the rows' size) drawn as a polygon, stored as COCO RLE (its counts hold a backslash: escaped).
WEED = {"polygon": [{"x": 10, "y": 20}, {"x": 300, "y": 25}, {"x": 200, "y": 400}, {"x": 15, "y": 300}]}


def vehicle(left, top, kind="police", lights=None):
    answer = {"name": kind}
    if lights:
        answer["classifications"] = [{"name": "lights_on", "answer": {"name": lights}}]
    return {
        "name": "vehicle",
        "bbox": {"top": top, "left": left, "height": 50.5, "width": 80.125},
        "classifications": [{"name": "kind", "answer": answer}],
    }


SHADE = {"name": "shade", "answer": {"name": "dark"}}


def sign(classifications):
    return {
        "name": "sign",
        "bbox": {"top": 1, "left": 2, "height": 3.25, "width": 4.5},
        "classifications": classifications,
    }


DOCUMENTS = {
    "img-0": [
        vehicle(20.25, 10.5, "ambulance", "yes"),
        {"name": "roof", "polygon": ROOF},
        {"name": "weather", "answer": {"name": "sunny"}},
        {"name": "tags", "answer": [{"name": "night"}, {"name": "blurry"}]},
        {"name": "caption", "answer": 'A "quoted" café\nline'},
    ],
    "img-1": [
        vehicle(0, 0),
        {"name": "sign", "bbox": {"top": 33.3, "left": 611.1, "height": 7.7, "width": 28.9}},
        {"name": "wheel", "point": {"x": 3, "y": 4}},
        {"name": "lane", "line": [{"x": 1, "y": 1}, {"x": 5, "y": 5}]},
        {"name": "puddle", "polygon": PUDDLE},
        {"name": "weed", "mask": WEED, "classifications": [{"name": "depth", "answer": "shallow"}]},
    ],
    "img-2": [{"name": "wheel", "point": {"x": 3, "y": 4}}],  # no COCO shape: an image without annotations
    "img-3": [
        vehicle(5, 6, "ambulance", "no"),
        {"name": "weather", "answer": {"name": "rain"}},
        # Shape classifications written in place (one or two plain answers) and walked (a checklist, a nested
        # answer, three answers), on boxes and polygons.
        sign([{"name": "note", "answer": 'bent "left"\tpost'}]),
        sign([{"name": "color", "answer": {"name": "red"}}, {"name": "note", "answer": "ok"}]),
        sign([{"name": "damage", "answer": [{"name": "bent"}, {"name": "faded"}]}]),
        sign(
            [{"name": "color", "answer": {"name": "blue", "classifications": [SHADE]}}, {"name": "note", "answer": "x"}]
        ),
        sign(
            [
                {"name": "color", "answer": {"name": "red"}},
                {"name": "note", "answer": "three"},
                {"name": "damage", "answer": [{"name": "faded"}]},
            ]
        ),
        {"name": "puddle", "polygon": PUDDLE, "classifications": [{"name": "depth", "answer": "deep"}]},
        {"name": "weed", "mask": WEED},
    ],
    # img-4: not labeled at all.
}


@pytest.fixture
def coco_project(org, org_admin, make_rows, make_user):
    ontology = ontology_services.ontology_create(
        organization=org,
        name="coco equivalence",
        tools=TOOLS,
        classifications=VEHICLES["classifications"],
        actor=org_admin,
    )
    project = services.project_create(
        actor=org_admin, name="COCO", ontology=ontology, instructions="Box it.", settings={"review": {"sample_rate": 0}}
    )
    labeler = make_user(role="labeler", organization=org, username="coco-labeler")
    services.project_member_set(actor=org_admin, project=project, user=labeler, role="labeler")
    rows = make_rows(5, prefix="img")
    rows[4].external_id = 'ext "4"'
    rows[4].save(update_fields=["external_id"])
    services.batch_create(actor=org_admin, project=project, name="b", data_row_ids=[str(r.id) for r in rows[:4]])
    labels = {}
    for _ in DOCUMENTS:
        task = services.queue_claim(actor=labeler, project=project)
        key = task.data_row.global_key
        labels[key] = services.label_submit(actor=labeler, task=task, annotations=DOCUMENTS[key])
    services.batch_create(actor=org_admin, project=project, name="unlabeled", data_row_ids=[str(rows[4].id)])
    # A second labeler's label on img-0 (slot 1, not done): another box and another weather answer.
    first = labels["img-0"]
    task = Task.objects.create(
        project=project, batch=first.task.batch, data_row=first.data_row, slot=1, kind=TaskKind.CONSENSUS
    )
    document = validate_label_document(
        version=project.ontology_version,
        data_row=first.data_row,
        annotations=[{"name": "weather", "answer": {"name": "rain"}}, vehicle(300, 200)],
    )
    Label.objects.create(
        task=task,
        project=project,
        data_row=first.data_row,
        labeler=labeler,
        ontology_version=project.ontology_version,
        annotations=document,
    )
    return project, labeler


def _export(project, user, filters, chunk_rows, monkeypatch, *, in_sql: bool) -> str:
    monkeypatch.setattr(export_services, "coco_sql_usable", lambda query: in_sql)
    export = Export.objects.create(
        organization=project.organization, project=project, format="coco", filters=filters, created_by=user
    )
    export_services.export_run(export_id=export.pk, chunk_rows=chunk_rows)
    export.refresh_from_db()
    with export_services.default_storage.open(export.file_name, "rb") as handle:
        return handle.read().decode()


def _body(text: str) -> str:
    """The file after its `info` object (which names the export and the time)."""
    return text[text.index('"licenses":') :]


FILTERS = [
    {"label": "all"},
    {"label": "approved"},
    {"label": "consensus_winner"},
    {"label": "all", "global_keys": ["img-0", "img-3", "img-4"]},
]


@pytest.mark.parametrize("filters", FILTERS, ids=lambda f: json.dumps(f))
@pytest.mark.parametrize("chunk_rows", [2, 100])
def test_sql_pages_are_the_python_file(coco_project, filters, chunk_rows, monkeypatch):
    project, user = coco_project
    assert coco_sql_usable(RowQuery.build(project, parse_filters(filters)))
    expected = _export(project, user, filters, chunk_rows, monkeypatch, in_sql=False)
    got = _export(project, user, filters, chunk_rows, monkeypatch, in_sql=True)
    assert _body(got) == _body(expected)
    json.loads(got)


def test_label_filters_match_the_python_file(coco_project, monkeypatch):
    project, user = coco_project
    later = Label.objects.filter(project=project).order_by("created_at")[2].created_at.isoformat()
    for filters in (
        {"labeler": [str(user.pk)]},
        {"label_created_from": later},
        {"label_created_to": later, "label": "approved"},
    ):
        expected = _export(project, user, filters, 3, monkeypatch, in_sql=False)
        assert _body(_export(project, user, filters, 3, monkeypatch, in_sql=True)) == _body(expected), filters


def test_the_fixture_has_what_is_compared(coco_project, monkeypatch):
    """Guards the comparison above: the file really holds every case."""
    project, user = coco_project
    coco = Coco(_export(project, user, {"label": "all"}, 2, monkeypatch, in_sql=True).encode())
    images = {img["file_name"]: img for img in coco.imgs.values()}
    assert sorted(images) == ["img-0", "img-1", "img-2", "img-3", "img-4"]
    assert [img["id"] for img in sorted(coco.imgs.values(), key=lambda i: i["data_row_id"])] == [1, 2, 3, 4, 5]
    assert sorted(a["id"] for a in coco.anns.values()) == list(range(1, len(coco.anns) + 1))
    first = images["img-0"]
    # Two labels answered "weather": the later label's answer, in the first answer's place.
    assert list(first["attributes"]) == ["weather", "tags", "caption"]
    assert first["attributes"] == {"weather": "rain", "tags": ["night", "blurry"], "caption": 'A "quoted" café\nline'}
    anns = coco.load_anns(first["id"])
    assert [a["attributes"] for a in anns if a["category_id"] == 1] == [
        {"kind": "ambulance", "kind.lights_on": "yes"},
        {"kind": "police"},
    ]
    roof = next(a for a in anns if isinstance(a["segmentation"], list) and a["segmentation"])
    assert roof["segmentation"] == [[100.5, 100, 200, 100.25, 200, 180, 120.125, 190]]
    assert roof["bbox"] == [100.5, 100, 99.5, 90]
    assert {c["name"] for c in coco.cats.values()} == {"vehicle", "roof", "sign", "puddle", "weed"}
    assert not coco.load_anns(images["img-2"]["id"]) and not coco.load_anns(images["img-4"]["id"])
    assert images["img-4"]["external_id"] == 'ext "4"' and images["img-4"]["attributes"] == {}
    signs = [a["attributes"] for a in coco.load_anns(images["img-3"]["id"]) if a["category_id"] == 6]
    assert signs == [
        {"note": 'bent "left"\tpost'},
        {"color": "red", "note": "ok"},
        {"damage": ["bent", "faded"]},
        {"color": "blue", "color.shade": "dark", "note": "x"},
        {"color": "red", "note": "three", "damage": ["faded"]},
    ]
    puddles = [a for a in coco.anns.values() if a["category_id"] == 7]
    assert sorted((a["attributes"] for a in puddles), key=len) == [{}, {"depth": "deep"}]
    weeds = [a for a in coco.anns.values() if a["category_id"] == 8]
    assert sorted((a["attributes"] for a in weeds), key=len) == [{}, {"depth": "shallow"}]
    stored = Label.objects.get(project=project, data_row__global_key="img-3", task__slot=0).annotations[-1]["mask"]
    assert all(a["segmentation"] == stored for a in weeds)
    assert weeds[0]["area"] > 0 and weeds[0]["bbox"][2] > 0
    assert connection.vendor == "postgresql"
