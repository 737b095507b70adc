"""Emitters of the exports app: `export.failed` when a background export crashes, `export.succeeded` when it (or its
retry) finishes."""

from __future__ import annotations

import pytest

from apps.exports import services as export_services
from tests.exports.conftest import lineage  # noqa: F401
from tests.exports.test_jobs import _crash_on, manager, manager_client, start  # noqa: F401

pytestmark = pytest.mark.django_db


def test_export_failure_and_success_are_announced(
    manager_client,  # noqa: F811
    project,
    lineage,  # noqa: F811
    monkeypatch,
    make_webhook,
    receiver,
    django_capture_on_commit_callbacks,
):
    make_webhook(["export.succeeded", "export.failed"])
    monkeypatch.setattr(export_services, "CHUNK_ROWS", 2)
    _crash_on(monkeypatch, "_advance", 2)
    started = start(manager_client, project, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        retried = manager_client.post(f"/api/v1/exports/{started['export']}/retry")
    assert retried.status_code == 202
    events = [(r.headers["X-TDP-Event"], r.json["data"]) for r in receiver.requests]
    assert [kind for kind, _ in events] == ["export.failed", "export.succeeded"]
    failed, succeeded = events[0][1], events[1][1]
    assert failed["id"] == succeeded["id"] == started["export"]
    assert "worker died" in failed["error"]
    assert succeeded["rows"] == 5 and succeeded["download_url"].endswith("/download")
