"""Alerts: a burst of denied API requests, failed logins or signed-URL reads raises one alert per rule and subject
(a row, an email to the org admins, a banner in the admin), evaluated by the django-q2 task after commit."""

from __future__ import annotations

import uuid

import pytest
from django.core import mail

from apps.accounts.roles import OrgRole
from apps.core import alerts
from apps.core.audit import audit_record
from apps.core.models import Alert, AlertRule, AuditEvent
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db


def rule_of(org, kind: str) -> AlertRule:
    return AlertRule.objects.get(organization=org, kind=kind)


def tune(org, kind: str, threshold: int, window_minutes: int = 10) -> AlertRule:
    AlertRule.objects.filter(organization=org, kind=kind).update(threshold=threshold, window_minutes=window_minutes)
    return rule_of(org, kind)


def probe(client, count: int, capture) -> None:
    """`count` requests for objects that are not there (other organizations' ids look the same)."""
    for _ in range(count):
        with capture(execute=True):
            assert client.get(f"/api/v1/datasets/{uuid.uuid4()}").status_code == 404


def test_every_organization_starts_with_the_default_rules(org):
    assert sorted(AlertRule.objects.filter(organization=org).values_list("kind", flat=True)) == [
        "bulk_raw_access",
        "denied_requests",
        "failed_logins",
    ]
    assert rule_of(org, "denied_requests").threshold == 20


def test_denied_requests_are_recorded_cheaply(client_for, org, make_user, django_capture_on_commit_callbacks):
    prober = make_user(organization=org, username="prober")
    client = client_for(prober)
    with django_capture_on_commit_callbacks() as callbacks:
        assert client.get(f"/api/v1/datasets/{uuid.uuid4()}").status_code == 404
    assert len(callbacks) == 1  # the evaluation is enqueued after commit, not run in the request
    event = AuditEvent.objects.get(action="api.denied", actor=prober)
    assert event.extra["status"] == 404 and event.extra["path"].startswith("/api/v1/datasets/")
    assert client.get("/api/v1/me").status_code == 200
    assert AuditEvent.objects.filter(action="api.denied").count() == 1


def test_denied_burst_raises_one_alert_and_emails_the_admins(
    client_for, org, org_admin, make_user, django_capture_on_commit_callbacks
):
    tune(org, "denied_requests", threshold=5)
    org_admin.email = "boss@acme.test"
    org_admin.save()
    prober = make_user(organization=org, username="prober2", role=OrgRole.LABELER)
    client = client_for(prober)
    probe(client, 4, django_capture_on_commit_callbacks)
    assert not Alert.objects.exists()
    probe(client, 1, django_capture_on_commit_callbacks)
    alert = Alert.objects.get()
    assert alert.kind == "denied_requests" and alert.actor == prober and alert.count == 5
    assert alert.organization == org and alert.subject == f"user:{prober.pk}"
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["boss@acme.test"]
    assert "prober2" in mail.outbox[0].subject
    alert.refresh_from_db()
    assert alert.emailed_to == 1
    assert AuditEvent.objects.filter(action="alert.raised", object_id=str(alert.pk)).exists()
    probe(client, 3, django_capture_on_commit_callbacks)
    assert Alert.objects.count() == 1  # deduplicated while open
    alert.refresh_from_db()
    assert alert.count == 8 and len(mail.outbox) == 1


def test_an_acknowledged_alert_lets_a_new_burst_raise_again(
    client_for, org, org_admin, make_user, django_capture_on_commit_callbacks
):
    tune(org, "denied_requests", threshold=2)
    prober = make_user(organization=org, username="again")
    probe(client_for(prober), 2, django_capture_on_commit_callbacks)
    first = Alert.objects.get()
    response = client_for(org_admin).post(f"/api/v1/alerts/{first.pk}/acknowledge")
    assert response.status_code == 200
    assert response.json()["status"] == "acknowledged"
    assert response.json()["acknowledged_by"]["username"] == org_admin.username
    probe(client_for(prober), 1, django_capture_on_commit_callbacks)
    assert Alert.objects.filter(acknowledged_at__isnull=True).count() == 1
    assert Alert.objects.count() == 2


def test_disabled_rules_do_not_fire(client_for, org, make_user, django_capture_on_commit_callbacks):
    AlertRule.objects.filter(organization=org, kind="denied_requests").update(threshold=1, enabled=False)
    probe(client_for(make_user(organization=org)), 3, django_capture_on_commit_callbacks)
    assert not Alert.objects.exists()


