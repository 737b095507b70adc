"""Connects the catalog to labeling: a selection can become a batch in a project; a data row's lineage lists the
projects, batches, labels, reviews and issues it went through; the plot can be coloured by label class. Registered
from `CatalogConfig.ready()` (catalog depends on labeling, never the other way round)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.urls import reverse

from apps.accounts.models import User
from apps.catalog.models import Slice
from apps.catalog.registry import (
    LineageSection,
    SelectionTarget,
    register_label_class_source,
    register_lineage_section,
    register_selection_target,
)
from apps.catalog.selectors import slice_row_ids, slices_visible_to
from apps.core.access import get_in_organization
from apps.datasets.models import DataRow
from apps.issues.models import Issue
from apps.labeling.access import access_project, projects_visible_to, projects_where
from apps.labeling.models import Annotation, Label, Task
from apps.labeling.registry import BatchRowSource, register_batch_row_source, register_project_link
from apps.labeling.services import batch_create
from apps.review.models import Review

# Who sees the catalog in the top bar and on project pages: those who manage datasets (the base template checks the
# same roles).
CATALOG_ROLES = ("admin", "team_manager")


def _project_options(actor: User) -> list[dict[str, str]]:
    return [
        {"value": str(project.id), "label": project.name}
        for project in projects_where(actor, "manage").filter(archived=False).order_by("name")
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
    visible = projects_visible_to(actor).values("pk")
    sees_work = set(projects_where(actor, "view_work").values_list("pk", flat=True))
    tasks = Task.objects.filter(data_row=data_row, project_id__in=visible).select_related("batch", "project")
    labels = Label.objects.filter(data_row=data_row, project_id__in=visible, is_current=True).select_related("labeler")
    by_project: dict[Any, list[str]] = {}
    for label in labels:
        if label.project_id in sees_work or label.labeler_id == actor.pk:
            by_project.setdefault(label.project_id, []).append(f"{label.labeler.username} (revision {label.revision})")
    reviews: dict[Any, list[str]] = {}
    for review in Review.objects.filter(task__in=tasks).select_related("reviewer").order_by("created_at"):
        note = f"{review.decision} by {review.reviewer.username}"
        reviews.setdefault(review.task_id, []).append(f"{note}: {review.feedback}" if review.feedback else note)
    issues: dict[Any, Counter[str]] = {}
    for task_id, status in Issue.objects.filter(task__in=tasks).values_list("task_id", "status"):
        issues.setdefault(task_id, Counter())[status] += 1
    items = [
        {
            "project": task.project.name,
            "batch": task.batch.name,
            "priority": task.priority,
            "slot": task.slot,
            "state": task.state,
            "labels": by_project.get(task.project_id, []),
            "reviews": reviews.get(task.pk, []),
            "issues": dict(issues.get(task.pk, Counter())),
            "queued_at": task.created_at.isoformat(),
        }
        for task in tasks
    ]
    return LineageSection(key="labeling", title="Projects and labels", items=items, empty_text="Not in any project.")


def _label_classes(actor: User, row_ids: list[Any]) -> dict[Any, str]:
    """Per data row, the most frequent top-level feature of its current labels in projects the actor may see
    (a tool's name, or a radio classification's chosen answer)."""
    if not row_ids:
        return {}
    visible = projects_where(actor, "view_work").values("pk")
    counts: dict[Any, Counter[str]] = {}
    rows = Annotation.objects.filter(
        data_row_id__in=row_ids, project_id__in=visible, parent__isnull=True, label__is_current=True
    ).values_list("data_row_id", "kind", "name", "answer")
    for row_id, kind, name, answer in rows:
        if kind in ("radio",) and isinstance(answer, dict):
            key = str(answer.get("name") or name)
        elif kind in ("checklist", "text"):
            continue
        else:
            key = name
        counts.setdefault(row_id, Counter())[key] += 1
    return {row_id: counter.most_common(1)[0][0] for row_id, counter in counts.items()}


def _slice_choices(actor: User) -> list[tuple[str, str]]:
    return [(str(s.pk), s.name) for s in slices_visible_to(actor=actor).order_by("name")]


def _slice_rows(actor: User, value: str) -> list[str]:
    slice_ = get_in_organization(Slice.objects.all(), actor, value)
    return slice_row_ids(actor=actor, slice_=slice_)


def _catalog_link(actor: User, project: Any) -> tuple[str, str] | None:
    """The project page's link to the catalog (its datasets, similarity, slices), for those who manage data."""
    if not actor.is_superuser and actor.role not in CATALOG_ROLES:
        return None
    return ("Catalog", reverse("catalog-home"))


def register() -> None:
    register_project_link(_catalog_link)
    register_batch_row_source(
        BatchRowSource(key="slice", label="A catalog slice", choices=_slice_choices, row_ids=_slice_rows)
    )
    register_selection_target(
        SelectionTarget(
            key="labeling.batch",
            label="Create a batch in a project",
            options=_project_options,
            send=_send_to_project,
        )
    )
    register_lineage_section(_labeling_lineage)
    register_label_class_source(_label_classes)
