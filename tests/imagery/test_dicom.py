"""DICOM import: de-identification (nothing removed survives in storage, metadata or exports), series order, typed
metadata from admin-selected tags, window presets, and a label on slice 2 exported with slice and pixel spacing."""

from __future__ import annotations

import json

import numpy as np
import pydicom
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from apps.datasets.models import DataRow, MetadataField
from apps.imagery.models import IdentityMapping, ImagingAsset
from apps.imagery.selectors import export_section
from apps.labeling import services as labeling
from tests.imagery.dicom_factory import IDENTIFYING, PATIENT_ID, ct_series, ct_slice

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


def post_dicom(client, dataset, blobs):
    files = [SimpleUploadedFile(f"{PATIENT_ID}_{i}.dcm", b, "application/dicom") for i, b in enumerate(blobs)]
    return client.post(f"/api/v1/datasets/{dataset.id}/dicom", {"files": files}, format="multipart")


def all_stored_bytes(root) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file())


def assert_clean(blob: bytes) -> None:
    for value in IDENTIFYING:
        assert value.encode() not in blob, value


def test_series_import_deidentifies_and_orders_slices(manager_client, dataset, media_root):
    response = post_dicom(manager_client, dataset, ct_series(3))
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["created"] == 3 and body["failed"] == 0 and len(body["series"]) == 1
    stored = all_stored_bytes(media_root)
    assert stored.count(b"DICM") == 3 and stored.count(b"\x89PNG") == 3
    assert_clean(stored)
    assert b"private" not in stored  # the private tag went too
    rows = list(DataRow.objects.filter(dataset=dataset).order_by("global_key"))
    assert [r.global_key.rsplit("/", 1)[1] for r in rows] == ["1", "2", "3"]
    for row in rows:
        assert_clean(json.dumps([row.global_key, row.external_id, row.row_data, row.metadata]).encode())
        assert (row.width, row.height) == (10, 8)
    assets = {a.slice_index: a for a in ImagingAsset.objects.all()}
    assert sorted(assets) == [1, 2, 3] and {a.slice_count for a in assets.values()} == {3}
    # ordered by ImagePositionPatient z: slice 1 is the file with InstanceNumber 1 even though it was sent last
    for index, asset in assets.items():
        ds = pydicom.dcmread(media_root / asset.source_name)
        assert int(ds.InstanceNumber) == index
        assert ds.PatientIdentityRemoved == "YES" and str(ds.PatientName).startswith("TDP-")
        assert "PatientBirthDate" not in ds and "InstitutionName" not in ds
        assert "InstitutionName" not in ds.ReferencedImageSequence[0]
        assert ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
        assert asset.pixel_spacing == [0.7, 0.8]
    assert len({str(pydicom.dcmread(media_root / a.source_name).PatientID) for a in assets.values()}) == 1
    assert not IdentityMapping.objects.exists()  # no mapping unless the organization asks
    detail = manager_client.get(f"/api/v1/data_rows/{assets[2].data_row_id}/imaging").json()
    assert detail["dicom"]["slice"] == 2 and detail["dicom"]["windows"][0] == {
        "name": "stored",
        "center": 40.0,
        "width": 400.0,
    }
    assert_clean(json.dumps(detail).encode())


def test_rendered_slice_uses_the_stored_window(manager_client, dataset, media_root):
    # stored 1064 - 1024 = 40 HU = the window center → (40 - 39.5) / 399 + 0.5 → 128
    blob = ct_slice(series_uid="1.2.3", study_uid="1.2.4", index=1, pixel_value=1064)
    assert post_dicom(manager_client, dataset, [blob]).status_code == 201
    row = DataRow.objects.get(dataset=dataset)
    png = Image.open(media_root / row.row_data.removeprefix("upload://"))
    assert png.mode == "L" and set(np.asarray(png).ravel().tolist()) == {128}


def test_identity_mapping_only_when_asked(client_for, org_admin, manager_client, dataset, media_root):
    admin = client_for(org_admin)
    response = admin.patch("/api/v1/imaging/settings", {"keep_identity_mapping": True}, format="json")
    assert response.status_code == 200 and response.json()["keep_identity_mapping"] is True
    assert post_dicom(manager_client, dataset, ct_series(2)).status_code == 201
    patient = IdentityMapping.objects.get(kind="patient")
    assert PATIENT_ID in patient.original and patient.pseudonym.startswith("TDP-")
    assert_clean(all_stored_bytes(media_root))  # the key lives in the database table only
    # the same patient imported again gets the same pseudonym
    assert post_dicom(manager_client, dataset, [ct_series(1)[0]]).status_code == 201
    pseudonyms = {str(pydicom.dcmread(media_root / a.source_name).PatientID) for a in ImagingAsset.objects.all()}
    assert pseudonyms == {patient.pseudonym}


