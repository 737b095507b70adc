"""Admin pages of the datasets app (scoped to the org admin's organization) and the demo loader."""

from __future__ import annotations

import pytest
from django.test import Client

from apps.accounts.models import User
from apps.datasets import demo, services
from apps.datasets.models import DataRow, Dataset
from tests.datasets.conftest import ndjson

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_browser(org_admin: User) -> Client:
    client = Client()
    client.force_login(org_admin)
    return client


def test_dataset_changelist_shows_row_counts_of_own_org_only(admin_browser, dataset, other_dataset, manager):
    services.data_rows_import(
        actor=manager,
        dataset=dataset,
        fmt="ndjson",
        chunks=[ndjson([{"global_key": f"k{i}", "row_data": "https://x.org/a.png"} for i in range(3)])],
    )
    page = admin_browser.get("/admin/datasets/dataset/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "street scenes" in html and "their data" not in html
    assert '<td class="field-row_count">3</td>' in html


def test_data_row_changelist_filters_by_metadata_and_links_the_asset(
    admin_browser, dataset, metadata_fields, manager, other_dataset
):
    services.data_rows_import(
        actor=manager,
        dataset=dataset,
        fmt="ndjson",
        chunks=[
            ndjson(
                [
                    {"global_key": "front-1", "row_data": "https://x.org/1.png", "metadata": {"camera": "front"}},
                    {"global_key": "rear-1", "row_data": "https://x.org/2.png", "metadata": {"camera": "rear"}},
                    {"global_key": "<b>x</b>", "row_data": "https://x.org/3.png", "metadata": {"split": "test"}},
                ]
            )
        ],
    )
    html = admin_browser.get("/admin/datasets/datarow/", {"q": "camera=front"}).content.decode()
    assert "front-1" in html and "rear-1" not in html
    row = DataRow.objects.get(global_key="front-1")
    assert f"/api/v1/data_rows/{row.pk}/content" in html
    split = admin_browser.get("/admin/datasets/datarow/", {"split": "test"}).content.decode()
    assert "&lt;b&gt;x&lt;/b&gt;" in split and "<b>x</b>" not in split and "front-1" not in split
    detail = admin_browser.get(f"/admin/datasets/datarow/{row.pk}/change/")
    assert detail.status_code == 200


def test_admin_of_another_org_cannot_open_rows(dataset, manager, other_org):
    services.data_rows_import(
        actor=manager,
        dataset=dataset,
        fmt="ndjson",
        chunks=[ndjson([{"global_key": "mine", "row_data": "https://x.org/1.png"}])],
    )
    client = Client()
    client.force_login(User.objects.get(organization=other_org, role="admin"))
    row = DataRow.objects.get(global_key="mine")
    assert client.get(f"/admin/datasets/datarow/{row.pk}/change/").status_code in (302, 404)
    assert "mine" not in client.get("/admin/datasets/datarow/").content.decode()


def test_demo_loader_is_idempotent_and_serves_its_image(org, client_for, org_admin, settings, tmp_path, monkeypatch):
    settings.MEDIA_ROOT = tmp_path
    monkeypatch.setattr(demo, "SCENES", 4)
    demo.load(org)
    demo.load(org)
    assert Dataset.objects.filter(organization=org, name=demo.DEMO_DATASET).count() == 1
    dataset = Dataset.objects.get(organization=org, name=demo.DEMO_DATASET)
    assert dataset.data_rows.count() == 4
    image = DataRow.objects.get(global_key="street-0000")
    assert (image.width, image.height) == (640, 480)
    assert image.metadata["sensor"] == "north-cam" and image.metadata["split"] in ("train", "valid", "test")
    response = client_for(org_admin).get(f"/api/v1/data_rows/{image.pk}/content")
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
