"""Storage integrations against a real moto S3/STS server process: validate, signed URLs, audit, SSRF checks."""

from __future__ import annotations

import contextlib
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
import requests

from apps.core.models import AuditEvent
from apps.datasets.models import DataRow, StorageIntegration
from tests.datasets.conftest import ndjson

pytestmark = pytest.mark.django_db

ROLE = "arn:aws:iam::123456789012:role/tdp-reader"


@pytest.fixture
def bucket(aws_env: str) -> str:
    s3 = boto3.client("s3", endpoint_url=aws_env, region_name="us-east-1")
    name = "customer-images"
    with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou):
        s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="cams/001.jpg", Body=b"\xff\xd8\xff-jpeg-bytes")
    return name


@pytest.fixture
def admin_client(client_for, org_admin):
    return client_for(org_admin)


@pytest.fixture
def integration(admin_client, client_for, superuser, bucket, aws_env) -> dict:
    created = admin_client.post(
        "/api/v1/storage_integrations",
        {"name": "customer", "provider": "aws", "bucket": bucket, "region": "us-east-1", "role_arn": ROLE},
        format="json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    patched = client_for(superuser).patch(
        f"/api/v1/storage_integrations/{body['id']}", {"endpoint_url": aws_env}, format="json"
    )
    assert patched.status_code == 200, patched.content
    return patched.json()


def test_create_generates_external_id(admin_client, bucket):
    response = admin_client.post(
        "/api/v1/storage_integrations", {"name": "a", "bucket": bucket, "role_arn": ROLE}, format="json"
    )
    assert response.status_code == 201
    body = response.json()
    assert body["external_id"].startswith("tdp-") and len(body["external_id"]) > 20
    second = admin_client.post(
        "/api/v1/storage_integrations", {"name": "b", "bucket": "other-bucket", "role_arn": ROLE}, format="json"
    )
    assert second.json()["external_id"] != body["external_id"]
    invalid = admin_client.post(
        "/api/v1/storage_integrations", {"name": "c", "bucket": "Bad_Bucket", "role_arn": "nope"}, format="json"
    )
    assert invalid.status_code == 400
    assert set(invalid.json()["error"]["details"]) == {"bucket", "role_arn"}


def test_validate_succeeds_against_moto(admin_client, integration):
    response = admin_client.post(f"/api/v1/storage_integrations/{integration['id']}/validate")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["last_validation_ok"] is True, body
    assert AuditEvent.objects.filter(action="storage_integration.validated", object_id=integration["id"]).exists()


def test_validate_reports_a_missing_bucket(admin_client, client_for, superuser, aws_env):
    created = admin_client.post(
        "/api/v1/storage_integrations",
        {"name": "gone", "bucket": "no-such-bucket-here", "role_arn": ROLE},
        format="json",
    ).json()
    client_for(superuser).patch(
        f"/api/v1/storage_integrations/{created['id']}", {"endpoint_url": aws_env}, format="json"
    )
    body = admin_client.post(f"/api/v1/storage_integrations/{created['id']}/validate").json()
    assert body["last_validation_ok"] is False
    assert "does not exist" in body["last_validation_message"]


def test_validate_reports_missing_server_credentials(admin_client, integration, monkeypatch):
    from apps.datasets import cloud

    cloud._cache.clear()
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    body = admin_client.post(f"/api/v1/storage_integrations/{integration['id']}/validate").json()
    assert body["last_validation_ok"] is False
    assert "Could not assume the role" in body["last_validation_message"]
    assert integration["external_id"] in body["last_validation_message"]


def test_signed_url_flow(admin_client, client_for, users_by_role, integration, bucket, post_rows, dataset):
    response = post_rows(
        admin_client, dataset, ndjson([{"global_key": "s3-row", "row_data": f"s3://{bucket}/cams/001.jpg"}])
    )
    assert response.json()["created"] == 1
    row = DataRow.objects.get(global_key="s3-row")
    labeler = client_for(users_by_role["labeler"])
    content = labeler.get(f"/api/v1/data_rows/{row.id}/content")
    assert content.status_code == 302
    location = content["Location"]
    query = parse_qs(urlsplit(location).query)
    assert query["X-Amz-Expires"] == ["900"]
    assert "X-Amz-Security-Token" in query  # signed with the assumed role's temporary credentials
    assert content["Cache-Control"] == "no-store"
    fetched = requests.get(location, timeout=10)
    assert fetched.status_code == 200 and fetched.content == b"\xff\xd8\xff-jpeg-bytes"
    event = AuditEvent.objects.get(action="data_row.content_accessed", object_id=str(row.id))
    assert event.extra["via"] == "signed_url" and event.actor == users_by_role["labeler"]


