"""Resilience of the web side: database outages answer 503 + Retry-After, broker outages never fail a stored
write, rate limiting fails open, health endpoints, and the read-replica router."""

from __future__ import annotations

import logging
import sys

import pytest
from django.db import OperationalError, transaction
from django.test import RequestFactory
from django_q.conf import Conf

from apps.core import db_router, queue
from apps.core.db_router import read_alias, reads_from_replica, replica_reads
from apps.core.exceptions import api_exception_handler, handler500


def test_api_database_outage_is_a_503_with_retry_after(settings):
    settings.TDP_DB_UNAVAILABLE_RETRY_AFTER = 7
    response = api_exception_handler(OperationalError("server closed the connection unexpectedly"), {})
    assert response is not None and response.status_code == 503
    assert response["Retry-After"] == "7"
    assert response.data["error"]["code"] == "database_unavailable"
    assert response.data["error"]["details"] == {"retry_after": 7}


@pytest.mark.parametrize(("path", "content_type"), [("/api/v1/me", "application/json"), ("/", "text/html")])
def test_unhandled_database_outage_renders_503_for_api_and_pages(path, content_type, settings):
    settings.TDP_DB_UNAVAILABLE_RETRY_AFTER = 3
    request = RequestFactory().get(path)
    try:
        raise OperationalError("connection refused")
    except OperationalError:
        assert sys.exc_info()[0] is OperationalError
        response = handler500(request)
    assert response.status_code == 503
    assert response["Retry-After"] == "3"
    assert response["Content-Type"].startswith(content_type)


def test_other_errors_stay_500():
    request = RequestFactory().get("/api/v1/me")
    try:
        raise ValueError("bug")
    except ValueError:
        response = handler500(request)
    assert response.status_code == 500


def test_enqueue_logs_and_returns_none_when_the_broker_is_down(monkeypatch, caplog):
    def broker_down(*args, **kwargs):
        raise ConnectionError("Connection refused")

    monkeypatch.setattr(Conf, "SYNC", False)
    monkeypatch.setattr(queue, "async_task", broker_down)
    with caplog.at_level(logging.ERROR, logger="tdp.queue"):
        assert queue.enqueue("apps.core.tasks.add", 1, 2, task_name="adding") is None
    assert "Could not enqueue apps.core.tasks.add" in caplog.text and "adding" in caplog.text
    with pytest.raises(queue.EnqueueFailed):
        queue.enqueue_strict("apps.core.tasks.add", 1, 2)


def test_sync_mode_lets_task_errors_through(monkeypatch):
    monkeypatch.setattr(queue, "async_task", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("task bug")))
    with pytest.raises(RuntimeError):
        queue.enqueue("apps.core.tasks.add", 1, 2)


@pytest.mark.django_db
def test_throttling_fails_open_when_its_cache_is_down(monkeypatch, org_admin, client_for):
    from apps.core import throttling

    def down(*args, **kwargs):
        raise ConnectionError("redis down")

    monkeypatch.setattr(throttling.UserRateThrottle.cache, "get", down)
    assert client_for(org_admin).get("/api/v1/me").status_code == 200


@pytest.mark.django_db
def test_health_endpoints(client):
    assert client.get("/healthz/live").json() == {"status": "ok"}
    ready = client.get("/healthz/ready")
    assert ready.status_code == 200
    assert set(ready.json()["checks"]) == {"database", "broker"}


@pytest.mark.django_db
def test_readiness_is_503_when_the_database_is_down(client, monkeypatch):
    from apps.core import health

    monkeypatch.setattr(health, "database_status", lambda: {"ok": False, "error": "OperationalError"})
    response = client.get("/healthz/ready")
    assert response.status_code == 503 and response["Retry-After"]


# --- read replica router ---------------------------------------------------------------------------------------


@pytest.fixture
def with_replica(monkeypatch):
    """As if `DATABASE_REPLICA_URL` configured a `replica` alias (only the routing decision is under test)."""
    monkeypatch.setattr(db_router, "replica_configured", lambda: True)


def test_without_a_replica_everything_reads_default(transactional_db):
    with replica_reads():
        assert read_alias() == "default"
        assert db_router.ReplicaRouter().db_for_read(None) is None


def test_replica_reads_only_inside_the_marked_selector_and_outside_transactions(transactional_db, with_replica):
    assert read_alias() == "default"
    with replica_reads():
        assert read_alias() == "replica"
        assert db_router.ReplicaRouter().db_for_read(None) == "replica"
        with transaction.atomic():  # read-your-writes: a transaction reads where it writes
            assert read_alias() == "default"
    assert db_router.ReplicaRouter().db_for_write(None) is None
    assert db_router.ReplicaRouter().allow_migrate("replica", "core") is False


def test_decorated_generator_reads_from_the_replica_only_while_it_steps(transactional_db, with_replica):
    @reads_from_replica
    def pages():
        yield read_alias()
        yield read_alias()

    seen = []
    for alias in pages():
        seen.append((alias, read_alias()))
    assert seen == [("replica", "default"), ("replica", "default")]

    @reads_from_replica
    def one():
        return read_alias()

    assert one() == "replica" and read_alias() == "default"
