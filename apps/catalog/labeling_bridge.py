"""Connects the catalog to labeling: a selection can become a batch in a project, and a data row's lineage lists the
projects, batches and labels it went through. Registered from `CatalogConfig.ready()` (catalog depends on labeling,
never the other way round)."""

from __future__ import annotations

from typing import Any

from apps.accounts.models import User
from apps.catalog.registry import LineageSection, SelectionTarget, register_lineage_section, register_selection_target
from apps.datasets.models import DataRow
from apps.labeling.access import access_project, can, projects_visible_to
from apps.labeling.models import Label, Task
from apps.labeling.services import batch_create


def _project_options(actor: User) -> list[dict[str, str]]:
    return [
        {"value": str(project.id), "label": project.name}
        for project in projects_visible_to(actor).filter(archived=False).order_by("name")
        if can(actor, project, "manage")
    ]


def _send_to_project(actor: User, row_ids: list[str], option: str, name: str) -> dict[str, Any]:
    project = access_project(actor, option, "manage")
    result = batch_create(actor=actor, project=project, name=name, data_row_ids=row_ids)
    return {
        "project": str(project.id),
        "batch": str(result.batch.id),
        "added": result.added,
        "already_in_project": len(result.already_in_project),
    }


def _labeling_lineage(actor: User, data_row: DataRow) -> LineageSection:
    visible = {p.id: p for p in projects_visible_to(actor)}
    tasks = Task.objects.filter(data_row=data_row, project_id__in=list(visible)).select_related("batch", "project")
    labels = Label.objects.filter(data_row=data_row, project_id__in=list(visible), is_current=True).select_related(
        "labeler"
    )
    by_project: dict[Any, list[str]] = {}
    for label in labels:
        if can(actor, visible[label.project_id], "view_work") or label.labeler_id == actor.pk:
            by_project.setdefault(label.project_id, []).append(f"{label.labeler.username} (revision {label.revision})")
    items = [
        {
            "project": task.project.name,
            "batch": task.batch.name,
            "priority": task.priority,
            "slot": task.slot,
            "state": task.state,
            "labels": by_project.get(task.project_id, []),
            "queued_at": task.created_at.isoformat(),
        }
        for task in tasks
    ]
    return LineageSection(key="labeling", title="Projects and labels", items=items, empty_text="Not in any project.")


def register() -> None:
    register_selection_target(
        SelectionTarget(
            key="labeling.batch",
            label="Create a batch in a project",
            options=_project_options,
            send=_send_to_project,
        )
    )
    register_lineage_section(_labeling_lineage)
