"""Reading many assets through signed URLs (real moto S3/STS) raises the bulk raw-data access alert."""

from __future__ import annotations

import pytest
from django.core import mail

from apps.core.models import Alert, AlertRule
from apps.datasets.models import DataRow
from tests.datasets.conftest import ndjson
from tests.datasets.test_storage import admin_client, bucket, integration  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db


def test_many_signed_urls_by_one_user_raise_an_alert(
    admin_client,  # noqa: F811
    client_for,
    org,
    org_admin,
    users_by_role,
    integration,  # noqa: F811
    bucket,  # noqa: F811
    post_rows,
    dataset,
    django_capture_on_commit_callbacks,
):
    AlertRule.objects.filter(organization=org, kind="bulk_raw_access").update(threshold=3, window_minutes=60)
    org_admin.email = "owner@acme.test"
    org_admin.save()
    rows = [{"global_key": f"s3-{i}", "row_data": f"s3://{bucket}/cams/001.jpg"} for i in range(3)]
    assert post_rows(admin_client, dataset, ndjson(rows)).json()["created"] == 3
    labeler = client_for(users_by_role["labeler"])
    for row in DataRow.objects.filter(global_key__startswith="s3-").order_by("global_key"):
        assert not Alert.objects.exists()
        with django_capture_on_commit_callbacks(execute=True):
            assert labeler.get(f"/api/v1/data_rows/{row.id}/content").status_code == 302
    alert = Alert.objects.get(kind="bulk_raw_access")
    assert alert.actor == users_by_role["labeler"] and alert.count == 3
    assert [m.to for m in mail.outbox] == [["owner@acme.test"]]
