"""Fault tests against a misbehaving model server (a real process): each fault gives every row a clear recorded
error (never the answer's bytes), rows are retried then failed, the circuit breaker opens and recovers, and nothing
is lost or duplicated."""

from __future__ import annotations

import json
import time
import urllib.request

import pytest

from apps.labeling import services as labeling_services
from apps.ontologies import services as ontology_services
from apps.predictions.models import CircuitState, EndpointRow, ModelEndpoint, Prelabel
from apps.predictions.selectors import endpoint_progress
from apps.predictions.services import endpoints as endpoint_services
from apps.predictions.services.prelabeling import endpoint_dispatch
from tests.predictions.model_servers import FAULTY, host_of, running_server

pytestmark = pytest.mark.django_db(transaction=True)


def _mode(url: str, mode: str) -> None:
    request = urllib.request.Request(f"{url}/__mode", data=json.dumps({"mode": mode}).encode(), method="POST")
    urllib.request.urlopen(request, timeout=5).read()


def _stats(url: str) -> dict:
    return json.loads(urllib.request.urlopen(f"{url}/__stats", timeout=5).read())


def _setup(admin, url, make_rows, count, **values):
    ontology = ontology_services.ontology_create(
        organization=admin.organization,
        name=f"faults-{time.monotonic_ns()}",
        tools=[{"name": "vehicle", "tool": "bbox"}],
        classifications=[],
        actor=admin,
    )
    endpoint = endpoint_services.model_endpoint_create(
        actor=admin,
        values={"name": f"faulty-{time.monotonic_ns()}", "url": url, "ontology": ontology, **values},
    )
    project = labeling_services.project_create(
        actor=admin,
        name=f"faults-{time.monotonic_ns()}",
        ontology=ontology,
        settings={"model": {"prelabel_endpoint": str(endpoint.pk)}},
    )
    rows = make_rows(count, prefix=f"f{time.monotonic_ns()}")
    return endpoint, project, rows


@pytest.fixture
def faulty(settings):
    settings.TDP_ENDPOINT_BACKOFF_SECONDS = 0
    settings.TDP_ENDPOINT_MAX_ATTEMPTS = 2
    settings.TDP_ENDPOINT_BREAKER_FAILURES = 100
    settings.TDP_ENDPOINT_MAX_RESPONSE_BYTES = 8 * 1024 * 1024
    with running_server(FAULTY) as url:
        settings.TDP_OUTBOUND_ALLOWED_HOSTS = [host_of(url)]
        yield url


FAULTS = {
    "timeout": "No answer within the endpoint's timeout of 0.5 s.",
    "500": "The endpoint answered HTTP 500 to POST /predict.",
    "garbage": "The endpoint's answer to POST /predict is not valid JSON (42 bytes).",
    "huge": "The answer is larger than the 8388608 byte cap.",
    "close": "The connection was closed before the answer was complete.",
}


@pytest.mark.parametrize("mode", [*FAULTS, "redirect"])
def test_each_fault_is_recorded_per_row_retried_then_failed(mode, faulty, org_admin, make_rows):
    _mode(faulty, mode)
    endpoint, project, rows = _setup(org_admin, faulty, make_rows, 2, batch_size=1, timeout_seconds=0.5)
    labeling_services.batch_create(actor=org_admin, project=project, name="b", data_row_ids=[str(r.pk) for r in rows])
    endpoint_dispatch(endpoint_id=endpoint.pk)  # what the commit's task did, again: nothing left to send
    states = list(EndpointRow.objects.filter(project=project).values_list("status", "attempts", "error"))
    assert len(states) == 2
    for status, attempts, error in states:
        if mode == "redirect":  # refused by the guard: a configuration error, not retried
            assert (status, attempts) == ("failed", 1)
            assert error.startswith("Refused by the outbound URL guard: The URL points to a non-public address")
        else:
            assert (status, attempts, error) == ("failed", 2, FAULTS[mode])
        assert "SECRET-BODY-MARKER" not in error and "Traceback" not in error
    assert not Prelabel.objects.filter(project=project).exists()
    summary = endpoint_progress(project=project)  # the reasons reach the project's progress, counted
    assert summary["failed"] == 2 and summary["errors"][0]["rows"] == 2 and summary["errors"][0]["status"] == "failed"


def test_the_breaker_opens_half_opens_and_recovers_without_loss_or_duplicates(faulty, settings, org_admin, make_rows):
    settings.TDP_ENDPOINT_MAX_ATTEMPTS = 10
    settings.TDP_ENDPOINT_BREAKER_FAILURES = 3
    settings.TDP_ENDPOINT_BREAKER_SECONDS = 1.0
    _mode(faulty, "500")
    endpoint, project, rows = _setup(org_admin, faulty, make_rows, 6, batch_size=2, max_concurrency=1)
    labeling_services.batch_create(actor=org_admin, project=project, name="b", data_row_ids=[str(r.pk) for r in rows])
    endpoint.refresh_from_db()
    assert endpoint.circuit == CircuitState.OPEN and endpoint.consecutive_failures == 3
    calls = _stats(faulty)["predict_calls"]
    assert calls == 3  # then it stopped calling
    assert EndpointRow.objects.filter(project=project, status="pending").count() == 6  # nothing lost, none failed
    _mode(faulty, "ok")
    assert endpoint_dispatch(endpoint_id=endpoint.pk)["sent"] == 0  # still open: no call
    assert _stats(faulty)["predict_calls"] == calls
    time.sleep(1.1)
    totals = endpoint_dispatch(endpoint_id=endpoint.pk)  # half-open: one probe batch, then closed, then the rest
    endpoint.refresh_from_db()
    assert endpoint.circuit == CircuitState.CLOSED and endpoint.consecutive_failures == 0
    assert totals["answered"] == 6
    assert set(EndpointRow.objects.filter(project=project).values_list("status", "error")) == {("answered", "")}
    sent = _stats(faulty)["rows"]
    assert sorted(sent) == sorted(str(r.pk) for r in rows) and set(sent.values()) == {1}  # each row answered once
    assert Prelabel.objects.filter(project=project).count() == 6
    assert endpoint_dispatch(endpoint_id=endpoint.pk)["sent"] == 0
    assert Prelabel.objects.filter(project=project).count() == 6


def test_a_second_dispatcher_waits_for_the_first(faulty, org_admin, make_rows):
    endpoint, project, rows = _setup(org_admin, faulty, make_rows, 1)
    ModelEndpoint.objects.filter(pk=endpoint.pk).update(lease_until="2999-01-01T00:00:00Z")
    labeling_services.batch_create(actor=org_admin, project=project, name="b", data_row_ids=[str(rows[0].pk)])
    assert EndpointRow.objects.get(project=project).status == "pending"  # the running one will take it
    assert _stats(faulty)["predict_calls"] == 0
