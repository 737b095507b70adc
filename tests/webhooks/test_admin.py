"""Webhooks in the admin: org-scoped lists with the failing flag, creation through the service (secret shown
once), the "send test event" and "redeliver" actions, deliveries filtered by state."""

from __future__ import annotations

import pytest
from django.test import Client

from apps.accounts.models import User
from apps.core.events import emit
from apps.webhooks.models import DeliveryState, Webhook, WebhookDelivery

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_browser(org_admin: User) -> Client:
    client = Client()
    client.force_login(org_admin)
    return client


def test_changelist_is_scoped_and_shows_failing(admin_browser, make_webhook, other_org, receiver):
    mine = make_webhook(["label.created"], url=receiver.url("/mine"))
    Webhook.objects.filter(pk=mine.pk).update(failing=True)
    foreign_admin = User.objects.get(organization=other_org, role="admin")
    theirs = make_webhook(["label.created"], url=receiver.url("/theirs"), organization=other_org, actor=foreign_admin)
    html = admin_browser.get("/admin/webhooks/webhook/").content.decode()
    assert "/mine" in html and "/theirs" not in html
    assert admin_browser.get("/admin/webhooks/webhook/", {"failing__exact": "1"}).status_code == 200
    assert admin_browser.get(f"/admin/webhooks/webhook/{theirs.pk}/change/").status_code == 404
    page = admin_browser.get(f"/admin/webhooks/webhook/{mine.pk}/change/").content.decode()
    assert mine.secret not in page


def test_add_through_the_admin_shows_the_secret_once_and_validates(admin_browser, receiver, org):
    response = admin_browser.post(
        "/admin/webhooks/webhook/add/",
        {"url": receiver.url(), "project": "", "events": '["label.created"]'},
        follow=True,
    )
    assert response.status_code == 200
    hook = Webhook.objects.get()
    assert hook.organization == org and hook.events == ["label.created"]
    assert hook.secret in response.content.decode()
    refused = admin_browser.post(
        "/admin/webhooks/webhook/add/",
        {"url": "http://169.254.169.254/", "project": "", "events": '["label.created"]'},
        follow=True,
    )
    assert "non-public" in refused.content.decode() and Webhook.objects.count() == 1


def test_send_test_and_redeliver_actions(
    admin_browser, make_webhook, receiver, org, django_capture_on_commit_callbacks
):
    hook = make_webhook(["label.created"])
    with django_capture_on_commit_callbacks(execute=True):
        admin_browser.post(
            "/admin/webhooks/webhook/", {"action": "send_test_event", "_selected_action": [str(hook.pk)]}
        )
    assert [r.headers["X-TDP-Event"] for r in receiver.requests] == ["webhook.test"]
    receiver.always_fail = True
    with django_capture_on_commit_callbacks(execute=True):
        emit(type="label.created", organization_id=org.id, object={"n": 1})
    failed = WebhookDelivery.objects.get(state=DeliveryState.FAILED)
    listing = admin_browser.get("/admin/webhooks/webhookdelivery/", {"state__exact": "failed"}).content.decode()
    test_event = WebhookDelivery.objects.get(event__type="webhook.test").event_id
    assert f"label.created {failed.event_id}" in listing and str(test_event) not in listing
    receiver.always_fail = False
    with django_capture_on_commit_callbacks(execute=True):
        admin_browser.post(
            "/admin/webhooks/webhookdelivery/", {"action": "redeliver", "_selected_action": [str(failed.pk)]}
        )
    assert receiver.requests[-1].event_id == str(failed.event_id) and receiver.requests[-1].status == 200
    assert WebhookDelivery.objects.filter(event=failed.event, manual=True, state=DeliveryState.SUCCEEDED).exists()
