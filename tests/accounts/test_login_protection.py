"""Login protection: lockout after repeated failures (page, admin, token endpoint), password rules, session cookie
flags and the security headers of every answer."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from apps.core.models import AuditEvent
from tests.accounts.test_demo_and_settings import run_prod_settings
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db

LIMIT = settings.AXES_FAILURE_LIMIT
PROD_KEY = "k3J9x-a-real-looking-random-secret-key-0123456789abcdefgh"


def test_login_page_locks_out_after_repeated_failures_even_with_the_right_password(client, org_admin):
    for _ in range(LIMIT - 1):
        assert client.post("/login/", {"username": org_admin.username, "password": "wrong-guess"}).status_code == 200
    locked = client.post("/login/", {"username": org_admin.username, "password": "wrong-guess"})
    assert locked.status_code == 429
    assert "Too many failed logins" in locked.content.decode()
    assert int(locked["Retry-After"]) > 0
    right = client.post("/login/", {"username": org_admin.username, "password": TEST_PASSWORD})
    assert right.status_code == 429
    assert "_auth_user_id" not in client.session
    failed = AuditEvent.objects.filter(action="auth.login_failed", extra__username=org_admin.username)
    assert failed.count() == LIMIT + 1
    assert failed.filter(extra__locked_out=True).count() >= 1
    assert failed.first().organization_id == org_admin.organization_id


def test_lockout_is_per_username_and_address(client, org_admin, make_user, org):
    other = make_user(organization=org, username="bystander")
    for _ in range(LIMIT):
        client.post("/login/", {"username": org_admin.username, "password": "wrong-guess"})
    assert client.post("/login/", {"username": other.username, "password": TEST_PASSWORD}).status_code == 302
    elsewhere = client.post(
        "/login/", {"username": org_admin.username, "password": TEST_PASSWORD}, REMOTE_ADDR="10.9.8.7"
    )
    assert elsewhere.status_code == 302


def test_success_resets_the_failure_count(client, org_admin):
    for _ in range(LIMIT - 1):
        client.post("/login/", {"username": org_admin.username, "password": "wrong-guess"})
    assert client.post("/login/", {"username": org_admin.username, "password": TEST_PASSWORD}).status_code == 302
    client.post("/logout/")
    for _ in range(LIMIT - 1):
        client.post("/login/", {"username": org_admin.username, "password": "wrong-guess"})
    assert client.post("/login/", {"username": org_admin.username, "password": TEST_PASSWORD}).status_code == 302


def test_token_endpoint_locks_out_with_the_house_error_shape(api_client, org_admin):
    for _ in range(LIMIT - 1):
        response = api_client.post(
            "/api/v1/auth/token", {"username": org_admin.username, "password": "nope"}, format="json"
        )
        assert response.status_code == 401
    response = api_client.post(
        "/api/v1/auth/token", {"username": org_admin.username, "password": TEST_PASSWORD}, format="json"
    )
    assert response.status_code == 201  # not yet locked: the limit is reached on the next failure
    for _ in range(LIMIT):
        api_client.post("/api/v1/auth/token", {"username": org_admin.username, "password": "nope"}, format="json")
    locked = api_client.post(
        "/api/v1/auth/token", {"username": org_admin.username, "password": TEST_PASSWORD}, format="json"
    )
    assert locked.status_code == 429
    assert locked.json()["error"]["code"] == "locked_out"
    assert "token" not in locked.json()


def test_admin_login_is_protected_too(client, org_admin):
    for _ in range(LIMIT):
        client.post("/admin/login/", {"username": org_admin.username, "password": "wrong-guess"})
    response = client.post("/admin/login/?next=/admin/", {"username": org_admin.username, "password": TEST_PASSWORD})
    assert response.status_code == 429
    assert AuditEvent.objects.filter(action="auth.login_failed", extra__via="admin").count() == LIMIT + 1


@pytest.mark.parametrize("password", ["short-1A", "password123", "1234567890123", "qwertyuiop"])
def test_weak_passwords_are_refused(password):
    with pytest.raises(ValidationError):
        validate_password(password)


def test_a_long_uncommon_password_is_accepted():
    validate_password("correct-Horse-battery-7")


def test_user_api_refuses_a_short_password(client_for, org_admin):
    response = client_for(org_admin).post(
        "/api/v1/users", {"username": "newbie", "password": "Short-1a"}, format="json"
    )
    assert response.status_code == 400
    assert "password" in response.json()["error"]["details"]


def test_session_cookie_flags(client, org_admin):
    response = client.post("/login/", {"username": org_admin.username, "password": TEST_PASSWORD})
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"


def test_security_headers_on_pages_and_api(client, client_for, org_admin):
    client.force_login(org_admin)
    for response in (client.get("/"), client.get("/login/"), client_for(org_admin).get("/api/v1/me")):
        csp = response["Content-Security-Policy"]
        directives = dict(part.strip().split(" ", 1) for part in csp.split(";"))
        assert directives["script-src"] == "'self'"
        assert "unsafe-inline" not in directives["script-src"]
        assert directives["frame-ancestors"] == "'none'"
        assert directives["object-src"] == "'none'"
        assert response["X-Frame-Options"] == "DENY"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Referrer-Policy"] == "same-origin"


def test_pages_have_no_inline_scripts_or_event_handlers(client, org_admin):
    client.force_login(org_admin)
    for url in ("/", "/login/", "/settings/tokens/", "/password/", "/admin/"):
        html = client.get(url).content.decode()
        assert "<script>" not in html, url
        for handler in (" onclick=", " onchange=", " onload=", " onsubmit="):
            assert handler not in html, url


def test_api_docs_load_their_script_from_a_url_not_inline(client, org_admin):
    client.force_login(org_admin)
    html = client.get("/api/docs/").content.decode()
    assert "<script>" not in html
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200 and "SwaggerUIBundle" in script.content.decode()


def test_prod_settings_send_hsts_and_secure_cookies():
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.SECURE_HSTS_SECONDS, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT)"
    )
    out = run_prod_settings(code, SECRET_KEY=PROD_KEY)
    assert out.returncode == 0, out.stderr
    hsts, session_secure, csrf_secure, redirect = out.stdout.split()
    assert int(hsts) >= 31536000
    assert session_secure == csrf_secure == redirect == "True"


def test_login_page_posts_are_rate_limited_per_address(client, org_admin, make_user, org, monkeypatch):
    from apps.core.throttling import LoginRateThrottle

    monkeypatch.setattr(LoginRateThrottle, "rate", "3/minute", raising=False)
    LoginRateThrottle.cache.clear()
    users = [make_user(organization=org, username=f"sprayed{i}") for i in range(4)]
    statuses = [
        client.post(
            "/login/", {"username": u.username, "password": "Spring2026!"}, REMOTE_ADDR="192.0.2.44"
        ).status_code
        for u in users
    ]
    assert statuses == [200, 200, 200, 429]
    other_address = client.post("/login/", {"username": org_admin.username, "password": TEST_PASSWORD})
    assert other_address.status_code == 302
    LoginRateThrottle.cache.clear()
