"""End to end with a real `qcluster` and the reference model server as real processes: a batch added through the API
is pre-labeled by the worker (the dispatcher is a django-q2 task), and the progress says so."""

from __future__ import annotations

import pytest
from django_q.conf import Conf

from apps.predictions.models import EndpointRow, Prediction, Prelabel
from tests.core.test_worker import wait_for
from tests.predictions.endpoint_world import endpoint_and_project, scene_rows
from tests.predictions.model_servers import REFERENCE, host_of, running_server
from tests.worker import running_qcluster

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_the_worker_prelabels_a_batch_added_through_the_api(monkeypatch, settings, live_server, org_admin, client_for):
    monkeypatch.setattr(Conf, "SYNC", False)
    rows = scene_rows(org_admin.organization, 4, prefix="w")
    with running_server(REFERENCE) as url:
        host = host_of(url)
        settings.TDP_OUTBOUND_ALLOWED_HOSTS = [host]
        endpoint, project = endpoint_and_project(org_admin, url, batch_size=2)
        env = {"TDP_OUTBOUND_ALLOWED_HOSTS": host, "TDP_PUBLIC_URL": live_server.url}
        with running_qcluster(env) as process:
            client = client_for(org_admin)
            answer = client.post(
                f"/api/v1/projects/{project.id}/batches",
                {"name": "api batch", "data_rows": [str(r.pk) for r in rows]},
                format="json",
            )
            assert answer.status_code == 201, answer.content

            def done():
                return EndpointRow.objects.filter(project=project, status="answered").count() == 4

            try:
                wait_for(done, timeout=90)
            except AssertionError:
                output = process.stdout.read1().decode() if process.stdout else ""
                states = list(EndpointRow.objects.values_list("status", "error"))
                raise AssertionError(f"not pre-labeled by the worker: {states}\n{output}") from None
    assert Prelabel.objects.filter(project=project).exists()
    assert (
        Prediction.objects.filter(model_run__model=endpoint.model).count()
        == Prelabel.objects.filter(project=project).count()
    )
    status = client.get(f"/api/v1/projects/{project.id}/model_status").json()
    assert (status["sent"], status["answered"], status["failed"]) == (4, 4, 0)
