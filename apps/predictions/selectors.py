"""Reads of the predictions app, already limited by the caller's access checks."""

from __future__ import annotations

from typing import Any

from django.db.models import Avg, Count, Q, QuerySet
from django.utils import timezone

from apps.core.json_sql import IdsParam
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


def provenance_of_rows(*, project: Project, data_row_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Per data row, what happened to the pre-labels in its labels (accepted / modified / added / rejected), for
    exports: one query per page of rows."""
    from apps.predictions.models import AnnotationProvenance

    found: dict[str, list[dict[str, Any]]] = {}
    rows = (
        AnnotationProvenance.objects.filter(project=project, label__data_row_id__in=IdsParam(data_row_ids))
        .order_by("label_id", "id")
        .values_list(
            "label__data_row_id", "label_id", "index", "prelabel_uuid", "schema_id", "name", "outcome", "confidence"
        )
    )
    for row_id, label_id, index, prelabel, schema_id, name, outcome, confidence in rows:
        found.setdefault(str(row_id), []).append(
            {
                "label": str(label_id),
                "index": index,
                "prelabel": str(prelabel) if prelabel else None,
                "schema_id": str(schema_id),
                "name": name,
                "outcome": outcome,
                "confidence": confidence,
            }
        )
    return found


def endpoint_progress(*, project: Project, key: str = "prelabel_endpoint") -> dict[str, Any] | None:
    """Automatic pre-labels of a project: rows sent / answered / failed (with the reasons, most frequent first),
    waiting, and the endpoint's circuit. None when no endpoint is set or it is gone."""
    from apps.core.ids import is_uuid
    from apps.predictions.models import EndpointRow, EndpointRowStatus, ModelEndpoint

    endpoint_id = (project.settings.get("model") or {}).get(key)
    if not endpoint_id or not is_uuid(endpoint_id):
        return None
    endpoint = ModelEndpoint.objects.filter(pk=endpoint_id, organization_id=project.organization_id).first()
    if endpoint is None:
        return None
    rows = EndpointRow.objects.filter(endpoint=endpoint, project=project)
    by_status = {r["status"]: r["n"] for r in rows.values("status").annotate(n=Count("id")).order_by()}
    errors = rows.exclude(error="").values("error", "status").annotate(rows=Count("id")).order_by("-rows", "error")[:20]
    return {
        "endpoint": {"id": str(endpoint.pk), "name": endpoint.name, "model_version": endpoint.model_version},
        "total": sum(by_status.values()),
        "sent": rows.filter(attempts__gt=0).count(),
        "answered": by_status.get(EndpointRowStatus.ANSWERED, 0),
        "failed": by_status.get(EndpointRowStatus.FAILED, 0),
        "waiting": by_status.get(EndpointRowStatus.PENDING, 0) + by_status.get(EndpointRowStatus.SENT, 0),
        "errors": [{"message": e["error"], "status": e["status"], "rows": e["rows"]} for e in errors],
        "circuit": endpoint.circuit,
        "opened_until": endpoint.opened_until.isoformat() if endpoint.opened_until else None,
    }
