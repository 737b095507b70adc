"""Every read of the quality app: project summaries, per labeler / feature / row, one row's consensus."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import connection
from django.db.models import Avg, Count, Q, QuerySet
from django.utils import timezone

from apps.core.json_sql import IdsParam
from apps.labeling.models import Label, Project
from apps.ontologies.domain.tree import walk
from apps.quality.models import BenchmarkReference, ConsensusScore, LabelScore

HISTOGRAM_BINS = 10
TREND_DAYS = 7


def _histogram(queryset: QuerySet[Any], field: str) -> list[int]:
    """Counts of scores in 10 equal bins over [0, 1] (1.0 falls in the last bin)."""
    bins = [0] * HISTOGRAM_BINS
    filters = {
        f"b{i}": Count(
            "pk", filter=Q(**{f"{field}__gte": i / HISTOGRAM_BINS, f"{field}__lt": (i + 1) / HISTOGRAM_BINS})
        )
        for i in range(HISTOGRAM_BINS - 1)
    }
    filters["last"] = Count("pk", filter=Q(**{f"{field}__gte": (HISTOGRAM_BINS - 1) / HISTOGRAM_BINS}))
    counts = queryset.aggregate(**filters)
    for i in range(HISTOGRAM_BINS - 1):
        bins[i] = counts[f"b{i}"]
    bins[-1] = counts["last"]
    return bins


def _by_labeler(scores: QuerySet[LabelScore], field: str, threshold: float | None) -> list[dict[str, Any]]:
    since = timezone.now() - timedelta(days=TREND_DAYS)
    rows = (
        scores.values("labeler", "labeler__username")
        .annotate(
            mean=Avg(field),
            n=Count("pk"),
            recent=Avg(field, filter=Q(label__created_at__gte=since)),
            earlier=Avg(field, filter=Q(label__created_at__lt=since)),
        )
        .order_by("mean", "labeler__username")
    )
    out = []
    for row in rows:
        trend = None
        if row["recent"] is not None and row["earlier"] is not None:
            trend = row["recent"] - row["earlier"]
        out.append(
            {
                "user": str(row["labeler"]),
                "username": row["labeler__username"],
                "mean": row["mean"],
                "n": row["n"],
                "trend": trend,
                "below_threshold": threshold is not None and row["mean"] < threshold,
            }
        )
    return out


def _current_scores(project: Project) -> QuerySet[LabelScore]:
    return LabelScore.objects.filter(project=project, label__is_current=True)


def feature_names(project: Project) -> dict[str, str]:
    return {str(n.schema_id): n.path for n in walk(project.ontology_version.tree) if n.schema_id}


# Mean and count per feature of a {schema_id: score} JSON column, aggregated in the database (no row loop in Python).
_FEATURE_SQL = {
    ("postgresql", "consensus"): (
        "SELECT f.key, AVG(f.value::float), COUNT(*) FROM quality_consensusscore s, jsonb_each_text(s.features) f "
        "WHERE s.project_id = %s GROUP BY f.key"
    ),
    ("postgresql", "benchmark"): (
        "SELECT f.key, AVG(f.value::float), COUNT(*) FROM quality_labelscore s "
        "JOIN labeling_label l ON l.id = s.label_id, jsonb_each_text(s.benchmark_features) f "
        "WHERE s.project_id = %s AND l.is_current AND s.benchmark_features IS NOT NULL GROUP BY f.key"
    ),
    ("sqlite", "consensus"): (
        "SELECT f.key, AVG(CAST(f.value AS REAL)), COUNT(*) FROM quality_consensusscore s, json_each(s.features) f "
        "WHERE s.project_id = %s GROUP BY f.key"
    ),
    ("sqlite", "benchmark"): (
        "SELECT f.key, AVG(CAST(f.value AS REAL)), COUNT(*) FROM quality_labelscore s "
        "JOIN labeling_label l ON l.id = s.label_id, json_each(s.benchmark_features) f "
        "WHERE s.project_id = %s AND l.is_current AND s.benchmark_features IS NOT NULL GROUP BY f.key"
    ),
}


def _feature_means(kind: str, project: Project) -> list[dict[str, Any]]:
    with connection.cursor() as cursor:
        cursor.execute(
            _FEATURE_SQL[(connection.vendor, kind)], [project.pk.hex if connection.vendor == "sqlite" else project.pk]
        )
        rows = cursor.fetchall()
    names = feature_names(project)
    return sorted(
        ({"schema_id": key, "name": names.get(key, key), "mean": float(mean), "n": n} for key, mean, n in rows),
        key=lambda item: (item["mean"], item["name"]),
    )


def project_quality(*, project: Project) -> dict[str, Any]:
    """API.md's quality summary plus histograms, per-feature means, trends and the threshold lists."""
    settings = project.settings.get("quality", {})
    consensus_threshold = settings.get("consensus_threshold")
    benchmark_threshold = settings.get("benchmark_threshold")
    rows = ConsensusScore.objects.filter(project=project)
    consensus_totals = rows.aggregate(mean=Avg("score"), rows=Count("pk"), flagged=Count("pk", filter=Q(flagged=True)))
    current = _current_scores(project)
    with_consensus = current.filter(consensus_agreement__isnull=False)
    with_benchmark = current.filter(benchmark_score__isnull=False)
    benchmark_totals = with_benchmark.aggregate(mean=Avg("benchmark_score"), rows=Count("data_row", distinct=True))
    return {
        "consensus": {
            "mean": consensus_totals["mean"],
            "rows": consensus_totals["rows"],
            "flagged_rows": consensus_totals["flagged"],
            "threshold": consensus_threshold,
            "by_labeler": _by_labeler(with_consensus, "consensus_agreement", None),
            "by_feature": _feature_means("consensus", project),
            "histogram": _histogram(rows, "score"),
        },
        "benchmark": {
            "mean": benchmark_totals["mean"],
            "rows": benchmark_totals["rows"],
            "references": BenchmarkReference.objects.filter(project=project).count(),
            "threshold": benchmark_threshold,
            "by_labeler": _by_labeler(
                with_benchmark, "benchmark_score", float(benchmark_threshold) if benchmark_threshold else None
            ),
            "by_feature": _feature_means("benchmark", project),
            "histogram": _histogram(with_benchmark, "benchmark_score"),
        },
    }


