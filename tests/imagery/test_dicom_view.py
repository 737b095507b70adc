"""The editor's DICOM series view: any slice through any window (exact DICOM window function on the stored values),
bad windows and slices refused with 4xx, and labels whose objects carry the slice they were drawn on."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from PIL import Image
from pydicom.uid import generate_uid

from apps.datasets.models import DataRow
from apps.imagery.domain.windowing import apply_window
from apps.imagery.models import ImagingAsset
from apps.labeling import services as labeling
from tests.imagery.dicom_factory import ct_slice
from tests.imagery.test_dicom import client_for_export, post_dicom

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


def flat_series() -> list[bytes]:
    """Three slices, slice i holding 100·i HU everywhere (stored 1024 + 100·i, intercept −1024)."""
    study, series = generate_uid(), generate_uid()
    return [ct_slice(series_uid=series, study_uid=study, index=i, pixel_value=1024 + 100 * i) for i in (3, 1, 2)]


@pytest.fixture
def series_rows(manager_client, dataset):
    assert post_dicom(manager_client, dataset, flat_series()).status_code == 201
    return {a.slice_index: a.data_row_id for a in ImagingAsset.objects.all()}


def pixels(response) -> set[int]:
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "image/png" and response["X-Content-Type-Options"] == "nosniff"
    image = Image.open(io.BytesIO(b"".join(response.streaming_content) if response.streaming else response.content))
    assert image.mode == "L"
    return set(np.asarray(image).ravel().tolist())


def test_any_slice_of_the_series_through_any_window(manager_client, series_rows):
    first = series_rows[1]
    base = f"/api/v1/data_rows/{first}/dicom/slices"
    # default: the slice's first preset (the stored window 40/400): 200 HU → ((200 − 39.5)/399 + .5)·255 → 230
    assert pixels(manager_client.get(f"{base}/2")) == {int(apply_window(np.array([200.0]), 40, 400)[0])} == {230}
    # a free window: slice 3 (300 HU) at level 250, width 101 → ((300 − 249.5)/100 + .5)·255 = 256.3 → 255 (clipped)
    assert pixels(manager_client.get(f"{base}/3", {"center": "250", "width": "101"})) == {255}
    # slice 1 (100 HU) at level 100, width 50 → ((100 − 99.5)/49 + .5)·255 = 130.1 → 130
    assert pixels(manager_client.get(f"{base}/1", {"center": "100", "width": "50"})) == {130}
    # the same slice asked from another row of the series is the same slice
    other = f"/api/v1/data_rows/{series_rows[3]}/dicom/slices/1"
    assert pixels(manager_client.get(other, {"center": "100", "width": "50"})) == {130}


@pytest.mark.parametrize(
    ("suffix", "params", "status"),
    [
        ("2", {"center": "40"}, 400),  # width missing
        ("2", {"center": "40", "width": "0"}, 400),
        ("2", {"center": "nan", "width": "400"}, 400),
        ("2", {"center": "1e9", "width": "400"}, 400),
        ("2", {"center": "x", "width": "400"}, 400),
        ("2", {"level": "40"}, 400),  # unknown parameter
        ("0", {}, 404),
        ("4", {}, 404),
        ("-1", {}, 404),
        ("two", {}, 404),
    ],
)
def test_bad_windows_and_slices_are_refused(manager_client, series_rows, suffix, params, status):
    response = manager_client.get(f"/api/v1/data_rows/{series_rows[1]}/dicom/slices/{suffix}", params)
    assert response.status_code == status, response.content
    assert "error" in response.json()


def test_other_organizations_and_plain_rows_get_404(client_for, other_org, series_rows, manager_client, dataset):
    from apps.accounts.models import User

    stranger = client_for(User.objects.get(organization=other_org, role="admin"))
    assert stranger.get(f"/api/v1/data_rows/{series_rows[1]}/dicom/slices/2").status_code == 404
    plain = DataRow.objects.create(
        dataset=dataset, organization=dataset.organization, global_key="plain.png", row_data="https://example.com/a.png"
    )
    response = manager_client.get(f"/api/v1/data_rows/{plain.pk}/dicom/slices/1")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_dicom"


def box(slice_number=None) -> dict:
    item = {"name": "vehicle", "bbox": {"top": 1, "left": 2, "height": 3, "width": 4}}
    item["classifications"] = [{"name": "kind", "answer": {"name": "police"}}]
    if slice_number is not None:
        item["slice"] = slice_number
    return item


def test_objects_keep_their_slice_and_impossible_slices_are_refused(series_rows, project, org_admin, members):
    from apps.core.errors import ValidationFailed

    labeling.batch_create(actor=org_admin, project=project, name="ct", data_row_ids=[str(series_rows[1])])
    task = labeling.queue_claim(actor=members["labeler"], project=project)
    for bad, message in ((4, "slices 1 to 3"), (0, "whole number"), ("2", "whole number"), (True, "whole number")):
        with pytest.raises(ValidationFailed) as caught:
            labeling.label_submit(actor=members["labeler"], task=task, annotations=[box(bad)], seconds_spent=1)
        (error,) = caught.value.details["annotations"]
        assert error["path"] == "annotations[0].slice" and message in error["message"], error
    label = labeling.label_submit(
        actor=members["labeler"], task=task, annotations=[box(2), box(1), box()], seconds_spent=1
    )
    assert [a.get("slice") for a in label.annotations] == [2, 1, None]
    lines = [json.loads(line) for line in client_for_export(project, org_admin).decode().splitlines()]
    (line,) = [x for x in lines if x["data_row"]["id"] == str(series_rows[1])]
    assert [a.get("slice") for a in line["labels"][0]["annotations"]] == [2, 1, None]
    assert line["imaging"]["dicom"]["pixel_spacing_mm"] == [0.7, 0.8]


def test_a_slice_on_a_row_that_is_no_stack_is_refused(project, org_admin, members, dataset):
    from apps.core.errors import ValidationFailed

    row = DataRow.objects.create(
        dataset=dataset,
        organization=dataset.organization,
        global_key="plain.png",
        row_data="https://example.com/a.png",
        width=100,
        height=100,
    )
    labeling.batch_create(actor=org_admin, project=project, name="plain", data_row_ids=[str(row.pk)])
    task = labeling.queue_claim(actor=members["labeler"], project=project)
    with pytest.raises(ValidationFailed) as caught:
        labeling.label_submit(actor=members["labeler"], task=task, annotations=[box(1)], seconds_spent=1)
    assert caught.value.details["annotations"][0]["message"] == "Only objects on DICOM series rows have a slice."
