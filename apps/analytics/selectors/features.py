"""The figures per ontology feature: annotations, labels using it, decisions, pinned issues, quality means."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q

from apps.accounts.models import User
from apps.analytics.domain.figures import per_hundred, ratio
from apps.analytics.selectors.common import Range, _grouped_by
from apps.issues.models import Issue
from apps.labeling.models import Annotation, Project
from apps.quality import selectors as quality_selectors
from apps.review.models import Review, ReviewDecision


def _feature_rows(project: Project, window: Range, only: User | None) -> list[dict[str, Any]]:
    """Per feature (top-level tools and classifications): annotations, labels using it, decisions on those labels,
    issues pinned to it, and the quality means per feature."""
    annotations = Annotation.objects.filter(project=project, parent__isnull=True, label__revision=1).filter(
        window.q("label__created_at")
    )
    decisions = Review.objects.filter(project=project, label__annotation_rows__parent__isnull=True).filter(
        window.q("created_at")
    )
    issues = Issue.objects.filter(project=project, feature_schema_id__isnull=False).filter(window.q("created_at"))
    if only is not None:
        annotations = annotations.filter(label__labeler=only)
        decisions = decisions.filter(label__labeler=only)
        issues = issues.filter(label__labeler=only)
    used = _grouped_by(annotations, "schema_id", n=Count("pk"), labels=Count("label", distinct=True))
    decided = _grouped_by(
        decisions,
        "label__annotation_rows__schema_id",
        n=Count("pk", distinct=True),
        approved=Count("pk", filter=Q(decision=ReviewDecision.APPROVE), distinct=True),
    )
    pinned = _grouped_by(issues, "feature_schema_id", n=Count("pk"))
    names = quality_selectors.feature_names(project)
    quality = {} if only is not None else quality_selectors.project_quality(project=project)
    consensus = {f["schema_id"]: f["mean"] for f in quality.get("consensus", {}).get("by_feature", [])}
    benchmark = {f["schema_id"]: f["mean"] for f in quality.get("benchmark", {}).get("by_feature", [])}
    rows = []
    for key in set(used) | set(pinned):
        sid = str(key)
        n_labels = used.get(key, {}).get("labels", 0)
        dec = decided.get(key, {})
        rows.append(
            {
                "key": sid,
                "name": names.get(sid, sid),
                "annotations": used.get(key, {}).get("n", 0),
                "labels": n_labels,
                "approval_rate": ratio(dec.get("approved"), dec.get("n")),
                "issues": pinned.get(key, {}).get("n", 0),
                "issues_per_100_labels": per_hundred(pinned.get(key, {}).get("n", 0), n_labels),
                "consensus_mean": consensus.get(sid),
                "benchmark_mean": benchmark.get(sid),
            }
        )
    return sorted(rows, key=lambda r: r["name"])
