"""Consensus slots, waiting for all labels, scoring on submit, flagging to review first, benchmarks in the queue."""

from __future__ import annotations

import pytest

from apps.core.errors import Conflict
from apps.labeling import services as labeling_services
from apps.labeling.models import Label, Task, TaskKind, TaskState
from apps.quality import services
from apps.quality.domain.interleaving import FIRST_BENCHMARKS, benchmark_due
from apps.quality.models import ConsensusScore, LabelScore
from apps.review import services as review_services
from tests.quality.conftest import add_batch, boxes, weather

pytestmark = pytest.mark.django_db


def claim_and_submit(user, project, annotations):
    task = labeling_services.queue_claim(actor=user, project=project)
    assert task is not None, f"{user.username} got nothing to label"
    return labeling_services.label_submit(actor=user, task=task, annotations=annotations)


def test_consensus_row_waits_for_every_slot_then_moves_on_together(consensus_project, org_admin, labelers, make_rows):
    row = make_rows(1)[0]
    add_batch(consensus_project, org_admin, [row])
    assert Task.objects.filter(project=consensus_project, data_row=row, kind=TaskKind.CONSENSUS).count() == 3

    first = claim_and_submit(labelers[0], consensus_project, weather("sunny"))
    second = claim_and_submit(labelers[1], consensus_project, weather("sunny"))
    states = set(Task.objects.filter(pk__in=[first.task_id, second.task_id]).values_list("state", flat=True))
    assert states == {TaskState.AWAITING_CONSENSUS}
    # The same labeler never gets a second slot of the row.
    assert labeling_services.queue_claim(actor=labelers[0], project=consensus_project) is None

    claim_and_submit(labelers[2], consensus_project, weather("rain"))
    assert set(Task.objects.filter(data_row=row).values_list("state", flat=True)) == {TaskState.DONE}


def test_consensus_rows_go_to_review_together_when_sampled(project_factory, org_admin, labelers, make_rows):
    project = project_factory(
        name="Reviewed consensus",
        quality={"consensus_coverage": 1.0, "consensus_labelers": 2},
        review={"sample_rate": 1.0},
    )
    for user in labelers[:2]:
        labeling_services.project_member_set(actor=org_admin, project=project, user=user, role="labeler")
    add_batch(project, org_admin, make_rows(1))
    claim_and_submit(labelers[0], project, weather("sunny"))
    assert set(Task.objects.filter(project=project).values_list("state", flat=True)) == {
        TaskState.AWAITING_CONSENSUS,
        TaskState.TO_LABEL,
    }
    claim_and_submit(labelers[1], project, weather("sunny"))
    assert set(Task.objects.filter(project=project).values_list("state", flat=True)) == {TaskState.IN_REVIEW}


def test_skipping_the_last_open_slot_releases_the_waiting_labels(consensus_project, org_admin, labelers, make_rows):
    add_batch(consensus_project, org_admin, make_rows(1))
    claim_and_submit(labelers[0], consensus_project, weather("sunny"))
    claim_and_submit(labelers[1], consensus_project, weather("sunny"))
    task = labeling_services.queue_claim(actor=labelers[2], project=consensus_project)
    labeling_services.task_skip(actor=labelers[2], task=task, reason="cannot see the sky")
    states = sorted(Task.objects.filter(project=consensus_project).values_list("state", flat=True))
    assert states == [TaskState.DONE, TaskState.DONE, TaskState.SKIPPED]


def test_labeler_can_edit_while_waiting_for_consensus(consensus_project, org_admin, labelers, make_rows):
    add_batch(consensus_project, org_admin, make_rows(1))
    label = claim_and_submit(labelers[0], consensus_project, weather("sunny"))
    edited = labeling_services.label_edit(actor=labelers[0], label=label, annotations=weather("rain"))
    assert edited.revision == 2
    assert Task.objects.get(pk=label.task_id).state == TaskState.AWAITING_CONSENSUS
    score = LabelScore.objects.get(label=edited)
    assert score.consensus_agreement is None  # one label so far: nothing to agree with


