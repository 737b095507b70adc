"""Asynchronous training, followed: the reference server (a real process) answers the training call with a job
(`--async-train S`: TDP `202 {"job_id", "status_url"}`, Label Studio `{"job"}`), the platform records it and the
"retraining jobs poll" schedule polls it with backoff until done (the version it reports is linked to the snapshot),
failed, or given up after `TDP_RETRAIN_FOLLOW_SECONDS`. Polls are made due by hand (the schedule's clock)."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_q.models import Schedule

from apps.predictions import tasks
from apps.predictions.models import ModelRun, RetrainCall
from apps.predictions.services.endpoint_client import Called
from apps.predictions.services.retrain_follow import async_job, poll_delay, retrain_poll
from tests.predictions.model_servers import REFERENCE, host_of, running_server
from tests.predictions.test_endpoint_retrain import _label_one, _world

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def served(settings, live_server):
    settings.TDP_PUBLIC_URL = live_server.url
    settings.TDP_RETRAIN_POLL_SECONDS = 30
    settings.TDP_RETRAIN_POLL_MAX_SECONDS = 900
    return live_server


def _due(retrain: RetrainCall) -> None:
    RetrainCall.objects.filter(pk=retrain.pk).update(next_poll_at=timezone.now() - timedelta(seconds=1))


def _wait_until_the_job_ends(retrain: RetrainCall, seconds: float = 20.0) -> RetrainCall:
    """Poll (through the schedule's tick) until the call leaves `training`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        _due(retrain)
        assert tasks.retrain_polls_tick() == 1  # the tick enqueues the due poll (run inline here)
        retrain.refresh_from_db()
        if retrain.status != "training":
            return retrain
        time.sleep(0.2)
    raise AssertionError(f"still training after {seconds} s: {retrain.job_status} {retrain.error}")


@pytest.mark.django_db  # not transactional: the schedule the migration made is still there
def test_the_poll_schedule_runs_every_minute():
    schedule = Schedule.objects.get(func="apps.predictions.tasks.retrain_polls_tick")
    assert schedule.schedule_type == Schedule.MINUTES and schedule.minutes == 1 and schedule.repeats == -1


def test_a_tdp_training_job_is_followed_until_done(served, settings, org_admin, client_for):
    with running_server(REFERENCE, "--async-train", "0.5") as url:
        settings.TDP_OUTBOUND_ALLOWED_HOSTS = [host_of(url)]
        _endpoint, project = _world(org_admin, url, after=None, rows=2)
        api = client_for(org_admin)
        answer = api.post(f"/api/v1/projects/{project.id}/model_retrain", format="json")
        assert answer.status_code == 202, answer.content
        started = answer.json()
        assert started["status"] == "training" and started["model_version"] is None
        assert started["job"]["id"] and started["job"]["polls"] == 0 and started["job"]["status"] == "started"
        retrain = RetrainCall.objects.get(pk=started["id"])
        assert retrain.status_path == f"/train/{retrain.job_id}"
        waited = (retrain.next_poll_at - retrain.called_at).total_seconds()
        assert 29 <= waited <= 31  # the first poll after TDP_RETRAIN_POLL_SECONDS
        assert tasks.retrain_polls_tick() == 0  # not due yet

        # A poll while the job runs: still training, the next poll backs off (30 s → 60 s).
        _due(retrain)
        assert retrain_poll(retrain.pk) == "training"
        retrain.refresh_from_db()
        assert (retrain.polls, retrain.job_status) == (1, "training")
        assert 59 <= (retrain.next_poll_at - timezone.now()).total_seconds() <= 61
        assert retrain_poll(retrain.pk) is None  # not due: a second delivery does nothing

        page = Client()
        page.force_login(org_admin)
        html = page.get(reverse("predictions:project", args=[project.id])).content.decode()
        assert "training</strong>: training · 1 poll(s)" in html

        retrain = _wait_until_the_job_ends(retrain)
        assert (retrain.status, retrain.error, retrain.job_status) == ("ok", "", "done")
        assert retrain.model_version == "colour-components-2" and retrain.finished_at is not None
        run = ModelRun.objects.get(pk=retrain.model_run_id)
        assert run.config["trained_model_version"] == "colour-components-2"
        assert run.config["training_job"] == retrain.job_id
        listed = api.get(f"/api/v1/projects/{project.id}/model_retrain").json()["results"][0]
        assert listed["status"] == "ok" and listed["model_version"] == "colour-components-2"
        assert listed["job"]["finished_at"] and listed["job"]["next_poll_at"] is None
        html = page.get(reverse("predictions:project", args=[project.id])).content.decode()
        assert "trained" in html and "colour-components-2" in html


def test_a_failed_training_job_is_recorded_in_words(served, settings, org_admin):
    with running_server(REFERENCE, "--async-train", "0", "--train-fail") as url:
        settings.TDP_OUTBOUND_ALLOWED_HOSTS = [host_of(url)]
        _endpoint, project = _world(org_admin, url, after=1, rows=1)
        _label_one(org_admin, project, 0)  # the automatic call
        retrain = RetrainCall.objects.get(project=project)
        assert retrain.status == "training"
        retrain = _wait_until_the_job_ends(retrain)
        assert retrain.status == "failed" and retrain.job_status == "failed"
        assert retrain.error == (
            "The training job failed: RuntimeError: the fit diverged (server started with --train-fail)"
        )
        run = ModelRun.objects.get(pk=retrain.model_run_id)
        assert "trained_model_version" not in run.config


def test_polls_that_fail_back_off_and_the_platform_gives_up(served, settings, org_admin):
    with running_server(REFERENCE, "--async-train", "3600") as url:
        settings.TDP_OUTBOUND_ALLOWED_HOSTS = [host_of(url)]
        _endpoint, project = _world(org_admin, url, after=1, rows=1)
        _label_one(org_admin, project, 0)
        retrain = RetrainCall.objects.get(project=project)
        assert retrain.status == "training"
    # The server is gone: a poll that fails is counted, its reason kept, and retried later (not a failure yet).
    _due(retrain)
    assert retrain_poll(retrain.pk) == "training"
    retrain.refresh_from_db()
    assert retrain.polls == 1 and retrain.job_status == "started"
    assert retrain.error == "Last poll: The endpoint could not be reached (connection refused or no route)."
    _due(retrain)
    retrain_poll(retrain.pk)
    retrain.refresh_from_db()
    assert retrain.polls == 2 and 119 <= (retrain.next_poll_at - timezone.now()).total_seconds() <= 121

    # Past the follow limit (24 h after the call by default): given up, in words.
    RetrainCall.objects.filter(pk=retrain.pk).update(called_at=timezone.now() - timedelta(hours=24, seconds=1))
    _due(retrain)
    assert retrain_poll(retrain.pk) == "failed"
    retrain.refresh_from_db()
    assert retrain.error.startswith("Gave up following the training job after 3 poll(s) over 24 h")
    assert retrain.next_poll_at is None and retrain.finished_at is not None
    assert tasks.retrain_polls_tick() == 0


def test_a_label_studio_backend_training_job_is_followed(served, settings, org_admin):
    with running_server(REFERENCE, "--async-train", "0.3") as url:
        settings.TDP_OUTBOUND_ALLOWED_HOSTS = [host_of(url)]
        _endpoint, project = _world(org_admin, url, after=1, protocol="label_studio", rows=1)
        _label_one(org_admin, project, 0)
        retrain = RetrainCall.objects.get(project=project)
        assert (retrain.status, retrain.status_path) == ("training", "/job_status")
        retrain = _wait_until_the_job_ends(retrain)
        assert (retrain.status, retrain.job_status) == ("ok", "finished")
        # /job_status carries no version: it is read from /setup once the job finished.
        assert retrain.model_version == "colour-components-2"


def test_the_training_answer_is_read_strictly(settings):
    from apps.predictions.models import ModelEndpoint
    from apps.predictions.services.endpoint_client import EndpointCallError

    endpoint = ModelEndpoint(name="m", url="http://models.example/v1", protocol="tdp")
    assert async_job(endpoint, Called(200, {"status": "trained", "model_version": "3"}, 1.0)) is None
    assert async_job(endpoint, Called(200, {"status": "started"}, 1.0)) is None  # no job id: nothing to follow
    assert async_job(endpoint, Called(202, {"job_id": 7}, 1.0)) == ("7", "/train/7")
    absolute = {"status": "queued", "job_id": "j", "status_url": "http://models.example/v1/jobs/j"}
    assert async_job(endpoint, Called(200, absolute, 1.0)) == ("j", "/jobs/j")
    for elsewhere in ("http://10.0.0.1/jobs/j", "//evil.example/j", "jobs/j"):
        with pytest.raises(EndpointCallError, match="not under the endpoint's base URL"):
            async_job(endpoint, Called(202, {"job_id": "j", "status_url": elsewhere}, 1.0))
    settings.TDP_RETRAIN_POLL_SECONDS, settings.TDP_RETRAIN_POLL_MAX_SECONDS = 30, 900
    assert [poll_delay(n) for n in (0, 1, 2, 5, 40)] == [30, 60, 120, 900, 900]
