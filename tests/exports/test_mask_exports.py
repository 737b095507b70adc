"""Masks in exports: COCO `segmentation` RLE that pycocotools loads (`annToMask` equals the stored mask pixel for
pixel, from the database's writer and the Python one), and NDJSON lines carrying the RLE."""

from __future__ import annotations

import io
import json
import zipfile

import jsonschema
import numpy as np
import pytest
from PIL import Image
from pycocotools.coco import COCO

from apps.exports import services as export_services
from apps.exports.domain.schema import NDJSON_LINE_SCHEMA
from apps.exports.models import Export
from apps.labeling import services
from apps.labeling.models import Label
from apps.ontologies import services as ontology_services
from apps.ontologies.domain import rle as R

pytestmark = pytest.mark.django_db
H, W = 48, 64


def _masks(seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    out = []
    one = np.zeros((H, W), np.uint8)
    one[rng.integers(0, H), rng.integers(0, W)] = 1  # a one-pixel object
    out.append(one)
    holed = np.zeros((H, W), np.uint8)
    holed[5:30, 10:40] = 1
    holed[10:15, 20:25] = 0  # a hole
    out.append(holed)
    edge = np.zeros((H, W), np.uint8)
    edge[:, W - 3 :] = 1  # touching the image border
    edge[0, :] = 1
    out.append(edge)
    out.append((rng.random((H, W)) < 0.3).astype(np.uint8))  # many runs
    return out


@pytest.fixture
def mask_project(org, org_admin, make_rows, make_user):
    ontology = ontology_services.ontology_create(
        organization=org,
        name="fields",
        tools=[
            {"name": "weed", "tool": "mask", "classifications": [{"name": "note", "type": "text"}]},
            {"name": "crop", "tool": "mask"},
            {"name": "stone", "tool": "bbox"},
        ],
        classifications=[],
        actor=org_admin,
    )
    project = services.project_create(
        actor=org_admin,
        name="Fields",
        ontology=ontology,
        instructions="Paint.",
        settings={"review": {"sample_rate": 0}},
    )
    labeler = make_user(role="labeler", organization=org, username="painter")
    services.project_member_set(actor=org_admin, project=project, user=labeler, role="labeler")
    rows = make_rows(3, prefix="field", width=W, height=H)
    services.batch_create(actor=org_admin, project=project, name="b", data_row_ids=[str(r.id) for r in rows])
    stored: dict[str, list[np.ndarray]] = {}
    for seed in range(3):
        task = services.queue_claim(actor=labeler, project=project)
        masks = _masks(seed)
        document = [{"name": "weed" if k % 2 else "crop", "mask": R.encode(m).document()} for k, m in enumerate(masks)]
        document[1]["classifications"] = [{"name": "note", "answer": "holed"}]
        document.append({"name": "stone", "bbox": {"top": 1, "left": 2, "height": 3, "width": 4}})
        services.label_submit(actor=labeler, task=task, annotations=document)
        stored[task.data_row.global_key] = masks
    return project, labeler, stored


def _export(project, user, fmt, monkeypatch, *, in_sql: bool) -> bytes:
    monkeypatch.setattr(export_services, "coco_sql_usable", lambda query: in_sql)
    export = Export.objects.create(
        organization=project.organization, project=project, format=fmt, filters={"label": "all"}, created_by=user
    )
    export_services.export_run(export_id=export.pk, chunk_rows=2)
    export.refresh_from_db()
    with export_services.default_storage.open(export.file_name, "rb") as handle:
        return handle.read()


@pytest.mark.parametrize("in_sql", [True, False], ids=["postgresql-writer", "python-writer"])
def test_coco_masks_load_in_pycocotools_pixel_for_pixel(mask_project, monkeypatch, tmp_path, in_sql):
    project, user, stored = mask_project
    path = tmp_path / "coco.json"
    path.write_bytes(_export(project, user, "coco", monkeypatch, in_sql=in_sql))
    coco = COCO(str(path))
    names = {c["id"]: c["name"] for c in coco.loadCats(coco.getCatIds())}
    assert set(names.values()) == {"weed", "crop", "stone"}
    checked = 0
    for image in coco.loadImgs(coco.getImgIds()):
        anns = [a for a in coco.loadAnns(coco.getAnnIds(imgIds=[image["id"]])) if names[a["category_id"]] != "stone"]
        masks = stored[image["file_name"]]
        assert len(anns) == len(masks)
        for ann, expected in zip(sorted(anns, key=lambda a: a["id"]), masks, strict=True):
            assert np.array_equal(coco.annToMask(ann), expected)
            assert ann["area"] == int(expected.sum())
            ys, xs = np.nonzero(expected)
            assert ann["bbox"] == [xs.min(), ys.min(), xs.max() - xs.min() + 1, ys.max() - ys.min() + 1]
            checked += 1
        assert [a["attributes"] for a in sorted(anns, key=lambda a: a["id"])][1] == {"note": "holed"}
    assert checked == 12


def test_ndjson_lines_carry_the_rle(mask_project, monkeypatch):
    project, user, stored = mask_project
    lines = [json.loads(line) for line in _export(project, user, "ndjson", monkeypatch, in_sql=True).splitlines()]
    assert len(lines) == 3
    validator = jsonschema.Draft202012Validator(NDJSON_LINE_SCHEMA)
    for line in lines:
        key = line["data_row"]["global_key"]
        validator.validate(line)
        (label,) = line["labels"]
        masks = [a["mask"] for a in label["annotations"] if a.get("tool") == "mask"]
        decoded = [R.decode(R.from_document(m)) for m in masks]
        assert all(np.array_equal(a, b) for a, b in zip(decoded, stored[key], strict=True))
    assert Label.objects.filter(project=project).count() == 3


def test_png_masks_class_and_instance_pngs_with_legends(mask_project, monkeypatch):
    project, user, stored = mask_project
    archive = zipfile.ZipFile(io.BytesIO(_export(project, user, "masks", monkeypatch, in_sql=True)))
    legend = json.loads(archive.read("legend.json"))
    ids = {c["name"]: c["id"] for c in legend["categories"]}
    assert set(ids) == {"weed", "crop"} and legend["background"] == 0  # the box tool is not segmentation
    for key, masks in stored.items():
        classes = np.asarray(Image.open(io.BytesIO(archive.read(f"class/{key}.png"))))
        instances = np.asarray(Image.open(io.BytesIO(archive.read(f"instance/{key}.png"))))
        info = json.loads(archive.read(f"instance/{key}.json"))
        assert classes.shape == instances.shape == (H, W)
        # Independent painter: objects in document order, later ones on top.
        expected_classes = np.zeros((H, W), np.uint8)
        expected_instances = np.zeros((H, W), np.uint8)
        for k, m in enumerate(masks):
            expected_classes[m == 1] = ids["weed" if k % 2 else "crop"]
            expected_instances[m == 1] = k + 1
        assert np.array_equal(classes, expected_classes)
        assert np.array_equal(instances, expected_instances)
        assert [i["index"] for i in info["instances"]] == [1, 2, 3, 4]
        assert [i["mask_area"] for i in info["instances"]] == [int(m.sum()) for m in masks]
        assert [i["area"] for i in info["instances"]] == [int((expected_instances == k + 1).sum()) for k in range(4)]
        assert info["instances"][1]["attributes"] == {"note": "holed"}


def test_coco_mask_ground_truth_imports_rle_and_polygons(mask_project, monkeypatch, org_admin, client_for):
    project, user, stored = mask_project
    exported = json.loads(_export(project, user, "coco", monkeypatch, in_sql=True))
    masks = [a for a in exported["annotations"] if isinstance(a["segmentation"], dict)]
    first_image = masks[0]["image_id"]
    bad = [
        {"id": 900, "image_id": first_image, "category_id": masks[0]["category_id"], "segmentation": {"size": [2, 2]}},
        {
            "id": 901,
            "image_id": first_image,
            "category_id": masks[0]["category_id"],
            "segmentation": {"size": [H, W], "counts": R.encode(np.zeros((H, W))).document()["counts"]},
        },
    ]
    polygon = {
        "id": 902,
        "image_id": first_image,
        "category_id": masks[0]["category_id"],
        "segmentation": [[1, 1, 20, 1, 20, 15], [30, 30, 40, 30, 40, 40]],
    }
    body = {**exported, "annotations": [*exported["annotations"], *bad, polygon]}
    response = client_for(org_admin).post(f"/api/v1/projects/{project.pk}/ground_truth/coco", body, format="json")
    assert response.status_code == 200, response.content
    result = response.json()
    assert result["failed"] == 2, result
    messages = sorted(e["message"] for e in result["errors"])
    assert any("empty" in m for m in messages) and any("size" in m or "object" in m for m in messages)
    for key, expected in stored.items():
        label = Label.objects.filter(project=project, data_row__global_key=key, is_current=True).get()
        got = [R.decode(R.from_document(a["mask"])) for a in label.annotations if a.get("tool") == "mask"]
        image_id = next(i["id"] for i in exported["images"] if i["file_name"] == key)
        if image_id == first_image:
            from pycocotools import mask as cmask

            rings = cmask.frPyObjects(polygon["segmentation"], H, W)
            expected = [*expected, cmask.decode(cmask.merge(rings))]
        assert len(got) == len(expected)
        assert all(np.array_equal(a, b) for a, b in zip(got, expected, strict=True))