def test_failed_login_burst_from_one_address_raises_an_alert(
    client, org, org_admin, make_user, django_capture_on_commit_callbacks
):
    tune(org, "failed_logins", threshold=3)
    victims = [make_user(organization=org, username=f"victim{i}") for i in range(3)]
    for victim in victims:  # password spraying: one try per account, so no lockout
        with django_capture_on_commit_callbacks(execute=True):
            client.post("/login/", {"username": victim.username, "password": "Spring2026!"}, REMOTE_ADDR="198.51.100.9")
    alert = Alert.objects.get(kind="failed_logins")
    assert alert.subject == "ip:198.51.100.9" and alert.ip == "198.51.100.9" and alert.count == 3
    assert alert.actor is None


def test_bulk_raw_access_counts_signed_urls_only(org, make_user):
    tune(org, "bulk_raw_access", threshold=3, window_minutes=60)
    reader = make_user(organization=org, username="reader")
    for via in ("storage", "inline", "signed_url", "signed_url"):
        audit_record(action="data_row.content_accessed", actor=reader, extra={"via": via})
    assert (
        alerts.alerts_evaluate(organization_id=str(org.pk), kind="bulk_raw_access", actor_id=str(reader.pk), ip=None)
        == []
    )
    audit_record(action="data_row.content_accessed", actor=reader, extra={"via": "signed_url"})
    raised = alerts.alerts_evaluate(
        organization_id=str(org.pk), kind="bulk_raw_access", actor_id=str(reader.pk), ip=None
    )
    assert [a.count for a in raised] == [3]


def test_events_outside_the_window_or_of_others_do_not_count(org, other_org, make_user):
    rule = tune(org, "denied_requests", threshold=2, window_minutes=10)
    user = make_user(organization=org, username="slow")
    old = audit_record(action="api.denied", actor=user)
    AuditEvent.objects.filter(pk=old.pk).update(created_at=old.created_at.replace(year=2020))
    audit_record(action="api.denied", actor=make_user(organization=org, username="someone-else"))
    audit_record(action="api.denied", actor=user, organization=other_org)
    audit_record(action="api.denied", actor=user)
    assert alerts.alerts_evaluate(organization_id=str(org.pk), kind=rule.kind, actor_id=str(user.pk), ip=None) == []


def test_alerts_api_is_for_org_admins_and_stays_in_the_organization(
    client_for, users_by_role, org, other_org, org_admin, api_client
):
    rule = rule_of(org, "denied_requests")
    alert = Alert.objects.create(
        organization=org,
        rule=rule,
        kind=rule.kind,
        subject="ip:1.2.3.4",
        ip="1.2.3.4",
        count=30,
        first_seen_at=rule.created_at,
        last_seen_at=rule.created_at,
    )
    for role, user in users_by_role.items():
        expected = 200 if role == OrgRole.ADMIN else 403
        assert client_for(user).get("/api/v1/alerts").status_code == expected, role
        assert client_for(user).get("/api/v1/alert_rules").status_code == expected, role
        if role != OrgRole.ADMIN:
            assert client_for(user).post(f"/api/v1/alerts/{alert.pk}/acknowledge").status_code == 403
    outsider = client_for(other_org.users.get(role="admin"))
    assert outsider.get("/api/v1/alerts").json()["results"] == []
    assert outsider.post(f"/api/v1/alerts/{alert.pk}/acknowledge").status_code == 404
    assert outsider.get(f"/api/v1/alert_rules/{rule.pk}").status_code == 404
    assert outsider.patch(f"/api/v1/alert_rules/{rule.pk}", {"threshold": 1}, format="json").status_code == 404
    assert api_client.get("/api/v1/alerts").status_code == 401
    admin = client_for(org_admin)
    listed = admin.get("/api/v1/alerts?status=open").json()["results"]
    assert [a["id"] for a in listed] == [str(alert.pk)]
    assert admin.get("/api/v1/alerts?status=acknowledged").json()["results"] == []
    assert admin.get("/api/v1/alerts?status=maybe").status_code == 400
    assert admin.get("/api/v1/alerts?kind__in=x").status_code == 400
    alert.refresh_from_db()
    assert alert.acknowledged_at is None


