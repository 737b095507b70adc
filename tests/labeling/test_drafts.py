"""Drafts of (task, user): only the owner reads or writes theirs; a submit deletes it; a draft is never a label
(no label row, no export line, no analytics figure, no event for webhooks)."""

from __future__ import annotations

import json

import pytest

from apps.core import events
from apps.labeling import services
from apps.labeling.models import Draft, Label
from tests.labeling.conftest import good_label

pytestmark = pytest.mark.django_db

MARKER = "draft-only-marker-7f3a"


def _draft_body(revision: int | None = None) -> dict:
    body: dict = {"annotations": [{"name": "vehicle", "bbox": {"top": 1, "left": 2, "height": 3}, "note": MARKER}]}
    if revision is not None:
        body["revision"] = revision
    return body


@pytest.fixture
def setup(project, members, make_rows, org_admin):
    rows = make_rows(3)
    services.batch_create(actor=org_admin, project=project, name="b", data_row_ids=[str(r.pk) for r in rows])
    labeler = members["labeler"]
    task = services.queue_claim(actor=labeler, project=project)
    return project, members, task


def test_owner_saves_reads_and_deletes_their_draft(setup, client_for):
    _project, members, task = setup
    client = client_for(members["labeler"])
    url = f"/api/v1/tasks/{task.pk}/draft"
    assert client.get(url).status_code == 404
    # Loosely checked: a half-drawn box (no width) is a fine draft, though not a valid label.
    saved = client.put(url, {**_draft_body(revision=3), "seconds_spent": 42.5}, format="json")
    assert saved.status_code == 200, saved.content
    assert saved.json()["revision"] == 3 and saved.json()["seconds_spent"] == 42.5
    got = client.get(url).json()
    assert got["annotations"][0]["note"] == MARKER and got["task"] == str(task.pk)
    assert client.delete(url).status_code == 204
    assert client.get(url).status_code == 404
    assert client.delete(url).status_code == 204  # deleting nothing is fine


def test_an_older_revision_does_not_overwrite_a_newer_draft(setup, client_for):
    _, members, task = setup
    client = client_for(members["labeler"])
    url = f"/api/v1/tasks/{task.pk}/draft"
    assert client.put(url, _draft_body(revision=5), format="json").status_code == 200
    stale = client.put(url, {"annotations": [], "revision": 4}, format="json")
    assert stale.status_code == 409
    assert stale.json()["error"]["code"] == "stale_draft"
    assert stale.json()["error"]["details"]["revision"] == 5
    assert client.get(url).json()["annotations"][0]["note"] == MARKER


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"annotations": {"name": "x"}}, 400),
        ({"annotations": ["not an object"]}, 400),
        ({"annotations": [], "revision": -1}, 400),
        ({"annotations": [], "colour": "red"}, 400),
        ({}, 400),
        ({"annotations": [], "seconds_spent": "long"}, 400),
    ],
)
def test_bad_draft_bodies_are_400(setup, client_for, body, status):
    _, members, task = setup
    response = client_for(members["labeler"]).put(f"/api/v1/tasks/{task.pk}/draft", body, format="json")
    assert response.status_code == status
    assert set(response.json()["error"]) == {"code", "message", "details"}
    assert not Draft.objects.exists()


def test_too_many_annotations_is_413(setup, client_for, settings):
    settings.TDP_MAX_ANNOTATIONS_PER_LABEL = 3
    _, members, task = setup
    body = {"annotations": [{"name": "vehicle"}] * 4}
    response = client_for(members["labeler"]).put(f"/api/v1/tasks/{task.pk}/draft", body, format="json")
    assert response.status_code == 413


def test_nobody_else_reads_or_writes_the_draft(setup, client_for, org_admin, other_org, make_user):
    _project, members, task = setup
    url = f"/api/v1/tasks/{task.pk}/draft"
    assert client_for(members["labeler"]).put(url, _draft_body(), format="json").status_code == 200
    # The org admin and the project's team manager may label, but the draft is not theirs: none to read, none to keep.
    for user in (org_admin, members["team_manager"], members["admin"]):
        client = client_for(user)
        assert client.get(url).status_code == 404
        assert client.put(url, {"annotations": []}, format="json").status_code == 403
        assert client.delete(url).status_code == 204
    assert client_for(members["reviewer"]).get(url).status_code == 403
    assert client_for(members["outsider"]).get(url).status_code == 404
    stranger = make_user(role="admin", organization=other_org, username="other-admin")
    assert client_for(stranger).get(url).status_code == 404
    assert client_for(stranger).put(url, _draft_body(), format="json").status_code == 404
    # Their deletes deleted nothing of the owner's.
    assert client_for(members["labeler"]).get(url).json()["annotations"][0]["note"] == MARKER


