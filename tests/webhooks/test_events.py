"""Emitters outside the labeling cycle: consensus completion (every slot done, then the batch), a row falling under
the consensus threshold (once, not again while it stays flagged), a labeler's edit (`label.updated`)."""

from __future__ import annotations

import pytest

from apps.labeling import services as labeling_services
from apps.quality.models import ConsensusScore
from tests.labeling.conftest import good_label
from tests.quality.conftest import add_batch, weather

pytestmark = pytest.mark.django_db


def test_consensus_row_done_batch_done_and_threshold_breached_once(
    org,
    org_admin,
    consensus_project,
    labelers,
    make_rows,
    make_webhook,
    receiver,
    django_capture_on_commit_callbacks,
):
    hook = make_webhook(["task.done", "batch.done", "quality.threshold_breached"])
    row = make_rows(1, prefix="cons")[0]
    add_batch(consensus_project, org_admin, [row])
    labels = []
    with django_capture_on_commit_callbacks(execute=True):
        for user, answer in zip(labelers, ["sunny", "sunny", "rain"], strict=True):
            task = labeling_services.queue_claim(actor=user, project=consensus_project)
            labels.append(labeling_services.label_submit(actor=user, task=task, annotations=weather(answer)))
    assert ConsensusScore.objects.get(data_row=row).flagged
    types = [r.headers["X-TDP-Event"] for r in receiver.requests]
    assert types == ["task.done"] * 3 + ["batch.done", "quality.threshold_breached"]
    done_tasks = {r.json["data"]["id"] for r in receiver.requests[:3]}
    assert done_tasks == {str(label.task_id) for label in labels}
    breach = receiver.requests[-1].json["data"]
    assert breach["data_row"] == str(row.id) and breach["flagged"] is True
    assert breach["score"] == pytest.approx(2 / 3) and breach["threshold"] == 0.9
    assert breach["project"] == str(consensus_project.id)
    assert all(r.signed_with(hook.secret) for r in receiver.requests)

    # Rescoring a row that stays flagged announces nothing new.
    from apps.quality.services import row_score

    with django_capture_on_commit_callbacks(execute=True):
        row_score(project=consensus_project, data_row_id=row.id)
    assert len(receiver.requests) == 5


def test_labeler_edit_is_label_updated(
    project, members, queue, make_webhook, receiver, django_capture_on_commit_callbacks
):
    make_webhook(["label.updated"])
    queue(low=1)
    labeler = members["labeler"]
    with django_capture_on_commit_callbacks(execute=True):
        task = labeling_services.queue_claim(actor=labeler, project=project)
        first = labeling_services.label_submit(actor=labeler, task=task, annotations=good_label())
        edited = labeling_services.label_edit(actor=labeler, label=first, annotations=good_label()[:1])
    assert [r.headers["X-TDP-Event"] for r in receiver.requests] == ["label.updated"]
    data = receiver.requests[0].json["data"]
    assert data["id"] == str(edited.id) and data["revision"] == 2 and len(data["annotations"]) == 1


def test_import_through_the_api_is_one_event(
    org_admin, client_for, make_webhook, receiver, django_capture_on_commit_callbacks
):
    make_webhook(["data_rows.imported"])
    client = client_for(org_admin)
    dataset = client.post("/api/v1/datasets", {"name": "api-import"}, format="json").json()
    rows = [{"global_key": f"k{i}", "row_data": f"https://example.com/{i}.jpg"} for i in range(3)] + [{"x": 1}]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/api/v1/datasets/{dataset['id']}/data_rows", rows, format="json")
    assert response.status_code == 200, response.content
    assert len(receiver.requests) == 1
    data = receiver.requests[0].json["data"]
    assert data == {
        "dataset": dataset["id"],
        "format": "json",
        "job": None,
        "created": 3,
        "updated": 0,
        "failed": 1,
    }
