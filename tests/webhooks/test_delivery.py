"""Delivery end to end against a local receiver: a full labeling cycle as signed events in order, retries after
500s with back-off, at-least-once with one success per event id, giving up (failing flag, one email), SSRF at
delivery (allow-list removed, DNS name resolving to loopback), and no work when no webhook listens."""

from __future__ import annotations

import json
import socket
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.core.events import emit
from apps.datasets import services as dataset_services
from apps.issues import services as issue_services
from apps.labeling import services as labeling_services
from apps.labeling.models import Label, Task
from apps.review import services as review_services
from apps.webhooks import services, tasks
from apps.webhooks.domain.events import EVENT_TYPES
from apps.webhooks.models import DeliveryState, Webhook, WebhookDelivery, WebhookEvent
from tests.labeling.conftest import good_label

pytestmark = pytest.mark.django_db


def later(minutes: float = 120):
    return timezone.now() + timedelta(minutes=minutes)


def import_rows(actor, n: int = 1):
    dataset = dataset_services.dataset_create(actor=actor, name="hooked")
    body = json.dumps(
        [
            {"global_key": f"row-{i}", "row_data": f"https://example.com/{i}.jpg", "width": 640, "height": 480}
            for i in range(n)
        ]
    ).encode()
    dataset_services.data_rows_import(actor=actor, dataset=dataset, fmt="json", chunks=[body])
    return list(dataset.data_rows.order_by("global_key"))


def test_full_labeling_cycle_reaches_the_receiver_signed_in_order_with_retries(
    org, org_admin, project, members, receiver, make_webhook, django_capture_on_commit_callbacks
):
    hook = make_webhook(list(EVENT_TYPES))
    receiver.fail_first = {"review.rejected": 2}
    labeler, reviewer = members["labeler"], members["reviewer"]
    with django_capture_on_commit_callbacks(execute=True):
        rows = import_rows(org_admin)
        labeling_services.batch_create(actor=org_admin, project=project, name="b", data_row_ids=[str(rows[0].id)])
        task = labeling_services.queue_claim(actor=labeler, project=project)
        first = labeling_services.label_submit(actor=labeler, task=task, annotations=good_label())
        review_services.review_claim(actor=reviewer, project=project)
        review_services.review_decide(actor=reviewer, label=first, decision="reject", feedback="box too loose")
        rework = labeling_services.queue_claim(actor=labeler, project=project)
        assert rework is not None and rework.pk == task.pk
        second = labeling_services.label_submit(actor=labeler, task=rework, annotations=good_label())
        review_services.review_claim(actor=reviewer, project=project)
        review_services.review_decide(actor=reviewer, label=second, decision="approve")
        issue = issue_services.issue_create(
            actor=reviewer, project=project, task=task, label=second, data_row=rows[0], text="one more car"
        )
        issue_services.issue_resolve(actor=labeler, issue=issue)

    expected = [
        "data_rows.imported",
        "label.created",
        "review.rejected",
        "label.created",
        "review.approved",
        "task.done",
        "batch.done",
        "issue.created",
        "issue.resolved",
    ]
    assert [r.headers["X-TDP-Event"] for r in receiver.requests] == expected
    assert [r.status for r in receiver.requests if r.headers["X-TDP-Event"] == "review.rejected"] == [500]
    # Not due yet: the retry waits for its back-off.
    assert tasks.deliver_due(now=timezone.now()) == 0
    assert tasks.deliver_due(now=later(1.5)) == 1
    assert tasks.deliver_due(now=later(1.5)) == 0, "the third try waits five more minutes"
    assert tasks.deliver_due(now=later(10)) == 1
    assert tasks.deliver_due(now=later()) == 0

    rejected = [r for r in receiver.requests if r.headers["X-TDP-Event"] == "review.rejected"]
    assert [r.status for r in rejected] == [500, 500, 200]
    assert len({r.event_id for r in rejected}) == 1, "every try of an event carries the same id"
    for request in receiver.requests:
        assert request.signed_with(hook.secret)
        assert not request.signed_with("another-secret")
        body = request.json
        assert body["id"] == request.event_id and body["type"] == request.headers["X-TDP-Event"]
        assert body["organization"] == str(org.id)
        assert abs(int(request.headers["X-TDP-Timestamp"]) - timezone.now().timestamp()) < 60
        assert request.headers["Content-Type"] == "application/json"
    succeeded = [r.event_id for r in receiver.succeeded()]
    assert len(succeeded) == len(set(succeeded)) == len(expected), "each event id succeeded exactly once"

    by_type = {r.headers["X-TDP-Event"]: r.json["data"] for r in receiver.succeeded()}
    assert by_type["data_rows.imported"]["created"] == 1 and by_type["data_rows.imported"]["failed"] == 0
    assert by_type["review.rejected"]["feedback"] == "box too loose"
    assert by_type["review.approved"]["label"] == str(second.id)
    assert by_type["task.done"]["id"] == str(task.id) and by_type["task.done"]["state"] == "done"
    assert by_type["batch.done"]["name"] == "b"
    assert by_type["issue.created"]["text"] == "one more car" and by_type["issue.created"]["status"] == "open"
    assert by_type["issue.resolved"]["status"] == "resolved"
    labels = [r.json["data"] for r in receiver.succeeded() if r.headers["X-TDP-Event"] == "label.created"]
    assert [d["id"] for d in labels] == [str(first.id), str(second.id)]
    assert labels[1]["annotations"] == Label.objects.get(pk=second.pk).annotations
    assert {"task", "project", "data_row", "labeler", "revision", "status", "created_at"} <= set(labels[1])

    # Deliveries are recorded: one row per try, the failed ones with status, latency, capped answer, error.
    failed = WebhookDelivery.objects.filter(webhook=hook, state=DeliveryState.FAILED).order_by("attempt")
    assert [d.attempt for d in failed] == [1, 2]
    assert all(d.status_code == 500 and d.latency_ms is not None and d.error for d in failed)
    assert all(0 < len(d.response_body.encode()) <= 2048 for d in failed)
    assert not WebhookDelivery.objects.filter(state=DeliveryState.PENDING).exists()

    # A duplicate task for a succeeded try does nothing (at-least-once, never twice after success).
    done = WebhookDelivery.objects.filter(state=DeliveryState.SUCCEEDED).first()
    before = len(receiver.requests)
    assert tasks.deliver(str(done.pk)) is None
    assert len(receiver.requests) == before


