"""API tokens: several named tokens per user, the key shown once and stored hashed, expiry (401 once expired),
last-used time, revocation by the owner and by org admins (members' tokens), the settings page."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from apps.accounts import services
from apps.accounts.authentication import LAST_USED_RESOLUTION
from apps.accounts.models import ApiToken
from apps.accounts.roles import OrgRole
from apps.core.models import AuditEvent

pytestmark = pytest.mark.django_db


def token_client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_create_several_named_tokens_key_shown_once_and_stored_hashed(client_for, org, make_user):
    user = make_user(organization=org, username="pipeline")
    api = client_for(user)
    first = api.post("/api/v1/tokens", {"name": "CI export"}, format="json")
    second = api.post("/api/v1/tokens", {"name": "notebook"}, format="json")
    assert first.status_code == second.status_code == 201
    key = first.json()["key"]
    assert first["Cache-Control"] == "no-store"
    stored = ApiToken.objects.get(pk=first.json()["id"])
    assert stored.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key not in {stored.key_hash, stored.prefix} and stored.prefix == key[:8]
    listed = api.get("/api/v1/tokens").json()["results"]
    assert {"CI export", "notebook"} <= {t["name"] for t in listed}
    assert all("key" not in t for t in listed)
    assert token_client(key).get("/api/v1/me").json()["username"] == "pipeline"
    created = AuditEvent.objects.filter(action="api_token.created", object_id=str(stored.pk)).get()
    assert created.actor == user and created.organization == org


def test_token_input_is_validated(client_for, org_admin):
    api = client_for(org_admin)
    assert api.post("/api/v1/tokens", {}, format="json").status_code == 400
    assert api.post("/api/v1/tokens", {"name": "x" * 101}, format="json").status_code == 400
    past = (timezone.now() - timedelta(hours=1)).isoformat()
    response = api.post("/api/v1/tokens", {"name": "old", "expires_at": past}, format="json")
    assert response.status_code == 400 and "expires_at" in response.json()["error"]["details"]
    assert api.post("/api/v1/tokens", {"name": "a", "scope": "all"}, format="json").status_code == 400
    assert api.get("/api/v1/tokens?user__password__startswith=x").status_code == 400


def test_expired_token_is_401(org_admin):
    issued = services.api_token_create(user=org_admin, name="short", expires_at=timezone.now() + timedelta(hours=1))
    client = token_client(issued.key)
    assert client.get("/api/v1/me").status_code == 200
    ApiToken.objects.filter(pk=issued.token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_last_used_is_recorded_at_most_once_a_minute(org_admin):
    issued = services.api_token_create(user=org_admin, name="t")
    client = token_client(issued.key)
    client.get("/api/v1/me")
    first = ApiToken.objects.get(pk=issued.token.pk).last_used_at
    assert first is not None
    client.get("/api/v1/me")
    assert ApiToken.objects.get(pk=issued.token.pk).last_used_at == first
    earlier = timezone.now() - LAST_USED_RESOLUTION - timedelta(seconds=5)
    ApiToken.objects.filter(pk=issued.token.pk).update(last_used_at=earlier)
    client.get("/api/v1/me")
    assert ApiToken.objects.get(pk=issued.token.pk).last_used_at > first


def test_owner_revokes_a_token_and_it_stops_working(client_for, org, make_user):
    user = make_user(organization=org, username="rita")
    issued = services.api_token_create(user=user, name="laptop")
    response = client_for(user).delete(f"/api/v1/tokens/{issued.token.pk}")
    assert response.status_code == 204
    assert token_client(issued.key).get("/api/v1/me").status_code == 401
    assert AuditEvent.objects.filter(action="api_token.revoked", object_id=str(issued.token.pk), actor=user).exists()
    active = client_for(user).get("/api/v1/tokens?active=false").json()["results"]
    assert [t["id"] for t in active] == [str(issued.token.pk)] and active[0]["revoked_at"]


def test_org_admin_lists_and_revokes_members_tokens(client_for, org, org_admin, make_user):
    member = make_user(organization=org, username="mo")
    issued = services.api_token_create(user=member, name="script")
    admin_api = client_for(org_admin)
    listed = admin_api.get(f"/api/v1/organization/tokens?user={member.pk}").json()["results"]
    assert [t["id"] for t in listed] == [str(issued.token.pk)]
    assert listed[0]["user"]["username"] == "mo"
    assert admin_api.delete(f"/api/v1/tokens/{issued.token.pk}").status_code == 204
    assert token_client(issued.key).get("/api/v1/me").status_code == 401
    assert AuditEvent.objects.filter(action="api_token.revoked", actor=org_admin, extra__user=str(member.pk)).exists()


@pytest.mark.parametrize("role", [OrgRole.TEAM_MANAGER, OrgRole.REVIEWER, OrgRole.LABELER, OrgRole.EXPERT])
def test_non_admins_cannot_see_or_revoke_others_tokens(client_for, org, org_admin, make_user, role):
    actor = make_user(organization=org, role=role)
    issued = services.api_token_create(user=org_admin, name="admin's")
    api = client_for(actor)
    assert api.get("/api/v1/organization/tokens").status_code == 403
    assert api.delete(f"/api/v1/tokens/{issued.token.pk}").status_code == 404
    assert token_client(issued.key).get("/api/v1/me").status_code == 200


def test_other_organization_admin_cannot_touch_tokens(client_for, org_admin, other_org):
    issued = services.api_token_create(user=org_admin, name="mine")
    outsider = client_for(other_org.users.get(role="admin"))
    assert outsider.delete(f"/api/v1/tokens/{issued.token.pk}").status_code == 404
    assert str(issued.token.pk) not in str(outsider.get("/api/v1/organization/tokens").json())
    assert token_client(issued.key).get("/api/v1/me").status_code == 200


def test_anonymous_gets_401(api_client):
    assert api_client.get("/api/v1/tokens").status_code == 401
    assert api_client.post("/api/v1/tokens", {"name": "x"}, format="json").status_code == 401


def test_settings_page_creates_shows_key_once_and_revokes(client, org, make_user):
    user = make_user(organization=org, username="page-user")
    client.force_login(user)
    assert client.get("/settings/tokens/").status_code == 200
    created = client.post("/settings/tokens/", {"name": "From the page", "expires_at": ""})
    assert created.status_code == 200 and created["Cache-Control"] == "no-store"
    token = ApiToken.objects.get(user=user, name="From the page")
    html = created.content.decode()
    start = html.index('id="new-token-key">') + len('id="new-token-key">')
    key = html[start : html.index("</code>", start)]
    assert hashlib.sha256(key.encode()).hexdigest() == token.key_hash
    again = client.get("/settings/tokens/").content.decode()
    assert key not in again and token.prefix in again
    revoked = client.post(f"/settings/tokens/{token.pk}/revoke/")
    assert revoked.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_settings_page_escapes_names_and_needs_csrf(org, make_user):
    from django.test import Client

    user = make_user(organization=org, username="csrf-user")
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(user)
    assert strict.post("/settings/tokens/", {"name": "no csrf"}).status_code == 403
    services.api_token_create(user=user, name="<img src=x onerror=alert(1)>")
    html = strict.get("/settings/tokens/").content.decode()
    assert "<img src=x" not in html and "&lt;img src=x" in html


def test_settings_page_cannot_revoke_someone_elses_token(client, org, org_admin, make_user):
    other = make_user(organization=org, username="victim")
    issued = services.api_token_create(user=other, name="theirs")
    client.force_login(make_user(organization=org, username="nosy"))
    assert client.post(f"/settings/tokens/{issued.token.pk}/revoke/").status_code == 404
    client.force_login(org_admin)  # the page is for one's own tokens; admins revoke members' in the admin or API
    assert client.post(f"/settings/tokens/{issued.token.pk}/revoke/").status_code == 404
    issued.token.refresh_from_db()
    assert issued.token.revoked_at is None


def test_admin_revoke_action_is_scoped(client, org_admin, other_org):
    mine = services.api_token_create(user=org_admin, name="mine")
    theirs = services.api_token_create(user=other_org.users.get(role="admin"), name="theirs")
    client.force_login(org_admin)
    response = client.post(
        "/admin/accounts/apitoken/",
        {"action": "revoke_tokens", "_selected_action": [str(mine.token.pk), str(theirs.token.pk)]},
    )
    assert response.status_code == 302
    mine.token.refresh_from_db()
    theirs.token.refresh_from_db()
    assert mine.token.revoked_at is not None and theirs.token.revoked_at is None
