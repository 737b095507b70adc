"""What a credential change does to a user's other credentials and rights (docs/security.md, "Demotion and
tokens"): a password change or a deactivation revokes every API token (re-activation brings none back); an
organization-level demotion lowers project roles above the new role; the token endpoint is never cached."""

from __future__ import annotations

import pytest

from apps.accounts import services
from apps.accounts.models import ApiToken
from apps.core.models import AuditEvent
from apps.labeling import services as labeling_services
from apps.labeling.access import can
from apps.labeling.models import ProjectMember
from tests.factories import TEST_PASSWORD
from tests.labeling.conftest import ontology, project_factory  # noqa: F401

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-New-and-long-passphrase-42"


def me(api_client, key: str) -> int:
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return api_client.get("/api/v1/me").status_code


def test_token_endpoint_answers_are_not_cached(api_client, org_admin):
    ok = api_client.post(
        "/api/v1/auth/token", {"username": org_admin.username, "password": TEST_PASSWORD}, format="json"
    )
    bad = api_client.post("/api/v1/auth/token", {"username": org_admin.username, "password": "x"}, format="json")
    assert ok.status_code == 201 and bad.status_code == 401
    for response in (ok, bad):
        assert response["Cache-Control"] == "no-store" and response["Pragma"] == "no-cache"


def test_password_change_revokes_tokens(api_client, make_user, org, org_admin):
    user = make_user(organization=org, username="rotating")
    key = services.api_token_create(user=user).key
    assert me(api_client, key) == 200
    services.user_set_password(user=user, password=NEW_PASSWORD, actor=org_admin)
    assert me(api_client, key) == 401
    event = AuditEvent.objects.get(action="api_token.revoked_all")
    assert event.extra["reason"] == "password_changed" and event.extra["count"] == 1


def test_password_change_page_revokes_tokens(client, api_client, make_user, org):
    user = make_user(organization=org, username="page-changer")
    key = services.api_token_create(user=user).key
    client.force_login(user)
    response = client.post(
        "/password/",
        {"old_password": TEST_PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert me(api_client, key) == 401


def test_deactivation_revokes_tokens_and_reactivation_does_not_restore_them(api_client, make_user, org, org_admin):
    user = make_user(organization=org, username="leaver")
    key = services.api_token_create(user=user).key
    services.user_update(user=user, actor=org_admin, data={"is_active": False})
    services.user_update(user=user, actor=org_admin, data={"is_active": True})
    assert me(api_client, key) == 401
    assert not ApiToken.objects.filter(user=user, revoked_at__isnull=True).exists()
    assert me(api_client, services.api_token_create(user=user).key) == 200  # new tokens work


def test_org_demotion_caps_project_roles(project_factory, org, org_admin, make_user):  # noqa: F811
    boss = make_user(role="admin", organization=org, username="ex-admin")
    promoted = make_user(role="labeler", organization=org, username="lead-labeler")
    project = project_factory(name="Capped")
    labeling_services.project_member_set(actor=org_admin, project=project, user=boss, role="admin")
    labeling_services.project_member_set(actor=org_admin, project=project, user=promoted, role="team_manager")
    assert can(boss, project, "manage")
    boss = services.user_update(user=boss, actor=org_admin, data={"role": "labeler"})
    assert ProjectMember.objects.get(project=project, user=boss).role == "labeler"
    boss = type(boss).objects.get(pk=boss.pk)  # fresh permission caches
    assert not can(boss, project, "manage") and can(boss, project, "label")
    event = AuditEvent.objects.get(action="project.member_capped")
    assert event.extra["from"] == "admin" and event.extra["to"] == "labeler"
    # A project role granted above an organization role that did not go down is kept.
    services.user_update(user=promoted, actor=org_admin, data={"first_name": "Lee"})
    assert ProjectMember.objects.get(project=project, user=promoted).role == "team_manager"
    # A promotion changes no project role.
    services.user_update(user=boss, actor=org_admin, data={"role": "team_manager"})
    assert ProjectMember.objects.get(project=project, user=boss).role == "labeler"
