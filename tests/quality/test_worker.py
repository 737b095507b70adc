"""End to end with a real `qcluster`: three labelers submit on a consensus row through the API; seconds later the
row's score, winner and per-labeler numbers are there, computed by the worker after each commit."""

from __future__ import annotations

import pytest
from django_q.conf import Conf

from apps.labeling.models import Label
from tests.core.test_worker import wait_for
from tests.quality.conftest import add_batch, weather
from tests.worker import running_qcluster

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def scoring_runs_at_once():
    """Here the scoring hook runs the real way: on commit, through the broker, in the worker."""


def test_consensus_scores_arrive_from_the_worker(
    monkeypatch, consensus_project, org_admin, labelers, manager, make_rows, client_for
):
    monkeypatch.setattr(Conf, "SYNC", False)
    row = make_rows(1)[0]
    add_batch(consensus_project, org_admin, [row])
    answers = ["sunny", "sunny", "rain"]
    with running_qcluster() as process:
        for user, answer in zip(labelers, answers, strict=True):
            client = client_for(user)
            task = client.post(f"/api/v1/projects/{consensus_project.id}/queue/next").json()["task"]
            created = client.post(f"/api/v1/tasks/{task}/labels", {"annotations": weather(answer)}, format="json")
            assert created.status_code == 201, created.content

        manager_client = client_for(manager)
        url = f"/api/v1/projects/{consensus_project.id}/data_rows/{row.id}/consensus"

        def scored_with_all_three():
            response = manager_client.get(url)
            return response.json() if response.status_code == 200 and response.json()["label_count"] == 3 else None

        try:
            body = wait_for(scored_with_all_three, timeout=60)
        except AssertionError:
            output = process.stdout.read1().decode() if process.stdout else ""
            raise AssertionError(f"no score from the worker; its output:\n{output}") from None

    first = Label.objects.get(labeler=labelers[0])
    assert body["score"] == pytest.approx(2 / 3)
    assert body["winner"] == str(first.id)
    assert body["complete"] is True and body["flagged"] is True
    summary = manager_client.get(f"/api/v1/projects/{consensus_project.id}/quality").json()
    by_user = {row["username"]: row["mean"] for row in summary["consensus"]["by_labeler"]}
    assert by_user == {
        labelers[0].username: pytest.approx(0.5),
        labelers[1].username: pytest.approx(0.5),
        labelers[2].username: pytest.approx(0.0),
    }
