"""Scoring: a data row's consensus and its labels' benchmark scores, recomputed from the current labels.

Every submit, edit or reference change enqueues `apps.quality.tasks.score_data_row` after commit. The task recomputes
that one row from scratch (so running it twice, or out of order, gives the same rows) under a per-row advisory lock,
so two workers scoring the same row one after the other cannot let an older snapshot win.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from apps.accounts.models import User
from apps.core.audit import audit_record
from apps.core.events import emit
from apps.core.ids import uuid7_floor
from apps.core.jobs import job_create_and_enqueue, job_progress
from apps.core.models import Job
from apps.core.queue import enqueue_coalesced
from apps.datasets.models import DataRow, VideoAsset
from apps.labeling import services as labeling_services
from apps.labeling.models import Label, Project, Task, TaskKind
from apps.quality import registry
from apps.quality.domain.agreement import agreement
from apps.quality.domain.consensus import consensus
from apps.quality.domain.video_agreement import video_agreement
from apps.quality.domain.video_consensus import video_consensus
from apps.quality.models import BenchmarkReference, ConsensusScore, LabelScore
from apps.quality.serialization import serialize_consensus

FLAGGED_REVIEW_PRIORITY = 10
_RECOMPUTE_CHUNK = 500


def scores_enqueue(*, project_id: Any, data_row_id: Any) -> None:
    """Score the row once the current transaction commits (the label must be visible to the worker); on SQLite
    gathered with the other rows this process scores within a second (`enqueue_coalesced`: one task, each
    row once). `scores_catch_up` finds rows whose task was lost."""
    project, row = str(project_id), str(data_row_id)
    transaction.on_commit(
        lambda: enqueue_coalesced("apps.quality.tasks.score_data_row", project, row, task_name=f"score:{project}:{row}")
    )


# Labels whose row has something to score (the rule `apps.quality.hooks.on_label_stored` applies at submit): a
# consensus or benchmark slot, or any label of a project that has benchmark references. Others never get a score.
NEEDS_SCORE = Q(task__kind__in=[TaskKind.CONSENSUS, TaskKind.BENCHMARK]) | Q(project__has_benchmark_references=True)


def rows_unscored(*, now: Any = None, limit: int = 1000) -> list[tuple[Any, Any]]:
    """(project, data row) pairs with a current label that has no score yet, older than the catch-up grace (its
    task was lost with a killed worker, or the broker was down at submit). Only recent labels are looked at."""
    from django.conf import settings as django_settings

    now = now or timezone.now()
    grace = timedelta(seconds=django_settings.TDP_SCORE_CATCHUP_GRACE_SECONDS)
    window = timedelta(hours=django_settings.TDP_SCORE_CATCHUP_WINDOW_HOURS)
    since, until = now - window, now - grace
    pairs = (
        Label.objects.filter(
            # UUIDv7 ids are time-ordered: the id range walks the primary key index, not the whole table.
            id__gte=uuid7_floor(since),
            id__lt=uuid7_floor(until),
            is_current=True,
            quality_score__isnull=True,
            created_at__gte=since,
            created_at__lt=until,
        )
        .filter(NEEDS_SCORE)
        .order_by("project_id", "data_row_id")
        .values_list("project_id", "data_row_id")
        .distinct()[:limit]
    )
    return list(pairs)


def scores_catch_up(*, now: Any = None, limit: int = 1000) -> int:
    """Score the rows `rows_unscored` finds, each in its own transaction (idempotent). Returns the rows scored."""
    done = 0
    for project_id, data_row_id in rows_unscored(now=now, limit=limit):
        project = Project.objects.filter(pk=project_id).first()
        if project is not None:
            row_score(project=project, data_row_id=data_row_id)
            done += 1
    return done


def _row_lock(project_id: Any, data_row_id: Any) -> None:
    if connection.vendor == "postgresql":
        key = zlib.crc32(f"quality:{project_id}:{data_row_id}".encode())
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])
    # SQLite: write transactions are already serialized.


def _quality_settings(project: Project) -> dict[str, Any]:
    return dict(project.settings.get("quality", {}))


def _image_size(data_row: DataRow) -> tuple[float, float] | None:
    return (float(data_row.width), float(data_row.height)) if data_row.width and data_row.height else None


def _frame_count(data_row: DataRow) -> int | None:
    """The probed frame count of a video row (video labels are compared track by track), else None."""
    if data_row.media_type != "video":
        return None
    return VideoAsset.objects.filter(pk=data_row.pk).values_list("frame_count", flat=True).first() or 0


def _agree(a: Any, b: Any, size: Any, sigma: float, frames: int | None) -> Any:
    if frames is not None:
        return video_agreement(a, b, frame_count=frames, image_size=size, point_sigma=sigma)
    return agreement(a, b, image_size=size, point_sigma=sigma)


@transaction.atomic
def row_score(*, project: Project, data_row_id: Any) -> ConsensusScore | None:
    """Recompute the row's consensus (over the current labels of its labeling and consensus slots) and the
    benchmark score of each current label against the row's reference. Returns the consensus row, if any."""
    _row_lock(project.pk, data_row_id)
    data_row = DataRow.objects.get(pk=data_row_id)
    settings = _quality_settings(project)
    sigma = float(settings.get("point_sigma") or 0.01)
    size = _image_size(data_row)
    frames = _frame_count(data_row)
    labels = list(
        Label.objects.filter(project=project, data_row_id=data_row_id, is_current=True)
        .select_related("task")
        .order_by("created_at", "id")
    )
    reference = BenchmarkReference.objects.filter(project=project, data_row_id=data_row_id).select_related("label")
    gold = reference.first()
    now = timezone.now()
    scores: dict[Any, LabelScore] = {
        label.pk: LabelScore(
            label=label, project=project, data_row_id=data_row_id, labeler_id=label.labeler_id, computed_at=now
        )
        for label in labels
    }
    if gold is not None:
        for label in labels:
            if label.pk == gold.label_id:
                continue
            result = _agree(label.annotations, gold.label.annotations, size, sigma, frames)
            scores[label.pk].benchmark_score = result.score
            scores[label.pk].benchmark_features = result.features
            scores[label.pk].reference_id = gold.label_id
    peers = [label for label in labels if label.task.kind != TaskKind.BENCHMARK]
    outcome = _consensus(project, data_row_id, peers, scores, size, sigma, settings, now, frames)
    LabelScore.objects.bulk_create(
        list(scores.values()),
        update_conflicts=True,
        unique_fields=["label"],
        update_fields=[
            "consensus_agreement",
            "consensus_features",
            "benchmark_score",
            "benchmark_features",
            "reference",
            "computed_at",
            "updated_at",
        ],
    )
    registry.scores_written(project, labels)
    return outcome