def test_rules_crud_for_org_admins(client_for, org, org_admin, make_user):
    admin = client_for(org_admin)
    created = admin.post(
        "/api/v1/alert_rules", {"kind": "denied_requests", "threshold": 50, "window_minutes": 5}, format="json"
    )
    assert created.status_code == 201, created.content
    rule_id = created.json()["id"]
    assert admin.get(f"/api/v1/alert_rules/{rule_id}").json()["threshold"] == 50
    patched = admin.patch(f"/api/v1/alert_rules/{rule_id}", {"enabled": False, "threshold": 60}, format="json")
    assert patched.status_code == 200 and patched.json()["enabled"] is False and patched.json()["threshold"] == 60
    assert admin.patch(f"/api/v1/alert_rules/{rule_id}", {"kind": "failed_logins"}, format="json").status_code == 400
    assert admin.patch(f"/api/v1/alert_rules/{rule_id}", {"threshold": 0}, format="json").status_code == 400
    bad = admin.post("/api/v1/alert_rules", {"kind": "all", "threshold": 1, "window_minutes": 99999}, format="json")
    assert bad.status_code == 400 and {"kind", "window_minutes"} <= set(bad.json()["error"]["details"])
    manager = client_for(make_user(organization=org, role=OrgRole.TEAM_MANAGER))
    assert manager.patch(f"/api/v1/alert_rules/{rule_id}", {"threshold": 1}, format="json").status_code == 403
    assert manager.delete(f"/api/v1/alert_rules/{rule_id}").status_code == 403
    assert admin.delete(f"/api/v1/alert_rules/{rule_id}").status_code == 204
    assert not AlertRule.objects.filter(pk=rule_id).exists()
    actions = set(AuditEvent.objects.filter(object_id=rule_id).values_list("action", flat=True))
    assert actions == {"alert_rule.created", "alert_rule.updated", "alert_rule.deleted"}


def test_admin_banner_and_acknowledge_action(client, org, org_admin, other_org, make_user):
    rule = rule_of(org, "failed_logins")
    alert = Alert.objects.create(
        organization=org,
        rule=rule,
        kind=rule.kind,
        subject="ip:9.9.9.9",
        ip="9.9.9.9",
        count=12,
        first_seen_at=rule.created_at,
        last_seen_at=rule.created_at,
    )
    client.force_login(org_admin)
    page = client.get("/admin/").content.decode()
    assert 'id="tdp-alert-banner"' in page and "1 open security alert" in page
    other_client = client.__class__()
    other_client.force_login(other_org.users.get(role="admin"))
    assert 'id="tdp-alert-banner"' not in other_client.get("/admin/").content.decode()
    response = client.post("/admin/core/alert/", {"action": "acknowledge", "_selected_action": [str(alert.pk)]})
    assert response.status_code == 302
    alert.refresh_from_db()
    assert alert.acknowledged_by == org_admin
    assert 'id="tdp-alert-banner"' not in client.get("/admin/").content.decode()


def test_rules_admin_edits_through_the_service(client, org, org_admin):
    rule = rule_of(org, "denied_requests")
    client.force_login(org_admin)
    response = client.post(
        f"/admin/core/alertrule/{rule.pk}/change/", {"threshold": "7", "window_minutes": "3", "enabled": "on"}
    )
    assert response.status_code == 302, response.content[:3000]
    rule.refresh_from_db()
    assert (rule.threshold, rule.window_minutes) == (7, 3)
    assert AuditEvent.objects.filter(action="alert_rule.updated", object_id=str(rule.pk), actor=org_admin).exists()


def test_login_page_still_works_for_the_real_user_after_an_alert(client, org, org_admin):
    tune(org, "failed_logins", threshold=1)
    client.post("/login/", {"username": org_admin.username, "password": "wrong"})
    assert client.post("/login/", {"username": org_admin.username, "password": TEST_PASSWORD}).status_code == 302


def test_denied_request_with_nul_and_lone_surrogate_in_the_path_is_recorded(client_for, org, make_user):
    """PostgreSQL refuses NUL in text and jsonb: the path is stored with a visible escape instead of being lost."""
    prober = make_user(organization=org, username="nul-prober")
    client = client_for(prober)
    assert client.get("/api/v1/datasets/%00abc").status_code == 404
    assert client.get("/api/v1/datasets/%ED%A0%80x", HTTP_USER_AGENT="probe\x00agent").status_code == 404
    paths = sorted(e.extra["path"] for e in AuditEvent.objects.filter(action="api.denied", actor=prober))
    assert len(paths) == 2
    assert any("\\x00abc" in p for p in paths)
