"""A real `qcluster` killed in the middle of an export: the export stays resumable, a retry continues from the
checkpoint in a new worker, and the final file has every row exactly once."""

from __future__ import annotations

import os
import signal
import time
from datetime import timedelta

import pytest
from django_q.conf import Conf

from apps.exports import services as export_services
from apps.exports.models import Export
from apps.labeling import services
from tests.exports.conftest import parse_ndjson
from tests.worker import running_qcluster

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def wait_for(predicate, timeout: float = 120.0, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("condition not met in time")


def test_worker_killed_mid_export_resumes_without_duplicates(
    monkeypatch, tmp_path, settings, project, members, org_admin, make_rows, client_for
):
    rows = make_rows(120, prefix="w")
    services.batch_create(actor=org_admin, project=project, name="w", data_row_ids=[str(r.id) for r in rows])
    settings.MEDIA_ROOT = str(tmp_path / "media")
    monkeypatch.setattr(Conf, "SYNC", False)
    env = {"MEDIA_ROOT": settings.MEDIA_ROOT, "TDP_EXPORT_CHUNK_ROWS": "1"}
    client = client_for(members["team_manager"])
    with running_qcluster(env) as first:
        started = client.post(f"/api/v1/projects/{project.pk}/exports", {"format": "ndjson"}, format="json").json()
        wait_for(lambda: Export.objects.filter(pk=started["export"], chunks_written__gte=3).exists())
        os.killpg(first.pid, signal.SIGKILL)  # the worker dies mid-export, without any chance to clean up
    export = Export.objects.get(pk=started["export"])
    assert export.status == "running" and 3 <= export.chunks_written < 120, export.chunks_written
    # The stalled export may be retried (here at once; in production after STALE_AFTER without progress). The
    # broker would also redeliver the unacknowledged task after Q_RETRY seconds; both continue from the checkpoint.
    monkeypatch.setattr(export_services, "STALE_AFTER", timedelta(0))
    with running_qcluster(env):
        retried = client.post(f"/api/v1/exports/{export.pk}/retry")
        assert retried.status_code == 202, retried.content
        job = wait_for(
            lambda: (j := client.get(f"/api/v1/jobs/{retried.json()['job']}").json())["status"] == "succeeded" and j,
            timeout=180,
            interval=0.5,
        )
    done = Export.objects.get(pk=export.pk)
    assert done.status == "succeeded" and done.chunks_written == 120 and done.row_count == 120
    response = client.get(job["result"]["download_url"])
    ids = [line["data_row"]["id"] for line in parse_ndjson(b"".join(response.streaming_content))]
    assert len(ids) == 120 and len(set(ids)) == 120 and ids == sorted(ids)
