"""Kept-alive connections to model endpoints (`ConnectionPools`) and the dispatcher's pipeline, against the fault
server running as a real process: a connection is reused while answers are read whole, replaced after a fault, never
reused past a guard refusal or to an address the host no longer resolves to; the dispatcher's workers keep one
connection each, every row is answered once, and a breaker that opens stops the queued calls."""

from __future__ import annotations

import json
import urllib.request

import pytest

from apps.core import url_safety
from apps.core.url_safety import ConnectionPools, FetchFailed, UnsafeURL, safe_fetch
from apps.labeling import services as labeling_services
from apps.predictions.models import EndpointRow, Prelabel
from tests.predictions.model_servers import FAULTY, host_of, running_server
from tests.predictions.test_endpoint_faults import _mode, _setup


def _stats(url: str) -> dict:
    return json.loads(urllib.request.urlopen(f"{url}/__stats", timeout=5).read())


@pytest.fixture
def server(settings):
    with running_server(FAULTY) as url:
        settings.TDP_OUTBOUND_ALLOWED_HOSTS = [host_of(url)]
        yield url


def test_a_connection_is_reused_and_replaced_after_a_fault(server, settings):
    pools = ConnectionPools()
    try:
        for _ in range(5):
            assert safe_fetch(f"{server}/health", pools=pools).status == 200
        (pool,) = pools._pools.values()
        assert pool.num_connections == 1

        # An answer read whole (an HTTP 500 too) leaves the connection reusable: three calls, one connection.
        _mode(server, "500")
        for _ in range(3):
            assert safe_fetch(f"{server}/predict", method="POST", body=b"{}", pools=pools).status == 500
        assert _stats(server)["predict_connections"] == 1

        # A body left unread (too large, cut short) is never read by the next request: that connection is dropped
        # and the next call gets a new one and a clean answer.
        for mode in ("huge", "close"):
            _mode(server, mode)
            with pytest.raises(FetchFailed):
                safe_fetch(f"{server}/predict", method="POST", body=b"{}", max_bytes=1024 * 1024, pools=pools)
            _mode(server, "500")
            answer = safe_fetch(f"{server}/predict", method="POST", body=b"{}", pools=pools)
            assert answer.status == 500 and answer.body.startswith(b'{"detail"')
        assert _stats(server)["predict_connections"] == 3

        # The guard is asked at every fetch: a kept connection does not outlive the allow-list.
        settings.TDP_OUTBOUND_ALLOWED_HOSTS = []
        with pytest.raises(UnsafeURL):
            safe_fetch(f"{server}/health", pools=pools)
    finally:
        pools.close()


def test_a_host_that_resolves_elsewhere_gets_a_new_checked_connection(settings, monkeypatch):
    settings.TDP_OUTBOUND_ALLOWED_HOSTS = []
    addresses = iter(["93.184.216.34", "10.0.0.7"])
    monkeypatch.setattr(url_safety, "_resolve", lambda host, port: [url_safety.ipaddress.ip_address(next(addresses))])
    pools = ConnectionPools()
    first = url_safety.validate_outbound_url("http://models.example.com/predict")
    assert pools.get(first).host == "93.184.216.34"
    with pytest.raises(UnsafeURL, match="non-public address"):  # rebinding to a private address: refused first
        url_safety.validate_outbound_url("http://models.example.com/predict")
    pools.close()


@pytest.mark.django_db(transaction=True)
def test_the_workers_keep_their_connections_and_answer_each_row_once(server, settings, org_admin, make_rows):
    settings.TDP_ENDPOINT_BACKOFF_SECONDS = 0
    _endpoint, project, rows = _setup(org_admin, server, make_rows, 40, batch_size=2, max_concurrency=4)
    labeling_services.batch_create(actor=org_admin, project=project, name="b", data_row_ids=[str(r.pk) for r in rows])
    stats = _stats(server)
    assert stats["predict_calls"] == 20
    assert 1 <= stats["predict_connections"] <= 4  # one kept-alive connection per worker at most
    assert set(stats["rows"].values()) == {1} and len(stats["rows"]) == 40
    assert set(EndpointRow.objects.filter(project=project).values_list("status", flat=True)) == {"answered"}
    assert Prelabel.objects.filter(project=project).count() == 40


@pytest.mark.django_db(transaction=True)
def test_a_breaker_that_opens_stops_the_queued_calls(server, settings, org_admin, make_rows):
    settings.TDP_ENDPOINT_BACKOFF_SECONDS = 0
    settings.TDP_ENDPOINT_MAX_ATTEMPTS = 10
    settings.TDP_ENDPOINT_BREAKER_FAILURES = 3
    settings.TDP_ENDPOINT_BREAKER_SECONDS = 60
    _mode(server, "500")
    endpoint, project, rows = _setup(org_admin, server, make_rows, 60, batch_size=2, max_concurrency=4)
    labeling_services.batch_create(actor=org_admin, project=project, name="b", data_row_ids=[str(r.pk) for r in rows])
    endpoint.refresh_from_db()
    assert endpoint.circuit == "open"
    # Up to 3 failures open it; calls already running when it opened may finish (at most max_concurrency - 1 more).
    calls = _stats(server)["predict_calls"]
    assert 3 <= calls <= 6
    states = EndpointRow.objects.filter(project=project)
    assert states.count() == 60 and set(states.values_list("status", flat=True)) == {"pending"}  # none lost
    # Only calls made count as attempts (2 rows each): rows claimed and queued but never sent were given back.
    assert sum(states.values_list("attempts", flat=True)) == 2 * calls
