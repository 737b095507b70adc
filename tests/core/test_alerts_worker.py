"""End to end with a real `qcluster`: a burst of denied API requests is recorded by the request path, evaluated by
the worker after commit, and becomes an alert row with the org admins emailed (by the worker's mail backend)."""

from __future__ import annotations

import time
import uuid

import pytest
from django_q.conf import Conf

from apps.core.models import Alert, AlertRule, AuditEvent
from tests.core.test_worker import wait_for
from tests.worker import running_qcluster

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_denied_request_burst_becomes_an_alert_in_the_worker(
    monkeypatch, settings, org, org_admin, make_user, client_for
):
    monkeypatch.setattr(Conf, "SYNC", False)
    settings.TDP_ALERT_CHECK_DEBOUNCE_SECONDS = 1
    org_admin.email = "security@acme.test"
    org_admin.save()
    AlertRule.objects.filter(organization=org, kind="denied_requests").update(threshold=4, window_minutes=10)
    prober = make_user(organization=org, username="worker-prober")
    client = client_for(prober)
    with running_qcluster() as process:
        for _ in range(4):
            assert client.get(f"/api/v1/datasets/{uuid.uuid4()}").status_code == 404
        time.sleep(1.2)  # past the debounce: this one is evaluated whatever the worker saw before
        assert client.get(f"/api/v1/labels/{uuid.uuid4()}").status_code == 404
        assert Alert.objects.count() <= 1
        try:
            alert = wait_for(lambda: Alert.objects.filter(actor=prober, emailed_to=1).first(), timeout=90)
        except AssertionError:
            output = process.stdout.read1().decode() if process.stdout else ""
            raise AssertionError(f"no alert from the worker; its output:\n{output}") from None
    assert alert.kind == "denied_requests" and alert.count >= 4 and alert.organization == org
    assert Alert.objects.filter(actor=prober).count() == 1
    assert AuditEvent.objects.filter(action="api.denied", actor=prober).count() == 5
    assert AuditEvent.objects.filter(action="alert.raised", object_id=str(alert.pk)).count() == 1
