"""End to end with a real `qcluster`: a labeler submits through the API; after the commit the worker delivers the
signed `label.created` event to the local receiver."""

from __future__ import annotations

import pytest
from django_q.conf import Conf

from apps.labeling import services as labeling_services
from apps.webhooks import services
from apps.webhooks.models import DeliveryState, WebhookDelivery
from tests.core.test_worker import wait_for
from tests.labeling.conftest import good_label
from tests.worker import running_qcluster

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_submit_reaches_the_receiver_through_the_worker(
    monkeypatch, org, org_admin, project, members, make_rows, client_for, receiver
):
    monkeypatch.setattr(Conf, "SYNC", False)
    hook = services.webhook_create(actor=org_admin, organization=org, url=receiver.url(), events=["label.created"])
    rows = make_rows(1, prefix="worker")
    labeling_services.batch_create(actor=org_admin, project=project, name="w", data_row_ids=[str(rows[0].id)])
    client = client_for(members["labeler"])
    with running_qcluster(extra_env={"TDP_OUTBOUND_ALLOWED_HOSTS": f"127.0.0.1:{receiver.port}"}) as process:
        task = client.post(f"/api/v1/projects/{project.id}/queue/next").json()["task"]
        created = client.post(f"/api/v1/tasks/{task}/labels", {"annotations": good_label()}, format="json")
        assert created.status_code == 201, created.content
        try:
            wait_for(
                lambda: WebhookDelivery.objects.filter(webhook=hook, state=DeliveryState.SUCCEEDED).first(),
                timeout=60,
            )
        except AssertionError:
            output = process.stdout.read1().decode() if process.stdout else ""
            raise AssertionError(f"no delivery from the worker; its output:\n{output}") from None

    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    assert request.headers["X-TDP-Event"] == "label.created" and request.signed_with(hook.secret)
    assert request.json["data"]["id"] == created.json()["id"]