def test_giving_up_after_six_tries_marks_failing_and_mails_admins_once(
    org, org_admin, make_user, receiver, make_webhook, django_capture_on_commit_callbacks
):
    org_admin.email = "boss@example.com"
    org_admin.save()
    make_user(role="admin", organization=org, username="second-admin", email="admin2@example.com")
    make_user(role="team_manager", organization=org, username="tm", email="tm@example.com")
    hook = make_webhook(["label.created"])
    receiver.always_fail = True
    with django_capture_on_commit_callbacks(execute=True):
        emit(type="label.created", organization_id=org.id, object={"n": 1})
        for _ in range(10):
            tasks.deliver_due(now=later())
    tries = WebhookDelivery.objects.filter(webhook=hook).order_by("attempt")
    assert [d.attempt for d in tries] == [1, 2, 3, 4, 5, 6]
    assert all(d.state == DeliveryState.FAILED for d in tries)
    assert len(receiver.requests) == 6
    hook.refresh_from_db()
    assert hook.failing and hook.failing_since is not None and hook.failure_notified_at is not None
    assert len(mail.outbox) == 1
    assert sorted(mail.outbox[0].to) == ["admin2@example.com", "boss@example.com"]
    assert hook.url in mail.outbox[0].body

    # A second event that also gives up does not mail again while the webhook is still failing.
    with django_capture_on_commit_callbacks(execute=True):
        emit(type="label.created", organization_id=org.id, object={"n": 2})
        for _ in range(10):
            tasks.deliver_due(now=later())
    assert len(receiver.requests) == 12 and len(mail.outbox) == 1

    # One success clears the flag.
    receiver.always_fail = False
    with django_capture_on_commit_callbacks(execute=True):
        emit(type="label.created", organization_id=org.id, object={"n": 3})
    hook.refresh_from_db()
    assert not hook.failing and hook.failure_notified_at is None


def test_delivery_is_refused_when_the_host_is_no_longer_allowed(
    org, settings, receiver, make_webhook, django_capture_on_commit_callbacks
):
    hook = make_webhook(["label.created"])
    settings.TDP_OUTBOUND_ALLOWED_HOSTS = []
    with django_capture_on_commit_callbacks(execute=True):
        emit(type="label.created", organization_id=org.id, object={"n": 1})
    assert receiver.requests == []
    delivery = WebhookDelivery.objects.get(webhook=hook, attempt=1)
    assert delivery.state == DeliveryState.FAILED and delivery.status_code is None
    assert "non-public" in delivery.error and "127.0.0.1" in delivery.error
    assert WebhookDelivery.objects.get(webhook=hook, attempt=2).state == DeliveryState.PENDING


@pytest.fixture
def rebinding_dns(monkeypatch):
    """`hooks.example.test` resolves to 127.0.0.1 (patched where url_safety resolves names)."""
    real = socket.getaddrinfo

    def fake(host, port, *args, **kwargs):
        if host == "hooks.example.test":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr("apps.core.url_safety.socket.getaddrinfo", fake)


