"""OpenAPI schema without warnings, offline docs, and every admin page renders (smoke)."""

from io import StringIO

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_openapi_schema_generates_without_warnings_and_validates():
    out = StringIO()
    call_command("spectacular", "--fail-on-warn", "--validate", "--format", "openapi-json", stdout=out)
    assert '"/api/v1/me"' in out.getvalue()


def test_schema_and_docs_are_served_offline(client, org_admin):
    client.force_login(org_admin)
    assert client.get("/api/schema/").status_code == 200
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html
    assert "cdn" not in html.lower()


def _admin_pages():
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        yield reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"), model_admin, "changelist"
        yield reverse(f"admin:{opts.app_label}_{opts.model_name}_add"), model_admin, "add"


def test_every_admin_changelist_and_add_page_renders_for_a_superuser(client, superuser, org_admin):
    client.force_login(superuser)
    checked = 0
    for url, model_admin, kind in _admin_pages():
        response = client.get(url)
        if kind == "add" and not model_admin.has_add_permission(response.wsgi_request):
            assert response.status_code == 403, url
            continue
        assert response.status_code == 200, url
        checked += 1
    assert checked >= 6


def test_org_admin_sees_their_admin_pages(client, org_admin):
    client.force_login(org_admin)
    for url, model_admin, _kind in _admin_pages():
        response = client.get(url)
        request = response.wsgi_request
        allowed = model_admin.has_module_permission(request) and (
            model_admin.has_view_permission(request)
            if url.endswith("/") and not url.endswith("add/")
            else model_admin.has_add_permission(request)
        )
        assert response.status_code == (200 if allowed else 403), url


def test_org_admin_changes_a_role_through_admin_via_the_service(client, org, org_admin, make_user):
    from apps.core.models import AuditEvent

    user = make_user(organization=org, username="promote-me")
    client.force_login(org_admin)
    response = client.post(
        f"/admin/accounts/user/{user.id}/change/",
        {"first_name": "", "last_name": "", "email": user.email, "role": "team_manager", "is_active": "on"},
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    user.refresh_from_db()
    assert user.role == "team_manager"
    assert user.has_perm("accounts.view_users", org)
    assert AuditEvent.objects.filter(action="user.updated", object_id=str(user.id), actor=org_admin).exists()


def test_superuser_creates_an_organization_through_admin(client, superuser):
    from apps.accounts.models import Organization, User

    client.force_login(superuser)
    response = client.post(
        "/admin/accounts/organization/add/",
        {"name": "Admin Made", "admin_username": "am-admin", "admin_email": "", "admin_password": "Made-in-admin-7"},
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    organization = Organization.objects.get(name="Admin Made")
    assert User.objects.get(username="am-admin").organization == organization


def test_admin_service_errors_become_messages_not_500s(client, superuser, org):
    client.force_login(superuser)
    response = client.post(
        "/admin/accounts/organization/add/",
        {"name": "Weakling", "admin_username": "weak", "admin_email": "", "admin_password": "1"},
        follow=True,
    )
    assert response.status_code == 200
    assert "password" in response.content.decode().lower()


def test_admin_password_change_goes_through_the_service_and_is_audited(client, org, org_admin, make_user):
    from apps.core.models import AuditEvent

    user = make_user(organization=org, username="forgetful")
    client.force_login(org_admin)
    response = client.post(
        f"/admin/accounts/user/{user.id}/password/",
        {"password1": "Fresh-start-2026", "password2": "Fresh-start-2026", "usable_password": "true"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    user.refresh_from_db()
    assert user.check_password("Fresh-start-2026")
    assert AuditEvent.objects.filter(action="user.password_changed", object_id=str(user.id), actor=org_admin).exists()
