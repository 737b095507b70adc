"""Benchmark references (gold labels) and serving benchmark rows to labelers."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import Exists, OuterRef, Q

from apps.accounts.models import User
from apps.core.audit import audit_record
from apps.core.errors import Conflict, NotFound
from apps.labeling import services as labeling_services
from apps.labeling.models import Label, Project, Task, TaskKind
from apps.quality.domain.interleaving import FIRST_BENCHMARKS, benchmark_due
from apps.quality.models import BenchmarkReference
from apps.quality.services.scoring import scores_enqueue


@transaction.atomic
def benchmark_set(*, actor: User, label: Label) -> BenchmarkReference:
    """Make the label the benchmark reference of its data row (replacing the row's previous reference)."""
    label = Label.objects.select_related("task", "project").get(pk=label.pk)
    if not label.is_current:
        raise Conflict("Only the current revision of a label can be the benchmark.", code="stale_revision")
    if label.task.kind == TaskKind.BENCHMARK:
        raise Conflict("A label written on a benchmark task cannot be the reference.", code="benchmark_task_label")
    reference, created = BenchmarkReference.objects.select_for_update().get_or_create(
        project_id=label.project_id, data_row_id=label.data_row_id, defaults={"label": label, "created_by": actor}
    )
    labeling_services.project_mark(project_id=label.project_id, has_benchmark_references=True)
    replaced = None
    if not created and reference.label_id != label.pk:
        replaced = str(reference.label_id)
        reference.label = label
        reference.created_by = actor
        reference.save(update_fields=["label", "created_by", "updated_at"])
    audit_record(
        action="benchmark.set",
        actor=actor,
        organization=label.project.organization,
        target=label,
        extra={"data_row": str(label.data_row_id), "replaced": replaced},
    )
    scores_enqueue(project_id=label.project_id, data_row_id=label.data_row_id)
    return reference


@transaction.atomic
def benchmark_unset(*, actor: User, label: Label) -> None:
    deleted, _ = BenchmarkReference.objects.filter(label=label).delete()
    if not deleted:
        raise NotFound("This label is not a benchmark reference.", code="not_benchmark")
    audit_record(
        action="benchmark.unset",
        actor=actor,
        organization=label.project.organization,
        target=label,
        extra={"data_row": str(label.data_row_id)},
    )
    scores_enqueue(project_id=label.project_id, data_row_id=label.data_row_id)


def benchmark_claim(project: Project, actor: User, now: datetime) -> Task | None:
    """The labeling queue's claim source: the first FIRST_BENCHMARKS tasks a labeler gets are benchmark rows (while
    there are any they have not done), then each claim is one with probability `quality.benchmark_rate`. Runs inside
    the claim transaction with the labeler's row locked, so counts and the new slot are consistent."""
    if not project.has_benchmark_references:
        return None
    references = BenchmarkReference.objects.filter(project=project)
    if not references.exists():
        return None
    rate = float(project.settings.get("quality", {}).get("benchmark_rate") or 0)
    gotten = Task.objects.filter(project=project).filter(Q(labeled_by=actor) | Q(assignee=actor)).count()
    if gotten >= FIRST_BENCHMARKS and rate <= 0:
        return None
    if not benchmark_due(project=project.name, labeler=actor.username, served=gotten, rate=rate):
        return None
    labeled = Label.objects.filter(project=project, data_row_id=OuterRef("data_row_id"), labeler=actor)
    holding = Task.objects.filter(project=project, data_row_id=OuterRef("data_row_id"), assignee=actor)
    todo = (
        references.exclude(Exists(labeled))
        .exclude(Exists(holding))
        .order_by("created_at", "id")
        .values_list("data_row_id", "label__task__batch_id")
        .first()
    )
    if todo is None:
        return None
    data_row_id, batch_id = todo
    return labeling_services.benchmark_task_lease(
        project=project, actor=actor, data_row_id=data_row_id, batch_id=batch_id, now=now
    )