def test_signed_url_ttl_is_configurable(admin_client, integration, bucket, post_rows, dataset, settings):
    settings.TDP_SIGNED_URL_TTL_SECONDS = 120
    post_rows(admin_client, dataset, ndjson([{"global_key": "k", "row_data": f"s3://{bucket}/cams/001.jpg"}]))
    location = admin_client.get(f"/api/v1/data_rows/{DataRow.objects.get().id}/content")["Location"]
    assert parse_qs(urlsplit(location).query)["X-Amz-Expires"] == ["120"]


def test_s3_row_without_integration_is_409(admin_client, post_rows, dataset):
    post_rows(admin_client, dataset, ndjson([{"global_key": "k", "row_data": "s3://unknown-bucket/a.jpg"}]))
    response = admin_client.get(f"/api/v1/data_rows/{DataRow.objects.get().id}/content")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "no_storage_integration"


def test_endpoint_url_is_superuser_only(admin_client, integration):
    created = admin_client.post(
        "/api/v1/storage_integrations",
        {"name": "x", "bucket": "another-bucket", "role_arn": ROLE, "endpoint_url": "https://s3.example.com"},
        format="json",
    )
    assert created.status_code == 403
    patched = admin_client.patch(
        f"/api/v1/storage_integrations/{integration['id']}", {"endpoint_url": "https://s3.example.com"}, format="json"
    )
    assert patched.status_code == 403


@pytest.mark.parametrize(
    "endpoint", ["http://169.254.169.254", "http://127.0.0.1:9000", "http://10.0.0.2:9000", "http://[::1]:9000"]
)
def test_endpoint_url_refuses_private_addresses(client_for, superuser, integration, endpoint, settings):
    settings.TDP_OUTBOUND_ALLOWED_HOSTS = []
    response = client_for(superuser).patch(
        f"/api/v1/storage_integrations/{integration['id']}", {"endpoint_url": endpoint}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "unsafe_url"
    assert StorageIntegration.objects.get(pk=integration["id"]).endpoint_url != endpoint


def test_endpoint_is_rechecked_when_used(admin_client, integration, bucket, post_rows, dataset, settings):
    post_rows(admin_client, dataset, ndjson([{"global_key": "k", "row_data": f"s3://{bucket}/cams/001.jpg"}]))
    settings.TDP_OUTBOUND_ALLOWED_HOSTS = []  # the allowlist changed after the endpoint was saved
    response = admin_client.get(f"/api/v1/data_rows/{DataRow.objects.get().id}/content")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "unsafe_url"
    validated = admin_client.post(f"/api/v1/storage_integrations/{integration['id']}/validate").json()
    assert validated["last_validation_ok"] is False


@pytest.mark.parametrize("role", ["team_manager", "reviewer", "labeler", "expert"])
def test_only_admins_manage_integrations(role, users_by_role, client_for, integration):
    client = client_for(users_by_role[role])
    assert client.get("/api/v1/storage_integrations").status_code == 403
    assert client.get(f"/api/v1/storage_integrations/{integration['id']}").status_code == 403
    assert client.post(f"/api/v1/storage_integrations/{integration['id']}/validate").status_code == 403
    created = client.post(
        "/api/v1/storage_integrations", {"name": "x", "bucket": "bkt-x", "role_arn": ROLE}, format="json"
    )
    assert created.status_code == 403


def test_other_organization_cannot_see_integration(other_org, client_for, integration):
    from apps.accounts.models import User

    other_admin = client_for(User.objects.get(organization=other_org, role="admin"))
    assert other_admin.get(f"/api/v1/storage_integrations/{integration['id']}").status_code == 404
    assert other_admin.post(f"/api/v1/storage_integrations/{integration['id']}/validate").status_code == 404
    assert other_admin.delete(f"/api/v1/storage_integrations/{integration['id']}").status_code == 404
    assert other_admin.get("/api/v1/storage_integrations").json()["results"] == []
