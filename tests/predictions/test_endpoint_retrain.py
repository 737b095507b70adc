"""The retraining hook against the reference model server running as a real process: after N new done labels (a
coalesced task after each submit) or on demand, the endpoint's training URL is called with a signed, expiring link
to the `training_data` snapshot, which the server fetches from the live server; each call is recorded.

django-q2 runs tasks inline here (sync): the check runs when the submit commits, the call when the request does."""

from __future__ import annotations

import orjson
import pytest
from django.test import Client
from django.urls import reverse

from apps.diagnostics.models import GroundTruth
from apps.diagnostics.training_links import training_link
from apps.labeling import services as labeling_services
from apps.ontologies import services as ontology_services
from apps.predictions.models import ModelRun, RetrainCall
from apps.predictions.services import endpoints as endpoint_services
from tests.predictions.endpoint_world import TOOLS, scene_rows
from tests.predictions.model_servers import REFERENCE, host_of, running_server

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def served(settings, live_server):
    settings.TDP_PUBLIC_URL = live_server.url
    return live_server


def _world(admin, url, *, after=2, protocol="tdp", rows=3):
    ontology = ontology_services.ontology_create(
        organization=admin.organization, name="street", tools=TOOLS, classifications=[], actor=admin
    )
    endpoint = endpoint_services.model_endpoint_create(
        actor=admin,
        values={"name": "trainable", "url": url, "ontology": ontology, "protocol": protocol, "secret": "Token s3"},
    )
    project = labeling_services.project_create(
        actor=admin,
        name="Street",
        ontology=ontology,
        settings={
            "review": {"sample_rate": 0.0},
            "model": {"retrain_endpoint": str(endpoint.pk), "retrain_after": after},
        },
    )
    data = scene_rows(admin.organization, rows, prefix=f"train-{protocol}")
    labeling_services.batch_create(actor=admin, project=project, name="b1", data_row_ids=[str(r.pk) for r in data])
    return endpoint, project


def _label_one(admin, project, index):
    task = labeling_services.queue_claim(actor=admin, project=project)
    assert task is not None
    box = {"name": "vehicle", "bbox": {"left": 10 + index, "top": 20, "width": 30, "height": 40}}
    return labeling_services.label_submit(actor=admin, task=task, annotations=[box])


def test_after_n_done_labels_the_training_url_gets_the_snapshot(served, settings, org_admin, client_for):
    with running_server(REFERENCE, "--token", "Token s3") as url:
        settings.TDP_OUTBOUND_ALLOWED_HOSTS = [host_of(url)]
        _endpoint, project = _world(org_admin, url, after=2)
        _label_one(org_admin, project, 0)
        assert not RetrainCall.objects.filter(project=project).exists()  # 1 < 2
        _label_one(org_admin, project, 1)
        calls = list(RetrainCall.objects.filter(project=project))
        assert len(calls) == 1, [(c.status, c.error) for c in calls]
        first = calls[0]
        assert (first.trigger, first.status, first.error) == ("auto", "ok", "")
        assert first.label_count == 2 and first.rows == 2
        # The server read the snapshot through the signed link (it counts the rows it got) and reports a new version.
        assert first.model_version == "colour-components-2"
        run = ModelRun.objects.get(pk=first.model_run_id)
        assert run.config["trained_model_version"] == "colour-components-2"
        assert GroundTruth.objects.filter(model_run=run).count() == 2
        _label_one(org_admin, project, 2)
        assert RetrainCall.objects.filter(project=project).count() == 1  # 1 new done label since the call: not yet

        client = client_for(org_admin)
        answer = client.post(f"/api/v1/projects/{project.id}/model_retrain", format="json")
        assert answer.status_code == 202, answer.content
        assert answer.json()["trigger"] == "manual"
        second = RetrainCall.objects.get(pk=answer.json()["id"])
        assert (second.status, second.rows, second.label_count) == ("ok", 3, 3)
        assert second.model_version == "colour-components-3" and second.requested_by == org_admin
        listed = client.get(f"/api/v1/projects/{project.id}/model_retrain").json()["results"]
        assert [c["id"] for c in listed] == [second.pk, first.pk]
        assert listed[0]["model_version"] == "colour-components-3" and listed[1]["trigger"] == "auto"
        body = client.post(f"/api/v1/projects/{project.id}/model_retrain", {"x": 1}, format="json")
        assert body.status_code == 400 and body.json()["error"]["code"]

        # The page shows the calls; the secret appears nowhere.
        page = Client()
        page.force_login(org_admin)
        shown = page.get(reverse("predictions:project", args=[project.id]))
        assert shown.status_code == 200
        html = shown.content.decode()
        assert "colour-components-3" in html and "Retrain now" in html
        assert "s3" not in str(listed) and "Token s3" not in html