def test_dns_name_resolving_to_loopback_is_refused_at_creation_and_delivery(
    org, org_admin, settings, receiver, rebinding_dns, django_capture_on_commit_callbacks
):
    from apps.core.errors import ValidationFailed

    url = f"http://hooks.example.test:{receiver.port}/hook"
    with pytest.raises(ValidationFailed) as error:
        services.webhook_create(actor=org_admin, organization=org, url=url, events=["label.created"])
    assert "127.0.0.1" in error.value.message
    # Allowed by name (an on-premise receiver), the same name is delivered to...
    settings.TDP_OUTBOUND_ALLOWED_HOSTS = [f"hooks.example.test:{receiver.port}"]
    hook = services.webhook_create(actor=org_admin, organization=org, url=url, events=["label.created"])
    with django_capture_on_commit_callbacks(execute=True):
        emit(type="label.created", organization_id=org.id, object={"n": 1})
    assert len(receiver.requests) == 1 and receiver.requests[0].headers["Host"] == f"hooks.example.test:{receiver.port}"
    # ...and refused at the next delivery once it is not allowed any more: no request is made.
    settings.TDP_OUTBOUND_ALLOWED_HOSTS = []
    with django_capture_on_commit_callbacks(execute=True):
        emit(type="label.created", organization_id=org.id, object={"n": 2})
    assert len(receiver.requests) == 1
    refused = WebhookDelivery.objects.filter(webhook=hook, state=DeliveryState.FAILED).get()
    assert refused.error.startswith("Refused") and "127.0.0.1" in refused.error


def test_redirects_are_not_followed(org, receiver, make_webhook, django_capture_on_commit_callbacks, monkeypatch):
    hook = make_webhook(["label.created"])
    receiver.answer_for = lambda headers: 302  # type: ignore[method-assign]
    with django_capture_on_commit_callbacks(execute=True):
        emit(type="label.created", organization_id=org.id, object={"n": 1})
    delivery = WebhookDelivery.objects.get(webhook=hook, attempt=1)
    assert delivery.state == DeliveryState.FAILED and delivery.status_code == 302
    assert len(receiver.requests) == 1


def test_events_reach_org_wide_and_own_project_webhooks_only(
    org, project, project_factory, receiver, make_webhook, other_org, django_capture_on_commit_callbacks
):
    everywhere = make_webhook(["label.created"])
    this_project = make_webhook(["label.created"], project=project)
    other_project = make_webhook(["label.created"], project=project_factory(name="Other"))
    other_type = make_webhook(["issue.created"])
    inactive = make_webhook(["label.created"])
    inactive.active = False
    inactive.save()
    with django_capture_on_commit_callbacks(execute=True):
        emit(type="label.created", organization_id=org.id, project_id=project.id, object={"n": 1})
        emit(type="label.created", organization_id=other_org.id, project_id=None, object={"n": 2})
    event = WebhookEvent.objects.get()
    assert event.organization_id == org.id and event.payload == {"n": 1}
    assert set(WebhookDelivery.objects.values_list("webhook_id", flat=True)) == {everywhere.id, this_project.id}
    assert len(receiver.requests) == 2 and {r.event_id for r in receiver.requests} == {str(event.id)}
    assert not WebhookDelivery.objects.filter(webhook__in=[other_project, other_type, inactive]).exists()


def test_nothing_is_sent_for_a_rolled_back_write(org, receiver, make_webhook, django_capture_on_commit_callbacks):
    from django.db import transaction

    make_webhook(["label.created"])
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                emit(type="label.created", organization_id=org.id, object={"n": 1})
                raise RuntimeError("the write failed")
        except RuntimeError:
            pass
    assert callbacks == [] and receiver.requests == []
    assert not WebhookEvent.objects.exists()


def test_no_webhook_means_one_query_and_no_payload(
    org, project_factory, members, make_rows, client_for, monkeypatch, org_admin
):
    from apps.labeling.services import events as labeling_events

    project = project_factory(name="Quick", review={"sample_rate": 0.0})
    labeler = members["labeler"]
    labeling_services.project_member_set(actor=org_admin, project=project, user=labeler, role="labeler")
    rows = make_rows(1, prefix="quiet")
    labeling_services.batch_create(actor=org_admin, project=project, name="b", data_row_ids=[str(rows[0].id)])

    def must_not_serialize(*args, **kwargs):
        raise AssertionError("serialized an event nobody listens to")

    monkeypatch.setattr(labeling_events, "label_payload", must_not_serialize)
    monkeypatch.setattr(labeling_events, "task_payload", must_not_serialize)
    client = client_for(labeler)
    task = client.post(f"/api/v1/projects/{project.id}/queue/next").json()["task"]
    with CaptureQueriesContext(connection) as queries:
        response = client.post(f"/api/v1/tasks/{task}/labels", {"annotations": good_label()}, format="json")
    assert response.status_code == 201, response.content
    assert Task.objects.get(pk=task).state == "done", "label.created, task.done and batch.done were all emitted"
    webhook_queries = [q["sql"] for q in queries.captured_queries if "webhooks_" in q["sql"]]
    assert len(webhook_queries) == 1 and '"webhooks_webhook"' in webhook_queries[0]
    assert not WebhookEvent.objects.exists() and not Webhook.objects.exists()