def test_batch_overrides_the_projects_consensus_settings(project_factory, org_admin, make_rows):
    project = project_factory(name="Override", quality={"consensus_coverage": 0.0})
    result = add_batch(project, org_admin, make_rows(3), quality={"consensus_coverage": 1.0, "consensus_labelers": 2})
    assert result.batch.quality == {"consensus_coverage": 1.0, "consensus_labelers": 2}
    kinds = list(Task.objects.filter(project=project).values_list("kind", flat=True))
    assert kinds.count(TaskKind.CONSENSUS) == 6


def test_scores_follow_each_submit(consensus_project, org_admin, labelers, make_rows):
    row = make_rows(1)[0]
    add_batch(consensus_project, org_admin, [row])
    a1 = claim_and_submit(labelers[0], consensus_project, weather("sunny"))
    assert not ConsensusScore.objects.filter(data_row=row).exists()
    a2 = claim_and_submit(labelers[1], consensus_project, weather("sunny"))
    partial = ConsensusScore.objects.get(data_row=row)
    assert (partial.score, partial.label_count, partial.complete) == (1.0, 2, False)
    b = claim_and_submit(labelers[2], consensus_project, weather("rain"))
    score = ConsensusScore.objects.get(data_row=row)
    assert score.score == pytest.approx(2 / 3)
    assert score.winner_id == a1.pk and score.complete and score.label_count == 3
    means = {entry["label"]: entry["agreement"] for entry in score.labels}
    assert means == {str(a1.pk): 0.5, str(a2.pk): 0.5, str(b.pk): 0.0}
    assert LabelScore.objects.get(label=b).consensus_agreement == 0.0
    # Rerunning the scoring changes nothing (idempotent).
    again = services.row_score(project=consensus_project, data_row_id=row.pk)
    assert again is not None and again.pk == score.pk and again.score == pytest.approx(2 / 3)
    assert ConsensusScore.objects.filter(data_row=row).count() == 1


def test_low_consensus_rows_are_flagged_and_reviewed_first(
    project_factory, org_admin, labelers, make_rows, make_user, org
):
    project = project_factory(
        name="Flags",
        quality={"consensus_coverage": 1.0, "consensus_labelers": 2, "consensus_threshold": 0.9},
        review={"sample_rate": 1.0},
    )
    reviewer = make_user(role="reviewer", organization=org, username="q-reviewer")
    for user in labelers[:2]:
        labeling_services.project_member_set(actor=org_admin, project=project, user=user, role="labeler")
    labeling_services.project_member_set(actor=org_admin, project=project, user=reviewer, role="reviewer")
    agreeing, disputed = make_rows(2)
    add_batch(project, org_admin, [agreeing], name="first")
    add_batch(project, org_admin, [disputed], name="second")
    for user in labelers[:2]:
        claim_and_submit(user, project, weather("sunny"))
    claim_and_submit(labelers[0], project, weather("sunny"))
    claim_and_submit(labelers[1], project, weather("rain"))

    flags = dict(ConsensusScore.objects.filter(project=project).values_list("data_row_id", "flagged"))
    assert flags == {agreeing.pk: False, disputed.pk: True}
    # The disputed row was queued later and with the same priority, yet it is reviewed first.
    task = review_services.review_claim(actor=reviewer, project=project)
    assert task is not None and task.data_row_id == disputed.pk


def test_benchmark_scores_against_the_reference(project_factory, org_admin, labelers, manager, make_rows):
    project = project_factory(name="Gold", review={"sample_rate": 0.0})
    for user in labelers:
        labeling_services.project_member_set(actor=org_admin, project=project, user=user, role="labeler")
    row = make_rows(1)[0]
    add_batch(project, org_admin, [row])
    gold = claim_and_submit(labelers[0], project, boxes((0, 0, 100, 100)) + weather("sunny"))
    services.benchmark_set(actor=manager, label=gold)
    project.refresh_from_db()  # the project now has a reference (`has_benchmark_references`, read per request)

    # The next labelers are served the benchmark row first, as a task like any other.
    half = claim_and_submit(labelers[1], project, boxes((0, 0, 100, 50)) + weather("sunny"))
    assert Task.objects.get(pk=half.task_id).kind == TaskKind.BENCHMARK
    assert Task.objects.get(pk=half.task_id).state == TaskState.DONE  # scored, not reviewed
    wrong = claim_and_submit(labelers[2], project, weather("rain"))
    assert LabelScore.objects.get(label=half).benchmark_score == pytest.approx((0.5 + 1.0) / 2)
    assert LabelScore.objects.get(label=wrong).benchmark_score == 0.0
    assert LabelScore.objects.get(label=gold).benchmark_score is None  # the reference itself

    # A label written on a benchmark task cannot become the reference; removing the reference clears the scores.
    with pytest.raises(Conflict):
        services.benchmark_set(actor=manager, label=half)
    services.benchmark_unset(actor=manager, label=gold)
    assert LabelScore.objects.get(label=half).benchmark_score is None


