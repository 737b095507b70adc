"""Background exports: the job path, the download, resuming after a crash, reruns, permissions."""

from __future__ import annotations

import pytest

from apps.core.models import AuditEvent, Job
from apps.exports import services as export_services
from apps.exports.models import Export
from tests.exports.conftest import parse_ndjson


@pytest.fixture
def manager(members):
    return members["team_manager"]


@pytest.fixture
def manager_client(manager, client_for):
    return client_for(manager)


def start(client, project, django_capture_on_commit_callbacks, fmt="ndjson", filters=None, expect=202):
    body = {"format": fmt} if filters is None else {"format": fmt, "filters": filters}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/api/v1/projects/{project.pk}/exports", body, format="json")
    assert response.status_code == expect, response.content
    return response.json()


def download(client, url):
    response = client.get(url)
    assert response.status_code == 200, getattr(response, "content", b"")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"].startswith("attachment;")
    return b"".join(response.streaming_content)


def test_ndjson_job_writes_the_same_lines_as_the_stream(
    manager_client, project, lineage, django_capture_on_commit_callbacks
):
    started = start(manager_client, project, django_capture_on_commit_callbacks)
    job = manager_client.get(f"/api/v1/jobs/{started['job']}").json()
    assert job["status"] == "succeeded", job
    assert job["progress"] == {"done": 5, "total": 5}
    assert job["result"]["rows"] == 5 and job["result"]["export"] == started["export"]
    assert job["result"]["download_url"] == f"http://testserver/api/v1/exports/{started['export']}/download"
    content = download(manager_client, job["result"]["download_url"])
    streamed = manager_client.get(f"/api/v1/projects/{project.pk}/export.ndjson")
    assert parse_ndjson(content) == parse_ndjson(b"".join(streamed.streaming_content))
    lines = parse_ndjson(content)
    annotations = sum(len(label["annotations"]) for line in lines for label in line["labels"])
    assert annotations > 0 and job["result"]["annotations"] == annotations
    detail = manager_client.get(f"/api/v1/exports/{started['export']}").json()
    assert detail["status"] == "succeeded" and detail["progress"] == {"done": 5, "total": 5}
    assert detail["download_url"] == job["result"]["download_url"]
    listed = manager_client.get(f"/api/v1/projects/{project.pk}/exports").json()["results"]
    assert [e["id"] for e in listed] == [started["export"]]
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"export.created", "export.downloaded"} <= actions


def test_filters_are_validated_before_the_job(manager_client, project, lineage, django_capture_on_commit_callbacks):
    body = start(
        manager_client, project, django_capture_on_commit_callbacks, filters={"state": ["nope"], "x": 1}, expect=400
    )
    assert set(body["error"]["details"]) == {"state", "x"}
    body = start(manager_client, project, django_capture_on_commit_callbacks, fmt="csv", expect=400)
    assert "format" in body["error"]["details"]
    assert not Export.objects.exists() and not Job.objects.exists()


def _crash_on(monkeypatch, target: str, call: int):
    original = getattr(export_services, target)
    calls = {"n": 0}

    def crashing(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == call:
            raise RuntimeError("worker died")
        return original(*args, **kwargs)

    monkeypatch.setattr(export_services, target, crashing)
    return calls


@pytest.mark.parametrize("target", ["_render_chunk", "_advance"])
def test_a_crashed_export_resumes_from_its_checkpoint_without_duplicates(
    manager_client, project, lineage, monkeypatch, django_capture_on_commit_callbacks, target
):
    """A crash while writing page 2 (before or after its part file was stored) fails the job; a retry continues
    after page 1 and the final file has every row exactly once."""
    monkeypatch.setattr(export_services, "CHUNK_ROWS", 2)
    _crash_on(monkeypatch, target, 2)
    started = start(manager_client, project, django_capture_on_commit_callbacks)
    assert manager_client.get(f"/api/v1/jobs/{started['job']}").json()["status"] == "failed"
    export = Export.objects.get(pk=started["export"])
    assert export.status == "failed" and export.chunks_written == 1 and export.row_count == 2
    with django_capture_on_commit_callbacks(execute=True):
        retried = manager_client.post(f"/api/v1/exports/{export.pk}/retry")
    assert retried.status_code == 202 and retried.json()["job"] != started["job"]
    job = manager_client.get(f"/api/v1/jobs/{retried.json()['job']}").json()
    assert job["status"] == "succeeded", job
    lines = parse_ndjson(download(manager_client, job["result"]["download_url"]))
    ids = [line["data_row"]["id"] for line in lines]
    assert len(ids) == 5 and len(set(ids)) == 5 and ids == sorted(ids)
    export.refresh_from_db()
    assert export.chunks_written == 3 and export.part_names == []


def test_rerunning_a_finished_export_returns_the_same_file(
    manager_client, project, lineage, django_capture_on_commit_callbacks, media_root
):
    from apps.exports.tasks import export_job

    started = start(manager_client, project, django_capture_on_commit_callbacks, fmt="coco")
    export = Export.objects.get(pk=started["export"])
    before = (export.file_name, (media_root / export.file_name).stat().st_mtime_ns)
    export_job(started["job"])  # the same task delivered again
    assert export_services.export_run(export_id=export.pk)["file_name"] == export.file_name.rsplit("/", 1)[-1]
    retried = manager_client.post(f"/api/v1/exports/{export.pk}/retry")
    assert retried.status_code == 202 and retried.json()["job"] == started["job"]
    export.refresh_from_db()
    assert (export.file_name, (media_root / export.file_name).stat().st_mtime_ns) == before
    assert Export.objects.count() == 1


def test_a_running_export_cannot_be_retried(manager_client, project, lineage):
    export = Export.objects.create(
        organization=project.organization, project=project, format="ndjson", status="running"
    )
    response = manager_client.post(f"/api/v1/exports/{export.pk}/retry")
    assert response.status_code == 409 and response.json()["error"]["code"] == "export_running"


def test_permissions(
    client_for,
    api_client,
    members,
    project,
    lineage,
    make_user,
    other_org,
    manager_client,
    django_capture_on_commit_callbacks,
):
    started = start(manager_client, project, django_capture_on_commit_callbacks)
    urls = [
        ("post", f"/api/v1/projects/{project.pk}/exports"),
        ("get", f"/api/v1/projects/{project.pk}/exports"),
        ("get", f"/api/v1/exports/{started['export']}"),
        ("get", f"/api/v1/exports/{started['export']}/download"),
        ("post", f"/api/v1/exports/{started['export']}/retry"),
    ]
    stranger = make_user(role="admin", organization=other_org, username="globex-chief")
    for method, url in urls:
        kwargs = {"data": {"format": "ndjson"}, "format": "json"} if method == "post" else {}
        assert getattr(api_client, method)(url, **kwargs).status_code == 401, url
        assert getattr(client_for(members["labeler"]), method)(url, **kwargs).status_code == 403, url
        assert getattr(client_for(stranger), method)(url, **kwargs).status_code == 404, url
    assert Export.objects.count() == 1


def test_download_of_an_unfinished_export_is_409(manager_client, project, lineage):
    export = Export.objects.create(organization=project.organization, project=project, format="ndjson")
    assert manager_client.get(f"/api/v1/exports/{export.pk}/download").status_code == 409
