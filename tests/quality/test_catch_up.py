"""Scoring catch-up: labels whose scoring task never ran (broker down at submit, worker killed mid-task) are found
in the database and scored; a broker outage never fails the submit."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.utils import timezone
from django_q.conf import Conf

from apps.labeling import services as labeling_services
from apps.labeling.models import Label
from apps.quality import services
from apps.quality.models import ConsensusScore, LabelScore
from tests.quality.conftest import add_batch, weather

pytestmark = pytest.mark.django_db


def submit_all(project, labelers, answers):
    for user, answer in zip(labelers, answers, strict=True):
        task = labeling_services.queue_claim(actor=user, project=project)
        labeling_services.label_submit(actor=user, task=task, annotations=weather(answer))


def test_catch_up_scores_labels_whose_task_was_lost(consensus_project, org_admin, labelers, make_rows):
    row = make_rows(1)[0]
    add_batch(consensus_project, org_admin, [row])
    submit_all(consensus_project, labelers, ["sunny", "sunny", "rain"])
    # As if the scoring tasks were lost: no scores at all.
    LabelScore.objects.all().delete()
    ConsensusScore.objects.all().delete()

    assert services.rows_unscored() == []  # still within the grace period: their task may be on its way
    later = timezone.now() + timedelta(minutes=5)
    assert services.rows_unscored(now=later) == [(consensus_project.pk, row.pk)]
    assert services.scores_catch_up(now=later) == 1

    assert LabelScore.objects.filter(project=consensus_project).count() == 3
    consensus = ConsensusScore.objects.get(project=consensus_project, data_row=row)
    assert consensus.score == pytest.approx(2 / 3) and consensus.complete
    assert services.scores_catch_up(now=later) == 0  # nothing left; running it again changes nothing


def test_catch_up_ignores_labels_older_than_the_window(consensus_project, org_admin, labelers, make_rows, settings):
    row = make_rows(1)[0]
    add_batch(consensus_project, org_admin, [row])
    submit_all(consensus_project, labelers, ["sunny", "sunny", "sunny"])
    LabelScore.objects.all().delete()
    settings.TDP_SCORE_CATCHUP_WINDOW_HOURS = 1
    assert services.rows_unscored(now=timezone.now() + timedelta(hours=2)) == []


def test_catch_up_leaves_rows_with_nothing_to_score(project_factory, org_admin, labelers, make_rows):
    """One label, no consensus slot and no benchmark reference in the project: never scored, so never "lost"."""
    project = project_factory(name="Plain catch-up", review={"sample_rate": 0.0})
    labeling_services.project_member_set(actor=org_admin, project=project, user=labelers[0], role="labeler")
    add_batch(project, org_admin, make_rows(1))
    submit_all(project, labelers[:1], ["sunny"])
    assert Label.objects.filter(project=project, is_current=True).count() == 1
    assert services.rows_unscored(now=timezone.now() + timedelta(minutes=5)) == []


def test_submit_stores_the_label_when_the_broker_is_down(
    monkeypatch, consensus_project, org_admin, labelers, make_rows, client_for, caplog
):
    """The scoring hook runs after commit; the broker refuses; the label is stored, the API answers 201 and the
    failure is logged at ERROR."""
    from apps.core import queue

    def broker_down(*args, **kwargs):
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(Conf, "SYNC", False)
    monkeypatch.setattr(queue, "async_task", broker_down)
    row = make_rows(1)[0]
    add_batch(consensus_project, org_admin, [row])
    client = client_for(labelers[0])
    task = client.post(f"/api/v1/projects/{consensus_project.id}/queue/next").json()["task"]
    with caplog.at_level(logging.ERROR, logger="tdp.queue"):
        response = client.post(f"/api/v1/tasks/{task}/labels", {"annotations": weather("sunny")}, format="json")
    assert response.status_code == 201, response.content
    assert Label.objects.filter(pk=response.json()["id"]).exists()
    assert not LabelScore.objects.exists()
    assert any("Could not enqueue apps.quality.tasks.score_data_row" in r.getMessage() for r in caplog.records)
