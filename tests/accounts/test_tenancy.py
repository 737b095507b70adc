"""A user of one organization never sees another organization's anything: API and admin."""

import pytest

from apps.accounts.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def outsider(other_org, make_user) -> User:
    return make_user(role="labeler", organization=other_org, username="outsider")


def test_other_org_user_is_404_for_every_role(users_by_role, outsider, client_for):
    for role, user in users_by_role.items():
        client = client_for(user)
        for response in (
            client.get(f"/api/v1/users/{outsider.id}"),
            client.patch(f"/api/v1/users/{outsider.id}", {"role": "admin"}, format="json"),
        ):
            assert response.status_code == 404, (role, response.status_code)
            assert response.json()["error"]["code"] == "not_found"
    outsider.refresh_from_db()
    assert outsider.role == "labeler"


def test_other_org_admin_cannot_list_our_users(org, other_org, client_for, users_by_role):
    globex_admin = User.objects.get(organization=other_org, role="admin")
    names = {u["username"] for u in client_for(globex_admin).get("/api/v1/users").json()["results"]}
    assert names.isdisjoint({u.username for u in users_by_role.values()})


def test_admin_pages_hide_other_organizations(client, org_admin, outsider, other_org):
    client.force_login(org_admin)
    changelist = client.get("/admin/accounts/user/")
    assert changelist.status_code == 200
    assert org_admin.username in changelist.content.decode()
    assert "outsider" not in changelist.content.decode()
    assert client.get(f"/admin/accounts/user/{outsider.id}/change/").status_code == 404
    assert client.get(f"/admin/accounts/organization/{other_org.id}/change/").status_code == 404
    assert other_org.name not in client.get("/admin/accounts/organization/").content.decode()


def test_org_admin_cannot_edit_another_orgs_user_through_admin_post(client, org_admin, outsider):
    client.force_login(org_admin)
    response = client.post(f"/admin/accounts/user/{outsider.id}/change/", {"role": "admin", "is_active": "on"})
    assert response.status_code == 404
    outsider.refresh_from_db()
    assert outsider.role == "labeler"


def test_org_admin_creates_users_only_in_their_organization_through_admin(client, org, org_admin):
    client.force_login(org_admin)
    response = client.post(
        "/admin/accounts/user/add/",
        {
            "username": "via-admin",
            "email": "",
            "role": "reviewer",
            "password1": "Admin-made-99",
            "password2": "Admin-made-99",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    created = User.objects.get(username="via-admin")
    assert created.organization_id == org.id and created.role == "reviewer"
    assert created.check_password("Admin-made-99")


def test_non_admin_staff_roles_cannot_use_the_admin(client, users_by_role):
    for role in ("team_manager", "reviewer", "labeler", "expert"):
        client.force_login(users_by_role[role])
        response = client.get("/admin/accounts/user/")
        assert response.status_code == 302, role  # to the admin login: not staff
        assert "/admin/login/" in response["Location"]
