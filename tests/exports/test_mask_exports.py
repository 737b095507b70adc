"""Masks in exports: COCO `segmentation` RLE that pycocotools loads (`annToMask` equals the stored mask pixel for
pixel, from the database's writer and the Python one), and NDJSON lines carrying the RLE."""

from __future__ import annotations

import json

import jsonschema
import numpy as np
import pytest
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
