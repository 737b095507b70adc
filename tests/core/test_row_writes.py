"""`row_insert` / `row_update`: the row `save()` would write, from SQL built once; `save()` itself when it does more."""

from datetime import timedelta

import pytest
from django.db import DatabaseError, IntegrityError, models, transaction
from django.db.models.signals import post_save
from django.utils import timezone

from apps.core.models import AuditEvent, IdempotencyRecord
from apps.core.row_writes import row_insert, row_update
from apps.labeling.models import Task
from tests.labeling.conftest import make_rows, ontology, project, project_factory  # noqa: F401 - fixtures
from tests.labeling.test_queue_api import add_batch

pytestmark = pytest.mark.django_db

BODY = {"id": "x", "nested": {"list": [1, 2.5, None, "é"]}, "flag": True}


def _columns(model, pk):
    return model.objects.filter(pk=pk).values().get()


def test_an_insert_writes_what_save_writes(org, make_user):
    user = make_user(organization=org, username="writer")
    direct = row_insert(IdempotencyRecord(user_id=user.pk, key="k1", scope="s", status=201, body=BODY))
    saved = IdempotencyRecord(user_id=user.pk, key="k2", scope="s", status=201, body=BODY)
    saved.save(force_insert=True)
    assert not direct._state.adding and direct.pk is not None and direct.created_at is not None
    got, expected = _columns(IdempotencyRecord, direct.pk), _columns(IdempotencyRecord, saved.pk)
    for column in ("user_id", "scope", "status", "body"):
        assert got[column] == expected[column]
    assert got["body"] == BODY and got["key"] == "k1"
    assert got["created_at"] == direct.created_at  # auto_now_add set on the object and stored

    event = row_insert(AuditEvent(action="probe", organization_id=org.pk, actor=user, extra={"a": [1]}))
    stored = AuditEvent.objects.get(pk=event.pk)
    assert (stored.action, stored.actor_id, stored.extra, stored.ip) == ("probe", user.pk, {"a": [1]}, None)


def test_an_insert_that_breaks_a_constraint_is_an_integrity_error(org, make_user):
    user = make_user(organization=org, username="twice")
    row_insert(IdempotencyRecord(user_id=user.pk, key="same", scope="s", status=201, body={}))
    with pytest.raises(IntegrityError), transaction.atomic():
        row_insert(IdempotencyRecord(user_id=user.pk, key="same", scope="s", status=201, body={}))
    assert IdempotencyRecord.objects.filter(user=user, key="same").count() == 1


def test_an_update_writes_the_named_fields_only(org, make_user, project, make_rows, org_admin):  # noqa: F811
    add_batch(project, org_admin, make_rows(1))
    task = Task.objects.get(project=project)
    before = task.updated_at
    labeler = make_user(organization=org, username="holder")
    task.state, task.assignee = "in_progress", labeler
    task.lease_expires_at = timezone.now() + timedelta(minutes=5)
    task.skip_reason = "not written"  # changed on the object, not named
    row_update(task, ["state", "assignee", "lease_expires_at", "updated_at"])
    stored = Task.objects.get(pk=task.pk)
    assert (stored.state, stored.assignee_id, stored.lease_expires_at) == (
        "in_progress",
        labeler.pk,
        task.lease_expires_at,
    )
    assert stored.skip_reason == "" and stored.updated_at == task.updated_at > before  # auto_now when named

    Task.objects.filter(pk=task.pk).delete()
    with pytest.raises(DatabaseError, match="did not affect any rows"):
        row_update(task, ["state"])


def test_models_with_save_receivers_go_through_save(org, make_user):
    user = make_user(organization=org, username="heard")
    heard = []

    def receiver(sender, instance, created, **kwargs):
        heard.append((instance.key, created))

    post_save.connect(receiver, sender=IdempotencyRecord)
    try:
        record = row_insert(IdempotencyRecord(user_id=user.pk, key="loud", scope="s", status=200, body={}))
        record.status = 409
        row_update(record, ["status"])
    finally:
        post_save.disconnect(receiver, sender=IdempotencyRecord)
    assert heard == [("loud", True), ("loud", False)]
    assert IdempotencyRecord.objects.get(pk=record.pk).status == 409


def test_models_with_their_own_save_go_through_it(org, make_user, monkeypatch):
    user = make_user(organization=org, username="custom")
    calls = []

    def own_save(self, *args, **kwargs):
        calls.append(kwargs)
        return models.Model.save(self, *args, **kwargs)

    monkeypatch.setattr(IdempotencyRecord, "save", own_save)
    record = row_insert(IdempotencyRecord(user_id=user.pk, key="own", scope="s", status=200, body={}))
    row_update(record, ["status"])
    assert calls == [{"force_insert": True}, {"update_fields": ["status"]}]
    assert IdempotencyRecord.objects.filter(pk=record.pk).exists()
