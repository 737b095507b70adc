"""Webhooks API: org admins only (403 for other roles, 401 anonymous, 404 across organizations), the secret shown
once, validation (event types, URL schemes, private addresses, another org's project), deliveries, test, redeliver."""

from __future__ import annotations

import pytest

from apps.accounts.models import User
from apps.accounts.roles import OrgRole
from apps.core.events import emit
from apps.webhooks.domain.events import EVENT_TYPES
from apps.webhooks.models import DeliveryState, Webhook, WebhookDelivery

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(org_admin, client_for):
    return client_for(org_admin)


def create(client, receiver, **extra):
    body = {"url": receiver.url(), "events": ["label.created", "review.approved"], **extra}
    return client.post("/api/v1/webhooks", body, format="json")


def test_create_shows_the_secret_once(admin_client, receiver, org):
    response = create(admin_client, receiver)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["secret"] == Webhook.objects.get(pk=body["id"]).secret and len(body["secret"]) > 30
    assert body["events"] == ["label.created", "review.approved"] and body["project"] is None
    assert body["active"] is True and body["failing"] is False
    detail = admin_client.get(f"/api/v1/webhooks/{body['id']}").json()
    listing = admin_client.get("/api/v1/webhooks").json()
    patched = admin_client.patch(f"/api/v1/webhooks/{body['id']}", {"active": False}, format="json").json()
    assert body["secret"] not in str(detail) + str(listing) + str(patched)
    assert "secret" not in detail and "secret" not in listing["results"][0] and "secret" not in patched
    assert [w["id"] for w in listing["results"]] == [body["id"]] and listing["next"] is None


def test_project_webhook_and_another_orgs_project(admin_client, receiver, project, other_org, make_user):
    from apps.labeling.services import project_create
    from apps.ontologies import services as ontology_services
    from apps.ontologies.demo import VEHICLES

    response = create(admin_client, receiver, project=str(project.id))
    assert response.status_code == 201 and response.json()["project"] == str(project.id)
    foreign_admin = User.objects.get(organization=other_org, role=OrgRole.ADMIN)
    ontology = ontology_services.ontology_create(
        organization=other_org, name="o", tools=VEHICLES["tools"], classifications=[], actor=foreign_admin
    )
    foreign = project_create(actor=foreign_admin, name="theirs", ontology=ontology, instructions="", settings={})
    response = create(admin_client, receiver, project=str(foreign.id))
    assert response.status_code == 404
    assert Webhook.objects.count() == 1


def test_unknown_event_type_lists_the_known_ones(admin_client, receiver):
    response = create(admin_client, receiver, events=["label.created", "label.deleted"])
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "unknown_event_type" and "label.deleted" in error["message"]
    assert error["details"]["known"] == list(EVENT_TYPES)
    assert create(admin_client, receiver, events=[]).status_code == 400
    assert create(admin_client, receiver, events="label.created").status_code == 400
    assert create(admin_client, receiver, events=["webhook.test"]).status_code == 400
    assert create(admin_client, receiver, unknown_field=1).status_code == 400
    assert not Webhook.objects.exists()


@pytest.mark.parametrize(
    "url",
    ["file:///etc/passwd", "gopher://example.com/", "ftp://example.com/x", "javascript:alert(1)", "", "http://", 7],
)
def test_bad_urls_are_refused(admin_client, receiver, url):
    response = create(admin_client, receiver, url=url)
    assert response.status_code == 400, response.content
    assert not Webhook.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://localhost/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.7/hook",
        "http://[::1]/hook",
        "http://192.168.0.10:8080/hook",
    ],
)
def test_private_addresses_are_refused_with_a_reason(admin_client, receiver, url):
    response = create(admin_client, receiver, url=url)
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "unsafe_url" and "non-public address" in error["message"]
    assert error["details"]["url"]


def test_allowed_loopback_port_does_not_allow_another_port(admin_client, receiver):
    other = receiver.port + 1 if receiver.port < 65535 else receiver.port - 1
    assert create(admin_client, receiver, url=f"http://127.0.0.1:{other}/hook").status_code == 400


def test_patch_revalidates_the_url_and_events(admin_client, receiver, settings):
    hook = create(admin_client, receiver).json()
    url = f"/api/v1/webhooks/{hook['id']}"
    assert admin_client.patch(url, {"url": "http://10.1.1.1/x"}, format="json").status_code == 400
    assert admin_client.patch(url, {"events": ["nope"]}, format="json").status_code == 400
    assert admin_client.patch(url, {"secret": "mine"}, format="json").status_code == 400
    changed = admin_client.patch(url, {"events": ["batch.done", "task.done"], "active": False}, format="json")
    assert changed.status_code == 200
    assert changed.json()["events"] == ["task.done", "batch.done"] and changed.json()["active"] is False
    assert Webhook.objects.get(pk=hook["id"]).url == receiver.url()
    assert admin_client.delete(url).status_code == 204
    assert admin_client.get(url).status_code == 404


