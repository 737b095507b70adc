"""COCO, YOLO and Pascal VOC: exported through the job path, then read back with independent readers."""

from __future__ import annotations

import io
import json
import zipfile
from xml.etree import ElementTree

import pytest

from apps.exports.domain import documents
from apps.labeling import services
from apps.ontologies import services as ontology_services
from tests.exports.coco_reader import Coco
from tests.exports.conftest import submit


@pytest.fixture
def manager_client(members, client_for):
    return client_for(members["team_manager"])


def parse_xml(data: bytes) -> ElementTree.Element:
    return ElementTree.fromstring(data)  # noqa: S314 - our own export output, in a test


ROOF = [{"x": 100, "y": 100}, {"x": 200, "y": 100}, {"x": 200, "y": 180}, {"x": 120, "y": 190}]


@pytest.fixture
def labeled(project, members, org_admin, make_rows):
    """Three rows: one with a box + polygon + answers, one with two boxes, one without size (and a point label)."""
    sized = make_rows(2, prefix="img", width=640, height=480)
    unsized = make_rows(1, prefix="nosize", width=None, height=None)
    rows = sized + unsized
    services.batch_create(actor=org_admin, project=project, name="b", data_row_ids=[str(r.id) for r in rows])
    labeler = members["labeler"]
    labels = {}
    for _ in rows:
        task = services.queue_claim(actor=labeler, project=project)
        key = task.data_row.global_key
        if key == "img-0":
            document = [
                {
                    "name": "vehicle",
                    "bbox": {"top": 10.5, "left": 20.25, "height": 50, "width": 80},
                    "classifications": [
                        {
                            "name": "kind",
                            "answer": {
                                "name": "ambulance",
                                "classifications": [{"name": "lights_on", "answer": {"name": "yes"}}],
                            },
                        }
                    ],
                },
                {"name": "roof", "polygon": ROOF},
                {"name": "weather", "answer": {"name": "sunny"}},
            ]
        elif key == "img-1":
            document = [
                {
                    "name": "vehicle",
                    "bbox": {"top": 0, "left": 0, "height": 480, "width": 640},
                    "classifications": [{"name": "kind", "answer": {"name": "police"}}],
                },
                {
                    "name": "vehicle",
                    "bbox": {"top": 33.3, "left": 611.1, "height": 7.7, "width": 28.9},
                    "classifications": [{"name": "kind", "answer": {"name": "police"}}],
                },
                {"name": "wheel", "point": {"x": 3, "y": 4}},
            ]
        else:
            document = [
                {
                    "name": "vehicle",
                    "bbox": {"top": 1, "left": 1, "height": 2, "width": 2},
                    "classifications": [{"name": "kind", "answer": {"name": "police"}}],
                }
            ]
        labels[key] = services.label_submit(actor=labeler, task=task, annotations=document)
    return labels


def run_export(client, project, capture, fmt, filters=None):
    with capture(execute=True):
        response = client.post(
            f"/api/v1/projects/{project.pk}/exports", {"format": fmt, "filters": filters or {}}, format="json"
        )
    assert response.status_code == 202, response.content
    job = client.get(f"/api/v1/jobs/{response.json()['job']}").json()
    assert job["status"] == "succeeded", job
    download = client.get(job["result"]["download_url"])
    assert download.status_code == 200
    return job["result"], b"".join(download.streaming_content), download


def tools_by_name(project):
    return {tool["name"]: tool for tool in project.ontology_version.tree["tools"]}


def test_coco_round_trip(manager_client, project, labeled, django_capture_on_commit_callbacks):
    result, content, response = run_export(manager_client, project, django_capture_on_commit_callbacks, "coco")
    assert response["Content-Type"] == "application/json"
    coco = Coco(content)
    tools = tools_by_name(project)
    # Categories: the box and polygon tools, ids from the tool order of the version, schema ids kept.
    assert {c["name"]: (c["id"], c["schema_id"]) for c in coco.cats.values()} == {
        "vehicle": (1, tools["vehicle"]["schema_id"]),
        "roof": (2, tools["roof"]["schema_id"]),
    }
    images = {img["file_name"]: img for img in coco.imgs.values()}
    assert set(images) == {"img-0", "img-1", "nosize-0"}
    first = images["img-0"]
    assert first["attributes"] == {"weather": "sunny"} and (first["width"], first["height"]) == (640, 480)
    anns = coco.load_anns(first["id"])
    box = next(a for a in anns if a["category_id"] == 1)
    assert box["bbox"] == [20.25, 10.5, 80, 50] and box["area"] == 4000
    assert box["attributes"] == {"kind": "ambulance", "kind.lights_on": "yes"}
    roof = next(a for a in anns if a["category_id"] == 2)
    assert roof["segmentation"] == [[v for p in ROOF for v in (p["x"], p["y"])]]
    assert roof["bbox"] == [100, 100, 100, 90]
    assert roof["area"] == pytest.approx(documents.polygon_area([(p["x"], p["y"]) for p in ROOF]))
    second = coco.load_anns(images["img-1"]["id"])
    assert sorted(a["bbox"] for a in second) == [[0, 0, 640, 480], [611.1, 33.3, 28.9, 7.7]]
    assert len(coco.anns) == 5 and result["annotations"] == 5  # the point is not a COCO shape
    assert coco.get_img_ids([2]) == [first["id"]]


