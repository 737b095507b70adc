"""Keyed leases: several clients of one labeler (a script's workers, tabs) each hold their own task, up to the
project's `lease.max_per_labeler`; claims without a key behave as before (the labeler's live lease comes back)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.labeling.models import Task, TaskState
from tests.labeling.conftest import good_label
from tests.labeling.test_queue_api import add_batch

pytestmark = pytest.mark.django_db


def _claim(client, project, key=None):
    body = {"lease_key": key} if key is not None else {}
    return client.post(f"/api/v1/projects/{project.id}/queue/next", body, format="json")


def test_each_key_holds_its_own_task_and_gets_it_back(project, members, org_admin, make_rows, client_for):
    add_batch(project, org_admin, make_rows(6, prefix="keys"))
    client = client_for(members["labeler"])
    first = {key: _claim(client, project, key).json()["task"] for key in ("w1", "w2", "w3")}
    assert len(set(first.values())) == 3
    again = {key: _claim(client, project, key).json()["task"] for key in ("w3", "w1", "w2")}
    assert again == first
    leased = Task.objects.filter(assignee=members["labeler"], state=TaskState.IN_PROGRESS)
    assert {str(t.pk): t.lease_key for t in leased} == {task: key for key, task in first.items()}
    # No key: the oldest live lease, as before keys existed.
    assert _claim(client, project).json()["task"] == first["w1"]


def test_submitting_one_keys_task_leaves_the_others(project, members, org_admin, make_rows, client_for):
    add_batch(project, org_admin, make_rows(4, prefix="sub"))
    client = client_for(members["labeler"])
    a = _claim(client, project, "a").json()["task"]
    b = _claim(client, project, "b").json()["task"]
    assert client.post(f"/api/v1/tasks/{a}/labels", {"annotations": good_label()}, format="json").status_code == 201
    assert _claim(client, project, "b").json()["task"] == b
    fresh = _claim(client, project, "a").json()["task"]
    assert fresh not in (a, b)
    assert client.post(f"/api/v1/tasks/{b}/labels", {"annotations": good_label()}, format="json").status_code == 201


def test_past_the_limit_a_new_key_gets_the_oldest_lease(project_factory, members, org_admin, make_rows, client_for):
    from apps.labeling import services

    project = project_factory(name="Two leases", review={"sample_rate": 0.0}, lease={"max_per_labeler": 2})
    services.project_member_set(actor=org_admin, project=project, user=members["labeler"], role="labeler")
    add_batch(project, org_admin, make_rows(5, prefix="cap"))
    client = client_for(members["labeler"])
    one = _claim(client, project, "one").json()["task"]
    two = _claim(client, project, "two").json()["task"]
    assert one != two
    assert _claim(client, project, "three").json()["task"] == one
    assert Task.objects.filter(assignee=members["labeler"], state=TaskState.IN_PROGRESS).count() == 2


def test_an_expired_keyed_lease_frees_its_place(project_factory, members, org_admin, make_rows, client_for):
    from apps.labeling import services

    project = project_factory(name="One lease", review={"sample_rate": 0.0}, lease={"max_per_labeler": 1})
    services.project_member_set(actor=org_admin, project=project, user=members["labeler"], role="labeler")
    add_batch(project, org_admin, make_rows(3, prefix="exp"))
    client = client_for(members["labeler"])
    held = _claim(client, project, "x").json()["task"]
    assert _claim(client, project, "y").json()["task"] == held  # the limit is 1
    Task.objects.filter(pk=held).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    # The run-out lease no longer counts: "y" claims afresh (the expired task is first in queue order again).
    claimed = Task.objects.get(pk=_claim(client, project, "y").json()["task"])
    assert claimed.lease_key == "y" and claimed.lease_expires_at > timezone.now()
    assert Task.objects.filter(assignee=members["labeler"], state=TaskState.IN_PROGRESS).count() == 1


def test_keys_never_give_one_labeler_two_slots_of_a_consensus_row(
    project_factory, org_admin, members, make_rows, client_for
):
    from apps.labeling import services

    project = project_factory(
        name="Consensus keys", quality={"consensus_coverage": 1.0, "consensus_labelers": 3}, review={"sample_rate": 0.0}
    )
    services.project_member_set(actor=org_admin, project=project, user=members["labeler"], role="labeler")
    rows = make_rows(2, prefix="cons")
    add_batch(project, org_admin, rows)
    client = client_for(members["labeler"])
    claims = [_claim(client, project, f"k{i}") for i in range(4)]
    tasks = [c.json()["task"] for c in claims if c.status_code == 200]
    rows_held = Task.objects.filter(pk__in=tasks).values_list("data_row_id", flat=True)
    assert sorted(set(rows_held)) == sorted(r.pk for r in rows)  # one slot of each row, never two of one
    assert len(set(tasks)) == 2


@pytest.mark.parametrize("key", ["has space", "x" * 65, "slash/no", "", ["a"]])
def test_a_malformed_key_is_refused(project, members, org_admin, make_rows, client_for, key):
    add_batch(project, org_admin, make_rows(1, prefix="bad"))
    response = _claim(client_for(members["labeler"]), project, key)
    assert response.status_code == 400, response.content
    assert "lease_key" in response.json()["error"]["details"]
    assert not Task.objects.filter(project=project, state=TaskState.IN_PROGRESS).exists()


def test_an_unknown_claim_field_is_refused(project, members, org_admin, make_rows, client_for):
    add_batch(project, org_admin, make_rows(1, prefix="unk"))
    response = client_for(members["labeler"]).post(
        f"/api/v1/projects/{project.id}/queue/next", {"leasekey": "a"}, format="json"
    )
    assert response.status_code == 400 and "leasekey" in response.json()["error"]["details"]


@pytest.mark.parametrize("value", [0, 33, "4", None])
def test_the_limit_setting_is_validated(project, org_admin, client_for, value):
    response = client_for(org_admin).patch(
        f"/api/v1/projects/{project.id}", {"lease": {"max_per_labeler": value}}, format="json"
    )
    assert response.status_code == 400, response.content
