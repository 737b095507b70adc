"""Rows from a storage integration's bucket prefix, against the moto S3/STS server: listing, one row per key, re-runs
that update instead of duplicating, tenancy, roles, and the SSRF check of the endpoint."""

from __future__ import annotations

import contextlib

import boto3
import pytest

from apps.core.models import AuditEvent
from apps.datasets.models import DataRow, StorageIntegration
from tests.datasets.test_storage import ROLE

pytestmark = pytest.mark.django_db


@pytest.fixture
def prefix_bucket(aws_env: str) -> str:
    s3 = boto3.client("s3", endpoint_url=aws_env, region_name="us-east-1")
    name = "prefix-images"
    with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou):
        s3.create_bucket(Bucket=name)
    for key in ("cams/front/001.jpg", "cams/front/002.PNG", "cams/front/notes.txt", "cams/front/", "cams/rear/9.jpg"):
        s3.put_object(Bucket=name, Key=key, Body=b"bytes")
    return name


@pytest.fixture
def integration(client_for, org_admin, superuser, prefix_bucket, aws_env) -> StorageIntegration:
    created = client_for(org_admin).post(
        "/api/v1/storage_integrations",
        {"name": "cams", "bucket": prefix_bucket, "region": "us-east-1", "role_arn": ROLE},
        format="json",
    )
    assert created.status_code == 201, created.content
    patched = client_for(superuser).patch(
        f"/api/v1/storage_integrations/{created.json()['id']}", {"endpoint_url": aws_env}, format="json"
    )
    assert patched.status_code == 200, patched.content
    return StorageIntegration.objects.get(pk=created.json()["id"])


def url(dataset) -> str:
    return f"/api/v1/datasets/{dataset.id}/data_rows/from_storage"


def test_manager_adds_the_images_under_a_prefix(manager_client, dataset, integration, prefix_bucket):
    response = manager_client.post(
        url(dataset), {"integration": str(integration.id), "prefix": "cams/front/"}, format="json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["listed"], body["created"], body["skipped"], body["failed"]) == (3, 2, 1, 0)
    assert body["global_keys"] == ["cams/front/001.jpg", "cams/front/002.PNG"]
    rows = dict(DataRow.objects.filter(dataset=dataset).values_list("global_key", "row_data"))
    assert rows == {
        "cams/front/001.jpg": f"s3://{prefix_bucket}/cams/front/001.jpg",
        "cams/front/002.PNG": f"s3://{prefix_bucket}/cams/front/002.PNG",
    }
    assert AuditEvent.objects.filter(action="data_rows.imported", extra__format="storage").count() == 1
    again = manager_client.post(url(dataset), {"integration": str(integration.id), "prefix": "cams/"}, format="json")
    assert (again.json()["created"], again.json()["updated"]) == (1, 2)
    assert DataRow.objects.filter(dataset=dataset).count() == 3


def test_limit_and_empty_prefix(manager_client, dataset, integration):
    limited = manager_client.post(url(dataset), {"integration": str(integration.id), "max_keys": 1}, format="json")
    assert limited.status_code == 200
    assert limited.json()["truncated"] is True and limited.json()["listed"] == 1
    empty = manager_client.post(url(dataset), {"integration": str(integration.id), "prefix": "nothing/"}, format="json")
    assert empty.json()["listed"] == 0 and empty.json()["created"] == 0
    bad = manager_client.post(url(dataset), {"integration": str(integration.id), "prefix": "/abs"}, format="json")
    assert bad.status_code == 400 and "prefix" in bad.json()["error"]["details"]


def test_roles_and_tenancy(client_for, users_by_role, dataset, other_dataset, integration, other_org):
    labeler = client_for(users_by_role["labeler"])
    assert labeler.post(url(dataset), {"integration": str(integration.id)}, format="json").status_code == 403
    from apps.accounts.models import User

    other_admin = client_for(User.objects.get(organization=other_org, role="admin"))
    assert other_admin.post(url(dataset), {"integration": str(integration.id)}, format="json").status_code == 404
    # Their own dataset, our integration: the integration is a 404 for them.
    assert other_admin.post(url(other_dataset), {"integration": str(integration.id)}, format="json").status_code == 404
    assert DataRow.objects.count() == 0


def test_private_endpoint_is_refused(manager_client, dataset, integration, settings):
    settings.TDP_OUTBOUND_ALLOWED_HOSTS = []  # moto listens on loopback: not allowed any more
    response = manager_client.post(url(dataset), {"integration": str(integration.id)}, format="json")
    assert response.status_code == 400, response.content
    assert DataRow.objects.count() == 0


def test_unreachable_storage_is_a_502(manager_client, dataset, integration, aws_env, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "")
    from apps.datasets import cloud

    cloud._cache.clear()
    StorageIntegration.objects.filter(pk=integration.pk).update(bucket="no-such-bucket")
    response = manager_client.post(url(dataset), {"integration": str(integration.id)}, format="json")
    assert response.status_code == 502, response.content
    assert "could not list" in response.json()["error"]["message"].lower()
