"""Reviewer pages: to-review list → start → review page (asset with the label read-only, edit toggle) → decide →
next. Same services as the API."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from apps.accounts.access import request_user
from apps.accounts.models import User
from apps.accounts.page_context import HomeSection
from apps.core import json_limits
from apps.core.errors import ApplicationError
from apps.issues.selectors import issues_of_task
from apps.labeling import selectors as labeling_selectors
from apps.labeling.access import access_project, access_task
from apps.labeling.models import Label, Task, TaskState
from apps.review import selectors, services
from apps.review.models import ReviewLease


def to_review_section(user: User) -> HomeSection | None:
    """Projects the user reviews, with what waits in each; no section for someone who reviews nowhere (labelers,
    experts)."""
    projects = selectors.projects_to_review(actor=user)
    if not projects:
        return None
    items = [
        {
            "title": project.name,
            "url": reverse("review:start", args=[project.id]),
            "detail": f"{getattr(project, 'in_review', 0)} label(s) to review",
        }
        for project in projects
    ]
    return HomeSection(title="To review", items=items, empty_text="Nothing to review.")


@login_required
def review_start(request: HttpRequest, project_id: str) -> HttpResponse:
    user = request_user(request)
    project = access_project(user, project_id, "review")
    context = {"project": project, "overview": labeling_selectors.project_overview(project=project)}
    return render(request, "review/start.html", context)


@login_required
@require_POST
def review_next(request: HttpRequest, project_id: str) -> HttpResponse:
    user = request_user(request)
    project = access_project(user, project_id, "review")
    task = services.review_claim(actor=user, project=project)
    if task is None:
        messages.info(request, "Nothing left to review in this project for you.")
        return redirect("review:start", project_id=project.id)
    return redirect("review:review", task_id=task.id)


def _context(task: Task, label: Label, user: User) -> dict[str, Any]:
    data_row = task.data_row
    return {
        "task": task,
        "project": task.project,
        "label": label,
        "data_row": data_row,
        "is_text": data_row.media_type == "text",
        "content_url": f"/api/v1/data_rows/{data_row.id}/content",
        "ontology": label.ontology_version.tree,
        "annotations": label.annotations,
        "errors": [],
        "reviews": list(selectors.reviews_of_task(task_id=task.id)),
        "open_issues": sum(1 for issue in issues_of_task(task=task) if issue.status == "open"),
        "allow_override": bool(task.project.settings.get("review", {}).get("allow_approve_with_open_issues")),
    }


@login_required
def review_page(request: HttpRequest, task_id: str) -> HttpResponse:
    user = request_user(request)
    task = access_task(user, task_id, "review")
    lease = ReviewLease.objects.filter(task=task, reviewer=user, expires_at__gt=timezone.now()).first()
    if lease is None or task.state != TaskState.IN_REVIEW:
        messages.warning(request, "That label is no longer leased to you for review.")
        return redirect("review:start", project_id=task.project_id)
    label = Label.objects.select_related("labeler", "ontology_version").get(task=task, is_current=True)
    if request.method == "POST":
        return _decide(request, user, task, label)
    return render(request, "review/review.html", _context(task, label, user))


def _decide(request: HttpRequest, user: User, task: Task, label: Label) -> HttpResponse:
    post = request.POST
    annotations = None
    if post.get("edited") == "1" and post.get("decision") == "approve":
        try:
            annotations = json_limits.loads(post.get("annotations") or "[]", max_depth=json_limits.MAX_JSON_DEPTH)
        except ValueError:
            messages.error(request, "The corrected label could not be read.")
            return redirect("review:review", task_id=task.id)
    try:
        seconds: float | None = float(post["seconds_spent"]) if post.get("seconds_spent") else None
    except ValueError:
        seconds = None
    try:
        review = services.review_decide(
            actor=user,
            label=label,
            decision=post.get("decision", ""),
            feedback=post.get("feedback", ""),
            annotations=annotations,
            seconds_spent=seconds,
            override_open_issues=post.get("override_open_issues") == "1",
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("review:review", task_id=task.id)
    messages.success(request, "Label approved." if review.decision == "approve" else "Label sent back for rework.")
    next_one = services.review_claim(actor=user, project=task.project)
    if next_one is None:
        messages.info(request, "That was the last label to review in this project for you.")
        return redirect("review:start", project_id=task.project_id)
    return redirect("review:review", task_id=next_one.id)