def _breach_payload(project: Project, row: ConsensusScore, threshold: Any) -> dict[str, Any]:
    return {"project": str(project.pk), "threshold": float(threshold), **serialize_consensus(row)}


def _consensus(
    project: Project,
    data_row_id: Any,
    peers: list[Label],
    scores: dict[Any, LabelScore],
    size: tuple[float, float] | None,
    sigma: float,
    settings: dict[str, Any],
    now: Any,
    frames: int | None = None,
) -> ConsensusScore | None:
    if len(peers) < 2:
        ConsensusScore.objects.filter(project=project, data_row_id=data_row_id).delete()
        labeling_services.review_priority_set(project=project, data_row_id=data_row_id, priority=0)
        return None
    documents = [label.annotations for label in peers]
    if frames is not None:
        result = video_consensus(documents, frame_count=frames, image_size=size, point_sigma=sigma)
    else:
        result = consensus(documents, image_size=size, point_sigma=sigma)
    winner = peers[result.winner]
    entries = []
    for label, mean in zip(peers, result.label_means, strict=True):
        with_winner = _agree(label.annotations, winner.annotations, size, sigma, frames)
        scores[label.pk].consensus_agreement = mean
        scores[label.pk].consensus_features = with_winner.features
        entries.append({"label": str(label.pk), "labeler": str(label.labeler_id), "agreement": mean})
    threshold = settings.get("consensus_threshold")
    flagged = threshold is not None and result.score < float(threshold)
    open_slots = Task.objects.filter(
        project=project, data_row_id=data_row_id, kind=TaskKind.CONSENSUS, labels__isnull=True
    ).exists()
    values = {
        "score": result.score,
        "winner": winner,
        "label_count": len(peers),
        "complete": not open_slots,
        "labels": entries,
        "features": result.features,
        "flagged": flagged,
        "computed_at": now,
    }
    breached = (
        flagged and not ConsensusScore.objects.filter(project=project, data_row_id=data_row_id, flagged=True).exists()
    )
    row, _ = ConsensusScore.objects.update_or_create(project=project, data_row_id=data_row_id, defaults=values)
    if breached:
        emit(
            type="quality.threshold_breached",
            organization_id=project.organization_id,
            project_id=project.pk,
            object=lambda: _breach_payload(project, row, threshold),
        )
    labeling_services.review_priority_set(
        project=project, data_row_id=data_row_id, priority=FLAGGED_REVIEW_PRIORITY if flagged else 0
    )
    return row


def project_recompute(*, actor: User, project: Project) -> Job:
    """Recompute every labeled row of the project in a background job (after an ontology or settings change)."""
    audit_record(action="quality.recompute", actor=actor, organization=project.organization, target=project)
    return job_create_and_enqueue(
        user=actor,
        kind="quality_recompute",
        func="apps.quality.tasks.recompute_project",
        params={"project": str(project.pk)},
    )


def project_rescore(*, project: Project, progress: Callable[[int, int], None] | None = None) -> int:
    """Rescore every row with a current label, each row in its own transaction (safe to rerun or interrupt), and
    drop the scores of rows that have no label any more. Returns the rows scored."""
    row_ids = list(
        Label.objects.filter(project=project, is_current=True)
        .order_by("data_row_id")
        .values_list("data_row_id", flat=True)
        .distinct()
    )
    if progress is not None:
        progress(0, len(row_ids))
    for done, data_row_id in enumerate(row_ids, start=1):
        row_score(project=project, data_row_id=data_row_id)
        if progress is not None and (done % _RECOMPUTE_CHUNK == 0 or done == len(row_ids)):
            progress(done, len(row_ids))
    ConsensusScore.objects.filter(project=project).exclude(data_row_id__in=row_ids).delete()
    return len(row_ids)


def project_recompute_run(job: Job) -> dict[str, Any]:
    """The recompute job's body."""
    project = Project.objects.get(pk=job.params["project"])
    rows = project_rescore(project=project, progress=lambda done, total: job_progress(job, done=done, total=total))
    return {"rows": rows}