def test_selected_tags_become_typed_metadata(client_for, org_admin, manager, manager_client, dataset):
    MetadataField.objects.create(organization=dataset.organization, name="modality", kind="string")
    MetadataField.objects.create(organization=dataset.organization, name="slice_mm", kind="number")
    MetadataField.objects.create(organization=dataset.organization, name="study_date", kind="datetime")
    admin = client_for(org_admin)
    bad = admin.patch("/api/v1/imaging/settings", {"dicom_metadata_tags": {"PatientName": "modality"}}, format="json")
    assert bad.status_code == 400 and "PatientName" in bad.json()["error"]["details"]
    unknown = admin.patch("/api/v1/imaging/settings", {"dicom_metadata_tags": {"NoSuchTag": "modality"}}, format="json")
    assert unknown.status_code == 400
    tags = {"Modality": "modality", "SliceThickness": "slice_mm", "StudyDate": "study_date"}
    assert admin.patch("/api/v1/imaging/settings", {"dicom_metadata_tags": tags}, format="json").status_code == 200
    denied = manager_client.patch("/api/v1/imaging/settings", {"keep_identity_mapping": True}, format="json")
    assert denied.status_code == 403
    assert post_dicom(manager_client, dataset, [ct_series(1)[0]]).status_code == 201
    row = DataRow.objects.get(dataset=dataset)
    assert row.metadata["modality"] == "CT" and row.metadata["slice_mm"] == 2.5
    assert row.metadata["study_date"].startswith("2026-01-02T00:00:00")
    filtered = manager_client.get("/api/v1/data_rows", {"metadata.slice_mm": "2.5"}).json()
    assert [r["id"] for r in filtered["results"]] == [str(row.id)]


def test_bad_files_are_rejected_and_nothing_is_stored(manager_client, dataset, media_root):
    response = post_dicom(manager_client, dataset, [ct_series(1)[0], b"not a dicom file at all"])
    assert response.status_code == 400
    assert response.json()["error"]["details"] == {"files[1]": [response.json()["error"]["details"]["files[1]"][0]]}
    assert not DataRow.objects.exists() and not (media_root.exists() and any(media_root.rglob("*.*")))
    other = manager_client.post(f"/api/v1/datasets/{dataset.id}/dicom", {}, format="multipart")
    assert other.status_code == 400


def test_labeler_cannot_import_and_other_org_gets_404(client_for, users_by_role, other_dataset, dataset):
    labeler = client_for(users_by_role["labeler"])
    assert post_dicom(labeler, dataset, ct_series(1)).status_code == 403
    manager = client_for(users_by_role["team_manager"])
    assert post_dicom(manager, other_dataset, ct_series(1)).status_code == 404


def test_label_on_slice_two_exports_slice_and_spacing(manager_client, dataset, media_root, project, org_admin, members):
    assert post_dicom(manager_client, dataset, ct_series(3)).status_code == 201
    second = ImagingAsset.objects.get(slice_index=2)
    labeling.batch_create(actor=org_admin, project=project, name="ct", data_row_ids=[str(second.data_row_id)])
    task = labeling.queue_claim(actor=members["labeler"], project=project)
    assert task is not None and str(task.data_row_id) == str(second.data_row_id)
    box = {"name": "vehicle", "bbox": {"top": 1, "left": 2, "height": 3, "width": 4}}
    box["classifications"] = [{"name": "kind", "answer": {"name": "police"}}]
    labeling.label_submit(actor=members["labeler"], task=task, annotations=[box], seconds_spent=3)
    response = client_for_export(project, org_admin)
    lines = [json.loads(line) for line in response.decode().splitlines()]
    line = next(x for x in lines if x["data_row"]["id"] == str(second.data_row_id))
    assert line["imaging"]["dicom"]["slice"] == 2 and line["imaging"]["dicom"]["slice_count"] == 3
    assert line["imaging"]["dicom"]["pixel_spacing_mm"] == [0.7, 0.8]
    assert line["labels"][0]["annotations"][0]["bbox"] == {"top": 1, "left": 2, "height": 3, "width": 4}
    # the SQL-built line (PostgreSQL) equals the Python section, and ordinary rows get null
    assert line["imaging"] == export_section(project, [str(second.data_row_id)])[str(second.data_row_id)]
    assert_clean(response)
    assert_clean(all_stored_bytes(media_root))


def client_for_export(project, user) -> bytes:
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(user)
    response = client.get(f"/api/v1/projects/{project.pk}/export.ndjson")
    assert response.status_code == 200
    return b"".join(response.streaming_content)
