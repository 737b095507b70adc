"""The live half of every figure: labels, reworks, reviews, decisions, issues, rows done and quality scores read
from the source tables (GROUP BY in the database)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import Case, Count, Exists, IntegerField, OuterRef, Q, QuerySet, Sum, Value, When

from apps.accounts.models import User
from apps.analytics.domain import histogram as hist
from apps.analytics.selectors.common import SCORE_FIGURES, Figures, Key, _add, _grouped, _keys, _time, bucket_of
from apps.issues.models import Issue
from apps.labeling.models import Label, Project, Task, TaskKind, TaskState
from apps.quality import selectors as quality_selectors
from apps.quality.models import LabelScore
from apps.review.models import Review, ReviewDecision


def _rework_labels(project: Project) -> QuerySet[Label]:
    rejected = Review.objects.filter(label_id=OuterRef("previous_id"), decision=ReviewDecision.REJECT)
    return Label.objects.filter(project=project, previous__isnull=False).filter(Exists(rejected))


@dataclass
class _Sources:
    labels: QuerySet[Label]
    reworks: QuerySet[Label]
    reviews: QuerySet[Review]
    decisions: QuerySet[Review]
    issues: QuerySet[Issue]
    done: QuerySet[Task]


def _sources(project: Project, when: Callable[[str], Q], only: User | None) -> _Sources:
    """The source rows, each limited to the moments `when(time field)` selects."""
    labels = Label.objects.filter(project=project, revision=1).filter(when("created_at"))
    reworks = _rework_labels(project).filter(when("created_at"))
    reviews = Review.objects.filter(project=project).filter(when("created_at"))
    decisions = reviews
    issues = Issue.objects.filter(project=project, label__isnull=False).filter(when("created_at"))
    done = (
        Task.objects.filter(project=project, state=TaskState.DONE)
        .exclude(kind=TaskKind.BENCHMARK)
        .filter(when("done_at"))
    )
    if only is not None:
        labels = labels.filter(labeler=only)
        reworks = reworks.filter(labeler=only)
        reviews = reviews.filter(reviewer=only)
        decisions = decisions.filter(label__labeler=only)
        issues = issues.filter(label__labeler=only)
        done = done.filter(labeled_by=only)
    return _Sources(labels, reworks, reviews, decisions, issues, done)


def _scores(project: Project, when: Callable[[str], Q], only: User | None) -> QuerySet[LabelScore]:
    """The quality app's scores of current labels created at the moments `when` selects."""
    scores = LabelScore.objects.filter(project=project, label__is_current=True).filter(when("label__created_at"))
    return scores.filter(labeler=only) if only is not None else scores


def _benchmark_bin() -> Any:
    """The quality app's histogram bin of a benchmark score: [i/10, (i+1)/10), 1.0 in the last; None below 0."""
    bins = quality_selectors.HISTOGRAM_BINS
    whens = [When(benchmark_score__gte=i / bins, then=Value(i)) for i in range(bins - 1, -1, -1)]
    return Case(*whens, default=None, output_field=IntegerField())


def live_score_figures(scores: QuerySet[LabelScore], dims: list[str]) -> dict[Key, Figures]:
    total: dict[Key, Figures] = {}
    _add(
        total,
        _grouped(
            scores,
            _keys(dims, "scores"),
            benchmark_sum=Sum("benchmark_score"),
            benchmark_n=Count("benchmark_score"),
            consensus_sum=Sum("consensus_agreement"),
            consensus_n=Count("consensus_agreement"),
        ),
        SCORE_FIGURES,
    )
    return total


def live_benchmark_bins(scores: QuerySet[LabelScore], dims: list[str]) -> dict[Key, hist.Histogram]:
    found: dict[Key, hist.Histogram] = {}
    binned = scores.filter(benchmark_score__isnull=False).annotate(bin=_benchmark_bin()).filter(bin__isnull=False)
    for key, row in _grouped(binned, [*_keys(dims, "scores"), "bin"], n=Count("pk")).items():
        found.setdefault(key[:-1], {})[int(key[-1])] = row["n"]
    return found


def _timed_counts(queryset: QuerySet[Any], keys: list[Any], noun: str) -> dict[Key, dict[str, Any]]:
    """Per key: how many (`<noun>s`), their seconds summed (`<noun>_seconds`) and how many had seconds (`_timed`)."""
    timed = queryset.annotate(t=_time())
    counts = {f"{noun}s": Count("pk"), f"{noun}_seconds": Sum("t"), f"{noun}_timed": Count("t")}
    return _grouped(timed, keys, **counts)


def live_figures(src: _Sources, dims: list[str], counts_only: bool = False) -> dict[Key, Figures]:
    """The additive figures of the source rows per tuple of dimensions (GROUP BY in the database)."""
    total: dict[Key, Figures] = {}
    for noun, queryset, source in (
        ("label", src.labels, "labels"),
        ("rework", src.reworks, "labels"),
        ("review", src.reviews, "reviews"),
    ):
        _add(total, _timed_counts(queryset, _keys(dims, source), noun))
    _add(total, _grouped(src.done, _keys(dims, "done"), rows_done=Count("pk")))
    if not counts_only:
        _add(
            total,
            _grouped(
                src.decisions,
                _keys(dims, "decisions"),
                decisions=Count("pk"),
                approved=Count("pk", filter=Q(decision=ReviewDecision.APPROVE)),
                rejected=Count("pk", filter=Q(decision=ReviewDecision.REJECT)),
            ),
        )
        _add(total, _grouped(src.issues, _keys(dims, "issues"), issues=Count("pk")))
    return total


def live_histograms(src: _Sources, dims: list[str]) -> dict[Key, dict[str, hist.Histogram]]:
    """Per tuple of dimensions: the seconds histograms of labels ("label") and reviews ("review")."""
    found: dict[Key, dict[str, hist.Histogram]] = {}
    for kind, queryset, source in (("label", src.labels, "labels"), ("review", src.reviews, "reviews")):
        timed = queryset.annotate(t=_time()).filter(t__isnull=False).annotate(bucket=bucket_of("t"))
        keys = _keys(dims, source)
        counted = _grouped(timed, [*keys, "bucket"], n=Count("pk"))
        for key, row in counted.items():
            per_kind = found.setdefault(key[:-1], {"label": {}, "review": {}})
            per_kind[kind][int(key[-1])] = row["n"]
    return found
