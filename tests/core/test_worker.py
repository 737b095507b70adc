"""A real `qcluster` process picks up tasks and jobs enqueued by the web side."""

import time

import pytest
from django_q.conf import Conf
from django_q.tasks import async_task, result

from apps.core.jobs import job_create_and_enqueue
from apps.core.models import Job
from tests.worker import running_qcluster

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def wait_for(predicate, timeout: float = 60.0, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("condition not met in time")


def test_qcluster_runs_a_task_and_a_job_and_reports_healthy(monkeypatch, org_admin, client):
    monkeypatch.setattr(Conf, "SYNC", False)
    with running_qcluster() as process:
        task_id = async_task("apps.core.tasks.add", 2, 40)
        assert result(task_id, wait=60_000) == 42, process.stdout.read1().decode() if process.stdout else ""

        job = job_create_and_enqueue(user=org_admin, kind="echo", func="apps.core.tasks.echo_job", params={"count": 10})
        finished = wait_for(lambda: Job.objects.filter(pk=job.pk, status=Job.Status.SUCCEEDED).first())
        assert finished.result == {"sum": 55}
        assert (finished.progress_done, finished.progress_total) == (10, 10)

        def healthy():
            response = client.get("/healthz")
            return response.status_code == 200 and response.json()["checks"]["worker"]["clusters"] >= 1

        wait_for(healthy, timeout=30)

    # With the worker gone, health reports degraded once its heartbeat expires from the shared cache.
    from django.core.cache import cache

    cache.clear()
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["worker"]["ok"] is False


def test_job_api_reports_status_and_progress(org_admin, client_for):
    job = job_create_and_enqueue(user=org_admin, kind="echo", func="apps.core.tasks.echo_job", params={"count": 3})
    body = client_for(org_admin).get(f"/api/v1/jobs/{job.id}").json()
    assert body["status"] == "succeeded"  # sync mode in tests: ran at commit
    assert body["progress"] == {"done": 3, "total": 3}
    assert body["result"] == {"sum": 6} and body["error"] is None


def test_a_job_delivered_twice_runs_once(org_admin):
    from apps.core.tasks import echo_job

    job = job_create_and_enqueue(user=org_admin, kind="echo", func="apps.core.tasks.echo_job", params={"count": 2})
    job.refresh_from_db()
    finished_at = job.finished_at
    echo_job(str(job.id))
    job.refresh_from_db()
    assert job.finished_at == finished_at
