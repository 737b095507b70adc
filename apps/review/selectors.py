"""Reads of the review app."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import Q, QuerySet
from django.db.models.functions import Coalesce

from apps.accounts.models import User
from apps.core.counting import bounded_count
from apps.core.json_sql import JSONText, UuidText
from apps.labeling.access import projects_where
from apps.labeling.models import Label, Project, Task, TaskState
from apps.review.models import Review, ReviewDecision


def reviews_of_task(*, task_id: Any) -> QuerySet[Review]:
    return Review.objects.filter(task_id=task_id).select_related("reviewer").order_by("created_at", "id")


def serialize_review(review: Review) -> dict[str, Any]:
    return {
        "id": str(review.id),
        "label": str(review.label_id),
        "result_label": str(review.result_label_id) if review.result_label_id else None,
        "reviewer": str(review.reviewer_id),
        "reviewer_username": review.reviewer.username,
        "decision": review.decision,
        "edited": review.edited,
        "feedback": review.feedback,
        "overrode_open_issues": review.overrode_open_issues,
        "seconds_spent": review.seconds_spent,
        "server_seconds": review.server_seconds,
        "created_at": review.created_at.isoformat(),
    }


def label_decisions(label: Label) -> list[dict[str, Any]]:
    """Every decision on any revision of the label's task, oldest first (the label history shows them)."""
    return [serialize_review(r) for r in reviews_of_task(task_id=label.task_id)]


def latest_rework_feedback(task: Task) -> dict[str, Any] | None:
    """The reviewer's feedback that sent the task back, when its latest decision is a rejection."""
    latest = Review.objects.filter(task=task).select_related("reviewer").order_by("-created_at", "-id").first()
    if latest is None or latest.decision != ReviewDecision.REJECT:
        return None
    return {
        "text": latest.feedback,
        "reviewer": latest.reviewer.username,
        "review": str(latest.id),
        "created_at": latest.created_at.isoformat(),
    }


def projects_to_review(*, actor: User) -> list[Project]:
    """Projects where the actor may review, with `in_review` counts (`apps.core.counting.Count`: exact up to 1,000,
    else the database's estimate, shown as "about …"; a million-task project is not counted on each home page)."""
    projects = list(projects_where(actor, "review").filter(archived=False).order_by("name"))
    for project in projects:
        waiting = Task.objects.filter(project=project, state=TaskState.IN_REVIEW)
        project.in_review = bounded_count(waiting, 1_000)  # type: ignore[attr-defined]
    return projects


def review_texts_of_rows(
    *, project: Project, data_row_ids: Sequence[Any], id_range: tuple[Any, Any] | None = None
) -> list[tuple[Any, ...]]:
    """Every review decision on the rows' tasks in one query, oldest first, as `(task_id, result_label_id | None,
    seconds, json)` with the decision as JSON text built by the database (exports copy it through)."""
    review = JSONText(
        id="id",
        label="label_id",
        result_label="result_label_id",
        reviewer=JSONText(id="reviewer_id", username="reviewer__username", nested=True),
        decision="decision",
        feedback="feedback",
        edited="edited",
        overrode_open_issues="overrode_open_issues",
        seconds_spent="seconds_spent",
        server_seconds="server_seconds",
        created_at="created_at",
    )
    if id_range is not None:
        scope = Q(task__data_row_id__gte=id_range[0], task__data_row_id__lte=id_range[1])
    else:
        scope = Q(task__data_row_id__in=list(data_row_ids))
    return list(
        Review.objects.filter(scope, project=project)
        .annotate(
            task_text=UuidText("task_id"),
            result_text=UuidText("result_label_id"),
            seconds=Coalesce("seconds_spent", "server_seconds"),
            review_json=review,
        )
        .order_by("created_at", "id")
        .values_list("task_text", "result_text", "seconds", "review_json")
    )