def test_deliveries_test_event_and_redeliver(admin_client, receiver, org, django_capture_on_commit_callbacks):
    hook = create(admin_client, receiver).json()
    with django_capture_on_commit_callbacks(execute=True):
        emit(type="label.created", organization_id=org.id, object={"n": 1})
        emit(type="review.approved", organization_id=org.id, object={"n": 2})
        emit(type="issue.created", organization_id=org.id, object={"n": 3})  # not subscribed
        tested = admin_client.post(f"/api/v1/webhooks/{hook['id']}/test")
    assert tested.status_code == 202
    assert [r.headers["X-TDP-Event"] for r in receiver.requests] == ["label.created", "review.approved", "webhook.test"]
    assert receiver.requests[2].json["data"]["webhook"] == hook["id"]
    assert all(r.signed_with(hook["secret"]) for r in receiver.requests)

    page = admin_client.get(f"/api/v1/webhooks/{hook['id']}/deliveries?page_size=2").json()
    assert [d["event"]["type"] for d in page["results"]] == ["webhook.test", "review.approved"], "newest first"
    assert page["next"]
    rest = admin_client.get(page["next"]).json()
    assert [d["event"]["type"] for d in rest["results"]] == ["label.created"]
    first = rest["results"][0]
    assert first["state"] == "succeeded" and first["status_code"] == 200 and first["attempt"] == 1
    assert first["latency_ms"] is not None and first["response_body"] == "ok"

    with django_capture_on_commit_callbacks(execute=True):
        again = admin_client.post(f"/api/v1/webhooks/{hook['id']}/deliveries/{first['id']}/redeliver")
    assert again.status_code == 202
    assert again.json()["event"]["id"] == first["event"]["id"] and again.json()["attempt"] == 2
    assert receiver.requests[-1].event_id == first["event"]["id"], "a redelivery keeps the event id"
    assert WebhookDelivery.objects.get(pk=again.json()["id"]).state == DeliveryState.SUCCEEDED


@pytest.mark.parametrize("role", ["team_manager", "reviewer", "labeler", "expert"])
def test_other_roles_are_forbidden(role, users_by_role, client_for, receiver, org_admin, admin_client):
    hook = create(admin_client, receiver).json()
    client = client_for(users_by_role[role])
    base = f"/api/v1/webhooks/{hook['id']}"
    assert create(client, receiver).status_code == 403
    assert client.get("/api/v1/webhooks").status_code == 403
    assert client.get(base).status_code == 403
    assert client.patch(base, {"active": False}, format="json").status_code == 403
    assert client.delete(base).status_code == 403
    assert client.get(f"{base}/deliveries").status_code == 403
    assert client.post(f"{base}/test").status_code == 403
    assert Webhook.objects.get(pk=hook["id"]).active


def test_anonymous_is_401(api_client, admin_client, receiver):
    hook = create(admin_client, receiver).json()
    assert api_client.get("/api/v1/webhooks").status_code == 401
    assert api_client.get(f"/api/v1/webhooks/{hook['id']}").status_code == 401
    assert api_client.post("/api/v1/webhooks", {}, format="json").status_code == 401


def test_another_organization_sees_nothing(
    admin_client, receiver, org, other_org, client_for, django_capture_on_commit_callbacks
):
    hook = create(admin_client, receiver).json()
    with django_capture_on_commit_callbacks(execute=True):
        emit(type="label.created", organization_id=org.id, object={"n": 1})
    delivery = WebhookDelivery.objects.get()
    foreign = client_for(User.objects.get(organization=other_org, role=OrgRole.ADMIN))
    base = f"/api/v1/webhooks/{hook['id']}"
    assert foreign.get("/api/v1/webhooks").json()["results"] == []
    assert foreign.get(base).status_code == 404
    assert foreign.patch(base, {"active": False}, format="json").status_code == 404
    assert foreign.delete(base).status_code == 404
    assert foreign.get(f"{base}/deliveries").status_code == 404
    assert foreign.post(f"{base}/test").status_code == 404
    assert foreign.post(f"{base}/deliveries/{delivery.id}/redeliver").status_code == 404
    # Their own webhook with our delivery id is a 404 too.
    theirs = foreign.post("/api/v1/webhooks", {"url": receiver.url(), "events": ["label.created"]}, format="json")
    assert theirs.status_code == 201
    assert foreign.post(f"/api/v1/webhooks/{theirs.json()['id']}/deliveries/{delivery.id}/redeliver").status_code == 404
    assert admin_client.get("/api/v1/webhooks/not-a-uuid").status_code == 404
    assert WebhookDelivery.objects.count() == 1 and Webhook.objects.get(pk=hook["id"]).active
