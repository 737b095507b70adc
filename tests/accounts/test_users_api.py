"""Accounts API: tokens, organizations, users and how roles map to guardian permissions."""

import pytest

from apps.accounts.models import ApiToken, User
from apps.accounts.roles import OrgRole
from apps.core.models import AuditEvent
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db


def test_token_endpoint_issues_a_working_token_and_stores_only_its_hash(org_admin, api_client):
    response = api_client.post(
        "/api/v1/auth/token", {"username": org_admin.username, "password": TEST_PASSWORD}, format="json"
    )
    assert response.status_code == 201
    key = response.json()["token"]
    assert not ApiToken.objects.filter(key_hash=key).exists()
    assert ApiToken.objects.filter(user=org_admin, prefix=key[:8]).exists()
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api_client.get("/api/v1/me").json()["username"] == org_admin.username


def test_token_endpoint_refuses_wrong_password_and_audits_it(org_admin, api_client):
    response = api_client.post(
        "/api/v1/auth/token", {"username": org_admin.username, "password": "nope"}, format="json"
    )
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_credentials"
    assert AuditEvent.objects.filter(action="auth.login_failed", extra__username=org_admin.username).exists()


def test_revoked_or_inactive_tokens_stop_working(org, make_user, client_for):
    user = make_user(organization=org, username="lee")
    client = client_for(user)
    assert client.get("/api/v1/me").status_code == 200
    ApiToken.objects.filter(user=user).update(revoked_at="2026-01-01T00:00:00Z")
    assert client.get("/api/v1/me").status_code == 401


def test_superuser_creates_an_organization_with_its_admin(superuser, client_for):
    response = client_for(superuser).post(
        "/api/v1/organizations",
        {"name": "Initech", "admin": {"username": "bill", "password": "Lumbergh-TPS-42", "email": "b@i.com"}},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["name"] == "Initech" and body["admin"]["username"] == "bill"
    bill = User.objects.get(username="bill")
    assert bill.role == OrgRole.ADMIN and bill.is_staff and str(bill.organization_id) == body["id"]
    assert bill.has_perm("accounts.manage_users", bill.organization)


def test_organization_name_must_be_unique(superuser, client_for, org):
    response = client_for(superuser).post(
        "/api/v1/organizations",
        {"name": "acme", "admin": {"username": "x2", "password": "Lumbergh-TPS-42"}},
        format="json",
    )
    assert response.status_code == 409


def test_organization_with_weak_admin_password_is_400_and_creates_nothing(superuser, client_for):
    response = client_for(superuser).post(
        "/api/v1/organizations", {"name": "Weak", "admin": {"username": "w", "password": "123"}}, format="json"
    )
    assert response.status_code == 400
    assert "password" in response.json()["error"]["details"]
    assert not User.objects.filter(username="w").exists()
    from apps.accounts.models import Organization

    assert not Organization.objects.filter(name="Weak").exists()


def test_org_admin_creates_a_user_in_their_own_organization(org, org_admin, client_for):
    response = client_for(org_admin).post(
        "/api/v1/users",
        {"username": "nina", "password": "Labels-all-day-7", "email": "nina@acme.test", "role": "reviewer"},
        format="json",
    )
    assert response.status_code == 201, response.content
    nina = User.objects.get(username="nina")
    assert nina.organization_id == org.id and nina.role == "reviewer" and not nina.is_staff
    assert response.json()["organization"]["id"] == str(org.id)
    assert AuditEvent.objects.filter(action="user.created", object_id=str(nina.id), actor=org_admin).exists()


def test_duplicate_username_is_409(org_admin, client_for, make_user, other_org):
    make_user(organization=other_org, username="taken")
    response = client_for(org_admin).post(
        "/api/v1/users", {"username": "Taken", "password": "Labels-all-day-7"}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "username_taken"


def test_role_change_moves_guardian_permissions(org, org_admin, make_user, client_for):
    manager = make_user(role="labeler", organization=org, username="mo")
    assert not manager.has_perm("accounts.view_users", org)
    response = client_for(org_admin).patch(f"/api/v1/users/{manager.id}", {"role": "team_manager"}, format="json")
    assert response.status_code == 200 and response.json()["role"] == "team_manager"
    assert User.objects.get(pk=manager.pk).has_perm("accounts.view_users", org)
    client_for(org_admin).patch(f"/api/v1/users/{manager.id}", {"role": "labeler"}, format="json")
    assert not User.objects.get(pk=manager.pk).has_perm("accounts.view_users", org)


def test_deactivated_user_loses_access(org, org_admin, make_user, client_for):
    user = make_user(organization=org, username="gone")
    client = client_for(user)
    response = client_for(org_admin).patch(f"/api/v1/users/{user.id}", {"is_active": False}, format="json")
    assert response.status_code == 200
    assert client.get("/api/v1/me").status_code == 401


def test_the_last_admin_cannot_be_demoted(org_admin, client_for):
    response = client_for(org_admin).patch(f"/api/v1/users/{org_admin.id}", {"role": "labeler"}, format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "last_admin"
    org_admin.refresh_from_db()
    assert org_admin.role == "admin"


def test_user_list_is_paginated_and_limited_to_the_organization(org, other_org, org_admin, make_user, client_for):
    for i in range(5):
        make_user(organization=org, username=f"acme{i}")
    make_user(organization=other_org, username="outsider")
    client = client_for(org_admin)
    page = client.get("/api/v1/users?page_size=4").json()
    assert len(page["results"]) == 4 and page["next"]
    rest = client.get(page["next"]).json()
    names = {u["username"] for u in page["results"] + rest["results"]}
    assert names == {"acme-admin", *(f"acme{i}" for i in range(5))}
    assert rest["next"] is None


def test_user_list_query_count_does_not_grow_with_users(
    org, org_admin, make_user, client_for, django_assert_num_queries
):
    client = client_for(org_admin)
    client.get("/api/v1/users")  # the token's last-used stamp is written once
    # token lookup, the caller's object permissions on the organization (once per request), the page
    with django_assert_num_queries(3):
        assert len(client.get("/api/v1/users?page_size=100").json()["results"]) == 1
    for i in range(30):
        make_user(organization=org, username=f"bulk{i}")
    with django_assert_num_queries(3):
        assert len(client.get("/api/v1/users?page_size=100").json()["results"]) == 31
