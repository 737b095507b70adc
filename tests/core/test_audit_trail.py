"""The audit trail: logins, failed logins, logouts, admin changes (single and bulk), service writes; the org-admin
API with allow-listed filters and cursor pages; the CSV export with neutralised cells; read-only scoped admin."""

from __future__ import annotations

import csv
import io

import pytest

from apps.accounts.roles import OrgRole
from apps.core.audit import audit_record
from apps.core.models import AuditEvent
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db


def test_page_login_logout_and_failure_are_audited_with_address_and_agent(client, org_admin):
    client.post(
        "/login/",
        {"username": org_admin.username, "password": TEST_PASSWORD},
        REMOTE_ADDR="203.0.113.7",
        HTTP_USER_AGENT="audit-test-agent",
    )
    login = AuditEvent.objects.get(action="auth.login", actor=org_admin)
    assert login.organization_id == org_admin.organization_id
    assert login.ip == "203.0.113.7" and login.user_agent == "audit-test-agent"
    assert login.extra["via"] == "page"
    client.post("/logout/")
    assert AuditEvent.objects.filter(action="auth.logout", actor=org_admin).count() == 1
    client.post("/login/", {"username": "nobody-here", "password": "x"})
    failed = AuditEvent.objects.get(action="auth.login_failed", extra__username="nobody-here")
    assert failed.actor is None and failed.organization is None and "x" not in str(failed.extra.values())


def test_token_endpoint_login_and_failure_are_audited(api_client, org_admin):
    api_client.post("/api/v1/auth/token", {"username": org_admin.username, "password": "bad"}, format="json")
    api_client.post("/api/v1/auth/token", {"username": org_admin.username, "password": TEST_PASSWORD}, format="json")
    failed = AuditEvent.objects.get(action="auth.login_failed")
    assert failed.extra["via"] == "api" and failed.organization_id == org_admin.organization_id
    assert AuditEvent.objects.filter(action="auth.login", actor=org_admin, extra__via="api").exists()
    assert AuditEvent.objects.filter(action="api_token.created", actor=org_admin).exists()


def test_admin_changes_are_audited(client, org, org_admin, make_user):
    member = make_user(organization=org, username="promoted")
    client.force_login(org_admin)
    response = client.post(
        f"/admin/accounts/user/{member.pk}/change/",
        {"first_name": "Pro", "last_name": "", "email": member.email, "role": "reviewer", "is_active": "on"},
    )
    assert response.status_code == 302, response.content[:2000]
    event = AuditEvent.objects.get(action="admin.changed", object_id=str(member.pk))
    assert event.actor == org_admin and event.organization == org
    assert event.object_type == "accounts.user" and event.object_repr == "promoted"
    assert "Changed" in event.extra["change"]


def test_bulk_admin_deletions_are_audited_one_by_one(client, org, org_admin):
    client.force_login(org_admin)
    from apps.core.alerts import alert_rules_create_defaults
    from apps.core.models import AlertRule

    alert_rules_create_defaults(organization=org)
    rules = list(AlertRule.objects.filter(organization=org))
    assert len(rules) == 3
    response = client.post(
        "/admin/core/alertrule/",
        {"action": "delete_selected", "post": "yes", "_selected_action": [str(r.pk) for r in rules]},
    )
    assert response.status_code == 302
    assert not AlertRule.objects.filter(organization=org).exists()
    deleted = AuditEvent.objects.filter(action="admin.deleted", object_type="core.alertrule")
    assert {e.object_id for e in deleted} == {str(r.pk) for r in rules}


def test_audit_events_api_is_for_org_admins_only(client_for, users_by_role, api_client):
    for role, user in users_by_role.items():
        status = client_for(user).get("/api/v1/audit_events").status_code
        assert status == (200 if role == OrgRole.ADMIN else 403), role
        assert client_for(user).get("/api/v1/audit_events.csv").status_code == (200 if role == OrgRole.ADMIN else 403)
    assert api_client.get("/api/v1/audit_events").status_code == 401


def test_audit_events_filters_are_allow_listed(client_for, org, org_admin, make_user, other_org):
    member = make_user(organization=org, username="filtered")
    audit_record(action="thing.done", actor=member, object_type="x.thing", object_id="42")
    audit_record(action="thing.done", actor=org_admin, object_type="x.other", object_id="43")
    audit_record(action="thing.done", actor=other_org.users.get(role="admin"), object_type="x.thing", object_id="42")
    api = client_for(org_admin)

    def ids(query: str) -> list[str]:
        response = api.get(f"/api/v1/audit_events?{query}")
        assert response.status_code == 200, response.content
        return [e["object_id"] for e in response.json()["results"] if e["action"] == "thing.done"]

    assert ids("action=thing.done") == ["43", "42"]
    assert ids(f"actor={member.pk}") == ["42"]
    assert ids("object_type=x.other") == ["43"]
    assert ids("object_id=42") == ["42"]
    assert ids("from=2000-01-01T00:00:00Z&to=2000-01-02T00:00:00Z") == []
    for bad in ("actor__password__startswith=a", "actor=not-a-uuid", "from=yesterday", "organization=1", "ordering=ip"):
        response = api.get(f"/api/v1/audit_events?{bad}")
        assert response.status_code == 400, bad
        assert response.json()["error"]["code"] in {"invalid"}


def test_audit_events_are_paged_by_cursor(client_for, org_admin):
    for i in range(5):
        audit_record(action="paged.event", actor=org_admin, object_id=str(i))
    api = client_for(org_admin)
    first = api.get("/api/v1/audit_events?action=paged.event&page_size=2").json()
    assert [e["object_id"] for e in first["results"]] == ["4", "3"]
    second = api.get(first["next"]).json()
    assert [e["object_id"] for e in second["results"]] == ["2", "1"]


def test_csv_export_neutralises_formula_cells_and_is_audited(client_for, org_admin, other_org):
    audit_record(
        action="csv.case", actor=org_admin, object_repr='=HYPERLINK("http://evil")', user_agent="+cmd", object_id="@1"
    )
    audit_record(action="csv.case", actor=other_org.users.get(role="admin"), object_repr="other org")
    response = client_for(org_admin).get("/api/v1/audit_events.csv?action=csv.case")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == 1
    row = rows[0]
    assert row["object_repr"] == '\'=HYPERLINK("http://evil")'
    assert row["user_agent"] == "'+cmd" and row["object_id"] == "'@1"
    assert row["actor"] == org_admin.username
    exported = AuditEvent.objects.get(action="audit_events.exported")
    assert exported.actor == org_admin and exported.extra == {"action": "csv.case"}
    assert client_for(org_admin).get("/api/v1/audit_events.csv?cursor=abc").status_code == 400


def test_audit_admin_is_read_only_and_scoped(client, org_admin, other_org):
    own = audit_record(action="admin.view", actor=org_admin)
    foreign = audit_record(action="admin.view", actor=other_org.users.get(role="admin"))
    client.force_login(org_admin)
    listing = client.get("/admin/core/auditevent/?action=admin.view").content.decode()
    assert str(own.pk) in listing and str(foreign.pk) not in listing
    assert client.get(f"/admin/core/auditevent/{foreign.pk}/change/").status_code == 404
    assert client.get("/admin/core/auditevent/add/").status_code == 403
    page = client.post(f"/admin/core/auditevent/{own.pk}/delete/", {"post": "yes"})
    assert page.status_code == 403
    assert AuditEvent.objects.filter(pk=own.pk).exists()