def test_reclaim_after_the_lease_expired_gets_the_draft_back(setup, client_for):
    project, members, task = setup
    labeler = members["labeler"]
    client = client_for(labeler)
    client.put(f"/api/v1/tasks/{task.pk}/draft", _draft_body(), format="json")
    from django.utils import timezone

    type(task).objects.filter(pk=task.pk).update(lease_expires_at=timezone.now() - timezone.timedelta(minutes=1))
    claim = client.post(f"/api/v1/projects/{project.pk}/queue/next")
    assert claim.status_code == 200 and claim.json()["task"] == str(task.pk)
    assert client.get(f"/api/v1/tasks/{task.pk}/draft").json()["annotations"][0]["note"] == MARKER


def test_submit_deletes_the_draft_and_only_the_submitters(setup, client_for):
    project, members, task = setup
    labeler = members["labeler"]
    Draft.objects.create(task=task, user=members["team_manager"], project=project, annotations=[])
    client = client_for(labeler)
    client.put(f"/api/v1/tasks/{task.pk}/draft", _draft_body(), format="json")
    submit = client.post(f"/api/v1/tasks/{task.pk}/labels", {"annotations": good_label()}, format="json")
    assert submit.status_code == 201
    assert not Draft.objects.filter(user=labeler).exists()
    assert Draft.objects.filter(user=members["team_manager"]).exists()
    # The task is submitted: no new draft of it (it is in review only if sampled; this project reviews none).
    again = client.put(f"/api/v1/tasks/{task.pk}/draft", _draft_body(), format="json")
    assert again.status_code == 403


def test_editing_my_unreviewed_label_keeps_a_draft_and_the_edit_deletes_it(
    project_factory, make_rows, org_admin, members, client_for
):
    reviewed = project_factory(name="Reviewed", review={"sample_rate": 1.0})
    from apps.labeling.models import ProjectRole

    services.project_member_set(actor=org_admin, project=reviewed, user=members["labeler"], role=ProjectRole.LABELER)
    rows = make_rows(1, prefix="rv")
    services.batch_create(actor=org_admin, project=reviewed, name="b", data_row_ids=[str(rows[0].pk)])
    labeler = members["labeler"]
    task = services.queue_claim(actor=labeler, project=reviewed)
    label = services.label_submit(actor=labeler, task=task, annotations=good_label())
    client = client_for(labeler)
    url = f"/api/v1/tasks/{task.pk}/draft"
    assert client.put(url, _draft_body(), format="json").status_code == 200  # in review: still mine to edit
    edit = client.patch(f"/api/v1/labels/{label.pk}", {"annotations": good_label()[:1]}, format="json")
    assert edit.status_code == 200, edit.content
    assert edit.json()["revision"] == 2
    assert client.get(url).status_code == 404


def test_a_draft_is_never_a_label_export_figure_or_event(setup, client_for, org_admin):
    project, members, task = setup
    seen: list[events.Event] = []
    events.register_listener(seen.append)
    try:
        response = client_for(members["labeler"]).put(f"/api/v1/tasks/{task.pk}/draft", _draft_body(), format="json")
        assert response.status_code == 200
    finally:
        events.unregister_listener(seen.append)
    assert seen == []  # webhooks listen to these events: a draft announces nothing
    assert not Label.objects.exists()
    admin = client_for(org_admin)
    labels = admin.get(f"/api/v1/projects/{project.pk}/labels").json()
    assert labels["results"] == []
    export = admin.get(f"/api/v1/projects/{project.pk}/export.ndjson")
    assert export.status_code == 200
    content = b"".join(export.streaming_content) if export.streaming else export.content
    lines = [json.loads(line) for line in content.decode().splitlines() if line.strip()]
    assert len(lines) == 3 and MARKER not in content.decode()
    performance = admin.get(f"/api/v1/projects/{project.pk}/performance")
    assert performance.status_code == 200, performance.content
    figures = performance.json()
    assert figures["summary"]["labels"] == 0 and figures["summary"]["label_seconds"] == 0
    assert figures["rows"] == []  # the labeler with a draft has done no work yet


def test_org_admins_list_drafts_read_only_and_without_content(
    setup, client, client_for, org_admin, other_org, make_user
):
    _project, members, task = setup
    client_for(members["labeler"]).put(f"/api/v1/tasks/{task.pk}/draft", _draft_body(), format="json")
    draft = Draft.objects.get()
    client.force_login(org_admin)
    listing = client.get("/admin/labeling/draft/")
    assert listing.status_code == 200
    html = listing.content.decode()
    assert members["labeler"].username in html and MARKER not in html
    detail = client.get(f"/admin/labeling/draft/{draft.pk}/change/")
    assert detail.status_code == 200 and MARKER not in detail.content.decode()
    assert client.post(f"/admin/labeling/draft/{draft.pk}/delete/").status_code == 403
    client.force_login(make_user(role="admin", organization=other_org, username="other-admin"))
    assert members["labeler"].username not in client.get("/admin/labeling/draft/").content.decode()
