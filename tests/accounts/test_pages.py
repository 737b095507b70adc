"""Server-rendered account pages work without JavaScript and escape user text."""

import pytest

from apps.core.models import AuditEvent
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db


def test_home_requires_login(client):
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_login_logout_and_home_page(client, org_admin):
    response = client.post("/login/", {"username": org_admin.username, "password": TEST_PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/"
    home = client.get("/")
    assert home.status_code == 200
    assert "My projects" in home.content.decode()
    assert AuditEvent.objects.filter(action="auth.login", actor=org_admin).exists()
    assert client.post("/logout/").status_code == 302
    assert client.get("/").status_code == 302


def test_failed_login_shows_an_error_and_is_audited(client, org_admin):
    response = client.post("/login/", {"username": org_admin.username, "password": "wrong"})
    assert response.status_code == 200
    assert "correct username and password" in response.content.decode()
    assert AuditEvent.objects.filter(action="auth.login_failed", extra__username=org_admin.username).exists()


def test_password_change(client, org, make_user):
    user = make_user(organization=org, username="pat")
    client.force_login(user)
    response = client.post(
        "/password/",
        {"old_password": TEST_PASSWORD, "new_password1": "A-new-pass-4567", "new_password2": "A-new-pass-4567"},
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("A-new-pass-4567")


def test_user_text_is_escaped(client, org, make_user):
    user = make_user(organization=org, username="xss", first_name="<script>alert(1)</script>")
    client.force_login(user)
    html = client.get("/").content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_audit_events_api_filters_and_stays_in_the_organization(org_admin, other_org, client_for, client):
    client.post("/login/", {"username": org_admin.username, "password": TEST_PASSWORD})
    body = client_for(org_admin).get("/api/v1/audit_events?action=auth.login").json()
    assert [e["action"] for e in body["results"]] == ["auth.login"]
    assert body["results"][0]["actor"]["username"] == org_admin.username
    globex_admin = other_org.users.get(role="admin")
    other = client_for(globex_admin).get("/api/v1/audit_events").json()["results"]
    assert all(e["actor"] is None or e["actor"]["username"] != org_admin.username for e in other)
    assert client_for(org_admin).get("/api/v1/audit_events?from=yesterday").status_code == 400