def test_benchmark_interleaving_follows_the_rule(project_factory, org_admin, labelers, manager, make_rows):
    """Seeded: the first five tasks are benchmark rows, then each claim is one with the draw's probability."""
    project = project_factory(name="Interleave", quality={"benchmark_rate": 0.3}, review={"sample_rate": 0.0})
    author, newcomer = labelers[0], labelers[1]
    for user in (author, newcomer):
        labeling_services.project_member_set(actor=org_admin, project=project, user=user, role="labeler")
    gold_rows = make_rows(12, prefix="gold")
    add_batch(project, org_admin, gold_rows, name="gold", priority=5)
    for _ in gold_rows:
        services.benchmark_set(actor=manager, label=claim_and_submit(author, project, weather("sunny")))
    add_batch(project, org_admin, make_rows(40, prefix="work"), name="work")
    project.refresh_from_db()  # as a request would load it: with `has_benchmark_references` set

    kinds = []
    for _ in range(30):
        task = labeling_services.queue_claim(actor=newcomer, project=project)
        kinds.append(task.kind)
        labeling_services.label_submit(actor=newcomer, task=task, annotations=weather("sunny"))

    expected, left = [], len(gold_rows)
    for served in range(30):
        due = left > 0 and benchmark_due(project=project.name, labeler=newcomer.username, served=served, rate=0.3)
        expected.append(TaskKind.BENCHMARK if due else TaskKind.LABEL)
        left -= due
    assert kinds[:FIRST_BENCHMARKS] == [TaskKind.BENCHMARK] * FIRST_BENCHMARKS
    assert kinds == expected
    assert TaskKind.LABEL in kinds[FIRST_BENCHMARKS:] and TaskKind.BENCHMARK in kinds[FIRST_BENCHMARKS:]
    # Every benchmark label of the newcomer agrees with its reference.
    scores = LabelScore.objects.filter(labeler=newcomer, benchmark_score__isnull=False)
    assert scores.count() == kinds.count(TaskKind.BENCHMARK)
    assert set(scores.values_list("benchmark_score", flat=True)) == {1.0}


def test_recompute_rebuilds_deleted_scores(consensus_project, org_admin, labelers, make_rows):
    rows = make_rows(2)
    add_batch(consensus_project, org_admin, rows)
    for user in labelers:
        claim_and_submit(user, consensus_project, weather("sunny"))
        claim_and_submit(user, consensus_project, weather("rain" if user == labelers[2] else "sunny"))
    before = dict(ConsensusScore.objects.values_list("data_row_id", "score"))
    ConsensusScore.objects.all().delete()
    LabelScore.objects.all().delete()
    assert services.project_rescore(project=consensus_project) == 2
    assert dict(ConsensusScore.objects.values_list("data_row_id", "score")) == before
    assert LabelScore.objects.count() == Label.objects.filter(project=consensus_project).count()


def test_rows_without_consensus_or_references_are_not_scored(project_factory, org_admin, labelers, make_rows):
    """Nothing to score (one label, no reference in the project): no scoring task, no score rows; the first
    reference marks the project so its rows are scored from then on."""
    project = project_factory(name="Plain", review={"sample_rate": 0.0})
    labeling_services.project_member_set(actor=org_admin, project=project, user=labelers[0], role="labeler")
    add_batch(project, org_admin, make_rows(2))
    first = claim_and_submit(labelers[0], project, weather("sunny"))
    assert not LabelScore.objects.filter(label=first).exists()
    assert not project.has_benchmark_references
    services.benchmark_set(actor=org_admin, label=first)
    project.refresh_from_db()
    assert project.has_benchmark_references
