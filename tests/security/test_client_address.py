"""One trusted-proxy policy (`TDP_TRUSTED_PROXIES`) decides the client address of throttles, the login lockout and
the audit trail: behind N trusted proxies it is the N-th address from the right of X-Forwarded-For; without
trusted proxies the header changes nothing, whatever a client writes into it."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.cache import caches
from django.test import RequestFactory

from apps.core.client_address import client_ip
from apps.core.models import AuditEvent
from apps.core.throttling import ScopedRateThrottle
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db

LIMIT = settings.AXES_FAILURE_LIMIT
BALANCER = "10.0.0.2"


def ip_of(xff: str | None, remote: str = BALANCER) -> str | None:
    meta = {"REMOTE_ADDR": remote}
    if xff is not None:
        meta["HTTP_X_FORWARDED_FOR"] = xff
    return client_ip(RequestFactory().get("/", **meta))


def test_without_trusted_proxies_the_header_is_ignored(settings):
    settings.TDP_TRUSTED_PROXIES = 0
    assert ip_of("203.0.113.9") == BALANCER
    assert ip_of("203.0.113.9, 198.51.100.1") == BALANCER


def test_behind_trusted_proxies_the_nth_address_from_the_right_is_the_client(settings):
    settings.TDP_TRUSTED_PROXIES = 1
    assert ip_of("203.0.113.9") == "203.0.113.9"
    assert ip_of("6.6.6.6, 203.0.113.9") == "203.0.113.9"  # what the client wrote to the left is ignored
    assert ip_of("6.6.6.6,203.0.113.9:51234") == "203.0.113.9"
    assert ip_of("[2001:db8::7]:443") == "2001:db8::7"
    assert ip_of(None) == BALANCER  # not through the proxy chain: the peer itself
    assert ip_of("not-an-address") == BALANCER
    settings.TDP_TRUSTED_PROXIES = 2
    assert ip_of("6.6.6.6, 203.0.113.9, 10.0.0.9") == "203.0.113.9"
    assert ip_of("10.0.0.9") == BALANCER  # shorter than the chain


def token_attempt(api_client, xff: str, remote: str = BALANCER, username: str = "nobody", password: str = "nope"):  # noqa: S107
    return api_client.post(
        "/api/v1/auth/token",
        {"username": username, "password": password},
        format="json",
        REMOTE_ADDR=remote,
        HTTP_X_FORWARDED_FOR=xff,
    )


@pytest.fixture
def auth_rate_3(monkeypatch):
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {**ScopedRateThrottle.THROTTLE_RATES, "auth": "3/minute"})
    caches["throttle"].clear()
    yield
    caches["throttle"].clear()


def test_rotating_forwarded_for_does_not_escape_the_throttle(settings, api_client, auth_rate_3):
    settings.TDP_TRUSTED_PROXIES = 0
    statuses = [token_attempt(api_client, f"198.51.100.{i}", remote="203.0.113.50").status_code for i in range(6)]
    assert statuses[:3] == [401, 401, 401]
    assert statuses[3:] == [429, 429, 429]


def test_behind_one_proxy_clients_are_throttled_apart_and_spoofing_does_not_help(settings, api_client, auth_rate_3):
    settings.TDP_TRUSTED_PROXIES = 1
    spoofed = [token_attempt(api_client, f"1.2.3.{i}, 203.0.113.7").status_code for i in range(5)]
    assert spoofed == [401, 401, 401, 429, 429]  # one client, however it fills the left of the header
    assert token_attempt(api_client, "198.51.100.8").status_code == 401  # another client behind the same balancer


def test_lockout_behind_the_balancer_locks_the_attacker_not_every_user(settings, api_client, org_admin):
    settings.TDP_TRUSTED_PROXIES = 1
    for i in range(LIMIT + 1):
        token_attempt(api_client, f"9.9.9.{i}, 203.0.113.66", username=org_admin.username)
    locked = token_attempt(api_client, "203.0.113.66", username=org_admin.username, password=TEST_PASSWORD)
    assert locked.status_code == 429 and locked.json()["error"]["code"] == "locked_out"
    # The real user, behind the same balancer (same REMOTE_ADDR), from their own address: not locked out.
    mine = token_attempt(api_client, "198.51.100.20", username=org_admin.username, password=TEST_PASSWORD)
    assert mine.status_code == 201


def test_without_trusted_proxies_a_spoofed_header_does_not_dodge_the_lockout(settings, api_client, org_admin):
    settings.TDP_TRUSTED_PROXIES = 0
    for i in range(LIMIT + 1):
        token_attempt(api_client, f"9.9.9.{i}", remote="203.0.113.66", username=org_admin.username)
    locked = token_attempt(
        api_client, "198.51.100.77", remote="203.0.113.66", username=org_admin.username, password=TEST_PASSWORD
    )
    assert locked.status_code == 429


def test_audit_records_the_client_address_behind_the_proxy(settings, api_client, org_admin):
    settings.TDP_TRUSTED_PROXIES = 1
    token_attempt(api_client, "6.6.6.6, 203.0.113.5", username=org_admin.username)
    assert (
        token_attempt(api_client, "203.0.113.5", username=org_admin.username, password=TEST_PASSWORD).status_code == 201
    )
    failed = AuditEvent.objects.get(action="auth.login_failed")
    login = AuditEvent.objects.get(action="auth.login")
    assert failed.ip == "203.0.113.5" and login.ip == "203.0.113.5"
    settings.TDP_TRUSTED_PROXIES = 0
    token_attempt(api_client, "203.0.113.5", remote="192.0.2.44", username="ghost")
    assert AuditEvent.objects.filter(action="auth.login_failed").latest("created_at").ip == "192.0.2.44"