def consensus_histogram(*, project: Project) -> list[int]:
    """The consensus score histogram of the project's rows (10 bins)."""
    return _histogram(ConsensusScore.objects.filter(project=project), "score")


def score_histograms(*, project: Project) -> dict[str, list[int]]:
    """Only the two histograms (for dashboards that do not need the rest of the summary)."""
    return {
        "consensus": consensus_histogram(project=project),
        "benchmark": _histogram(_current_scores(project).filter(benchmark_score__isnull=False), "benchmark_score"),
    }


def consensus_rows(*, project: Project, flagged: bool | None = None) -> QuerySet[ConsensusScore]:
    """Rows by lowest consensus first (cursor-paginated by the caller)."""
    queryset = ConsensusScore.objects.filter(project=project).select_related("data_row")
    if flagged is not None:
        queryset = queryset.filter(flagged=flagged)
    return queryset.order_by("score", "id")


def row_consensus(*, project: Project, data_row_id: Any) -> ConsensusScore | None:
    return ConsensusScore.objects.filter(project=project, data_row_id=data_row_id).first()


def row_labels_overlay(*, project: Project, data_row_id: Any) -> list[dict[str, Any]]:
    """Every current label of the row with its labeler and scores, for the overlay page."""
    references = set(
        BenchmarkReference.objects.filter(project=project, data_row_id=data_row_id).values_list("label_id", flat=True)
    )
    labels = (
        Label.objects.filter(project=project, data_row_id=data_row_id, is_current=True)
        .select_related("labeler", "task", "quality_score")
        .order_by("created_at", "id")
    )
    out = []
    for label in labels:
        score = getattr(label, "quality_score", None)
        out.append(
            {
                "label": label,
                "is_reference": label.pk in references,
                "kind": label.task.kind,
                "consensus_agreement": score.consensus_agreement if score else None,
                "benchmark_score": score.benchmark_score if score else None,
            }
        )
    return out


def benchmark_label_ids(*, label_ids: list[Any]) -> set[Any]:
    """Which of these labels are benchmark references (gold stars on pages and in the admin)."""
    return set(BenchmarkReference.objects.filter(label_id__in=IdsParam(label_ids)).values_list("label_id", flat=True))


def label_scores_of_rows(*, project: Project, data_row_ids: list[str]) -> dict[str, dict[str, dict[str, Any]]]:
    """Per data row, each current label's consensus agreement and benchmark score (with the reference it was scored
    against), for exports."""
    found: dict[str, dict[str, dict[str, Any]]] = {}
    rows = (
        _current_scores(project)
        .filter(data_row_id__in=IdsParam(data_row_ids))
        .values_list("data_row_id", "label_id", "consensus_agreement", "benchmark_score", "reference_id")
    )
    for row_id, label_id, agreement, benchmark, reference in rows:
        found.setdefault(str(row_id), {})[str(label_id)] = {
            "consensus_agreement": agreement,
            "benchmark_score": benchmark,
            "benchmark_reference": str(reference) if reference else None,
        }
    return found