def test_the_training_link_is_signed_and_expires(served, settings, org_admin, client):
    with running_server(REFERENCE) as url:
        settings.TDP_OUTBOUND_ALLOWED_HOSTS = [host_of(url)]
        _endpoint, project = _world(org_admin, url, after=1, rows=1)
        _label_one(org_admin, project, 0)
        retrain = RetrainCall.objects.get(project=project)
        assert retrain.status == "ok", retrain.error
        run = ModelRun.objects.get(pk=retrain.model_run_id)
        link, _expires = training_link(run)
        path = link[len(served.url) :]
        got = client.get(path)
        assert got.status_code == 200 and got["Content-Type"] == "application/x-ndjson"
        lines = [orjson.loads(line) for line in b"".join(got.streaming_content).splitlines()]
        assert len(lines) == 1 and lines[0]["annotations"][0]["bbox"]["left"] == 10
        assert client.get(path[:-2] + "xx").status_code == 404
        settings.TDP_TRAINING_LINK_TTL_SECONDS = -1
        assert client.get(path).status_code == 404


def test_label_studio_backends_get_a_start_training_webhook(served, settings, org_admin):
    with running_server(REFERENCE) as url:
        settings.TDP_OUTBOUND_ALLOWED_HOSTS = [host_of(url)]
        _endpoint, project = _world(org_admin, url, after=1, protocol="label_studio", rows=1)
        _label_one(org_admin, project, 0)
        retrain = RetrainCall.objects.get(project=project)
        assert (retrain.status, retrain.error, retrain.rows) == ("ok", "", 1)
        assert retrain.model_version == "colour-components-2"


def test_a_failed_call_is_recorded_in_words_and_settings_are_checked(settings, org_admin, client_for):
    settings.TDP_OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1:9"]
    _endpoint, project = _world(org_admin, "http://127.0.0.1:9", after=1, rows=1)
    _label_one(org_admin, project, 0)
    retrain = RetrainCall.objects.get(project=project)
    assert retrain.status == "failed"
    assert retrain.error == "The endpoint could not be reached (connection refused or no route)."
    client = client_for(org_admin)
    embedder = endpoint_services.model_endpoint_create(
        actor=org_admin, values={"name": "vectors", "url": "http://127.0.0.1:9", "kind": "embedder"}
    )
    for bad, path in (
        ({"retrain_endpoint": str(embedder.pk)}, "model.retrain_endpoint"),
        ({"retrain_after": 0}, "model.retrain_after"),
        ({"retrain_after": "5"}, "model.retrain_after"),
    ):
        answer = client.patch(f"/api/v1/projects/{project.id}", {"model": bad}, format="json")
        assert answer.status_code == 400 and path in answer.json()["error"]["details"], answer.content
    client.patch(f"/api/v1/projects/{project.id}", {"model": {"retrain_endpoint": None}}, format="json")
    assert client.post(f"/api/v1/projects/{project.id}/model_retrain").status_code == 409


def test_labels_done_through_review_approval_count(served, settings, org_admin, make_user):
    from apps.review import services as review_services

    with running_server(REFERENCE) as url:
        settings.TDP_OUTBOUND_ALLOWED_HOSTS = [host_of(url)]
        _endpoint, project = _world(org_admin, url, after=1, rows=1)
        labeling_services.project_update(
            actor=org_admin, project=project, data={"settings": {"review": {"sample_rate": 1.0}}}
        )
        label = _label_one(org_admin, project, 0)
        assert not RetrainCall.objects.filter(project=project).exists()  # in review: not done yet
        reviewer = make_user(role="reviewer", organization=org_admin.organization, username="rita")
        labeling_services.project_member_set(actor=org_admin, project=project, user=reviewer, role="reviewer")
        task = review_services.review_claim(actor=reviewer, project=project)
        assert task is not None
        review_services.review_decide(actor=reviewer, label=label, decision="approve")
        retrain = RetrainCall.objects.get(project=project)
        assert (retrain.trigger, retrain.status, retrain.label_count, retrain.rows) == ("auto", "ok", 1, 1)