def test_coco_ids_are_stable_across_chunks(
    manager_client, project, labeled, monkeypatch, django_capture_on_commit_callbacks
):
    from apps.exports import services as export_services

    _, whole, _ = run_export(manager_client, project, django_capture_on_commit_callbacks, "coco")
    monkeypatch.setattr(export_services, "CHUNK_ROWS", 1)
    _, chunked, _ = run_export(manager_client, project, django_capture_on_commit_callbacks, "coco")
    a, b = json.loads(whole), json.loads(chunked)
    for doc in (a, b):
        doc.pop("info")
    assert a == b


def test_yolo_parse_back(manager_client, project, labeled, django_capture_on_commit_callbacks):
    result, content, response = run_export(manager_client, project, django_capture_on_commit_callbacks, "yolo")
    assert response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(content))
    names = set(archive.namelist())
    assert {"data.yaml", "labels/img-0.txt", "labels/img-1.txt", "skipped.json"} <= names
    assert not any("nosize" in name for name in names if name.startswith("labels/"))
    assert result["skipped"] == 1 and result["skipped_rows"][0]["global_key"] == "nosize-0"
    data_yaml = archive.read("data.yaml").decode()
    assert "nc: 1" in data_yaml and '0: "vehicle"' in data_yaml
    boxes = []
    for line in archive.read("labels/img-1.txt").decode().splitlines():
        cls, cx, cy, w, h = line.split()
        cx, cy, w, h = (float(v) for v in (cx, cy, w, h))
        boxes.append((int(cls), (cx - w / 2) * 640, (cy - h / 2) * 480, w * 640, h * 480))
    expected = [(0, 0, 0, 640, 480), (0, 611.1, 33.3, 28.9, 7.7)]
    assert len(boxes) == 2
    for got, want in zip(sorted(boxes), sorted(expected), strict=True):
        assert got[0] == want[0] and got[1:] == pytest.approx(want[1:], abs=0.01)
    assert len(archive.read("labels/img-0.txt").decode().splitlines()) == 1  # the polygon is not a YOLO box


def test_voc_parse_back(manager_client, project, labeled, django_capture_on_commit_callbacks):
    _, content, _ = run_export(manager_client, project, django_capture_on_commit_callbacks, "voc")
    archive = zipfile.ZipFile(io.BytesIO(content))
    root = parse_xml(archive.read("Annotations/img-1.xml"))
    assert root.findtext("filename") == "img-1" and root.findtext("size/width") == "640"
    boxes = sorted(
        tuple(float(obj.findtext(f"bndbox/{k}")) for k in ("xmin", "ymin", "xmax", "ymax"))
        for obj in root.findall("object")
    )
    expected = sorted([(0, 0, 640, 480), (611.1, 33.3, 640.0, 41.0)])
    assert [v for b in boxes for v in b] == pytest.approx([v for b in expected for v in b], abs=0.01)
    first = parse_xml(archive.read("Annotations/img-0.xml"))
    attributes = {a.findtext("name"): a.findtext("value") for a in first.findall("object/attributes/attribute")}
    assert attributes == {"kind": "ambulance", "kind.lights_on": "yes"}
    assert len(first.findall("object/polygon/pt")) == 4
    assert "Annotations/nosize-0.xml" in archive.namelist()


def test_voc_and_yolo_escape_hostile_names(
    client_for, org, org_admin, members, make_rows, django_capture_on_commit_callbacks
):
    manager_client = client_for(org_admin)
    hostile = "<object><name>x</name></object>&\"'</annotation>"
    ontology = ontology_services.ontology_create(
        organization=org, name="hostile", tools=[{"name": hostile, "tool": "bbox"}], classifications=[], actor=org_admin
    )
    project = services.project_create(actor=org_admin, name="Hostile", ontology=ontology, settings={})
    services.project_member_set(actor=org_admin, project=project, user=members["labeler"], role="labeler")
    rows = make_rows(1, prefix="evil")
    rows[0].global_key = '../../<k>&"x"\x01'
    rows[0].save(update_fields=["global_key"])
    services.batch_create(actor=org_admin, project=project, name="b", data_row_ids=[str(rows[0].id)])
    submit(project, members["labeler"], [{"name": hostile, "bbox": {"top": 1, "left": 2, "height": 3, "width": 4}}])
    _, content, _ = run_export(manager_client, project, django_capture_on_commit_callbacks, "voc")
    archive = zipfile.ZipFile(io.BytesIO(content))
    (name,) = archive.namelist()
    assert name.startswith("Annotations/") and ".." not in name and "/" not in name[len("Annotations/") :]
    root = parse_xml(archive.read(name))
    assert [obj.findtext("name") for obj in root.findall("object")] == [hostile]
    assert root.findtext("filename") == '../../<k>&"x"'  # the control character cannot be in XML 1.0
    _, content, _ = run_export(manager_client, project, django_capture_on_commit_callbacks, "yolo")
    archive = zipfile.ZipFile(io.BytesIO(content))
    assert json.loads(archive.read("data.yaml").decode().split("0: ", 1)[1]) == hostile


def test_label_filter_applies_to_image_formats(manager_client, project, labeled, django_capture_on_commit_callbacks):
    _, content, _ = run_export(
        manager_client, project, django_capture_on_commit_callbacks, "coco", filters={"label": "approved"}
    )
    coco = Coco(content)
    assert len(coco.imgs) == 3 and coco.anns == {}  # nothing approved yet (every label waits for review)
