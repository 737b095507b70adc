"""Reads of the predictions app, already limited by the caller's access checks."""

from __future__ import annotations

from typing import Any

from django.db.models import Avg, Count, Q, QuerySet
from django.utils import timezone

from apps.labeling.models import Project, Task, TaskKind, TaskState
from apps.predictions.models import (
    AnnotationProvenance,
    LabelAssist,
    Model,
    ModelRun,
    Outcome,
    PredictionImport,
)

_SHOWN = (Outcome.ACCEPTED, Outcome.MODIFIED, Outcome.REJECTED)


def prelabel_stats(*, project: Project) -> dict[str, Any]:
    """Per feature: how many pre-labels were accepted unchanged, modified or rejected (and their shares of the
    pre-labels shown), plus annotations added by hand; mean seconds per label with vs without pre-labels."""
    rows = (
        AnnotationProvenance.objects.filter(project=project)
        .values("schema_id", "name", "outcome")
        .annotate(n=Count("id"))
        .order_by("name", "schema_id")
    )
    features: dict[str, dict[str, Any]] = {}
    for row in rows:
        entry = features.setdefault(
            str(row["schema_id"]),
            {"schema_id": str(row["schema_id"]), "name": row["name"], **dict.fromkeys(Outcome.values, 0)},
        )
        entry[row["outcome"]] += row["n"]
    for entry in features.values():
        shown = sum(entry[o] for o in _SHOWN)
        for outcome in _SHOWN:
            entry[f"{outcome}_share"] = round(entry[outcome] / shown, 4) if shown else None
        entry["prelabels"] = shown
    seconds = {}
    for key, flag in (("with_prelabels", True), ("without_prelabels", False)):
        found = LabelAssist.objects.filter(project=project, had_prelabels=flag).aggregate(
            mean=Avg("seconds", filter=Q(seconds__isnull=False)), labels=Count("label")
        )
        mean = found["mean"]
        seconds[key] = {"mean": round(mean, 3) if mean is not None else None, "labels": found["labels"]}
    with_mean, without_mean = seconds["with_prelabels"]["mean"], seconds["without_prelabels"]["mean"]
    saving = round(1 - with_mean / without_mean, 4) if with_mean is not None and without_mean else None
    return {
        "features": sorted(features.values(), key=lambda e: (e["name"], e["schema_id"])),
        "seconds": seconds | {"saving": saving},
    }


def models_of(queryset: QuerySet[Model]) -> QuerySet[Model]:
    return queryset.annotate(run_count=Count("runs")).order_by("-created_at", "-id")


def run_summary(*, run: ModelRun) -> dict[str, Any]:
    splits = {row["split"]: row["n"] for row in run.data_rows.values("split").annotate(n=Count("id"))}
    return {"data_rows": splits, "predictions": run.predictions.count()}


def imports_of_project(*, project: Project) -> QuerySet[PredictionImport]:
    return PredictionImport.objects.filter(project=project).select_related("created_by").order_by("-created_at")


def expert_queue(*, project: Project, overdue_only: bool = False) -> QuerySet[Task]:
    """The project's open expert tasks, lowest confidence first."""
    queryset = (
        Task.objects.filter(
            project=project,
            kind=TaskKind.EXPERT,
            state__in=[TaskState.TO_LABEL, TaskState.IN_PROGRESS, TaskState.IN_REWORK],
        )
        .select_related("data_row", "assignee")
        .order_by("confidence", "created_at", "id")
    )
    if overdue_only:
        queryset = queryset.filter(due_at__lt=timezone.now())
    return queryset
