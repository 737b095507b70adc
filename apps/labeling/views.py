"""Labeler pages: my projects → project page → label page (canvas) → submit → next. Same services as the API."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from apps.accounts.access import request_user
from apps.accounts.models import User
from apps.accounts.page_context import HomeSection
from apps.core import json_limits
from apps.core.errors import ApplicationError, Conflict, PermissionDenied, ValidationFailed
from apps.labeling import registry, selectors, services
from apps.labeling.access import access_label, access_project, access_task, can
from apps.labeling.models import Label, Task, TaskState
from apps.labeling.registry import rework_feedback


def my_projects_section(user: User) -> HomeSection:
    items = [
        {
            "title": project.name,
            "url": reverse("labeling:project", args=[project.id]),
            "detail": f"{selectors.open_task_count(project=project)} open task(s)",
        }
        for project in selectors.my_projects(actor=user)
    ]
    return HomeSection(title="My projects", items=items, empty_text="You are not a member of any project yet.")


@login_required
def project_page(request: HttpRequest, project_id: str) -> HttpResponse:
    user = request_user(request)
    project = access_project(user, project_id)
    context = {
        "project": project,
        "overview": selectors.project_overview(project=project),
        "can_label": can(user, project, "label"),
        "can_manage": can(user, project, "manage"),
        "links": registry.project_links(user, project),
    }
    return render(request, "labeling/project.html", context)


@login_required
@require_POST
def next_task(request: HttpRequest, project_id: str) -> HttpResponse:
    user = request_user(request)
    project = access_project(user, project_id, "label")
    after = request.POST.get("after")  # the label page submitted with fetch, then asks for the next task here
    if after in ("submitted", "edited"):
        messages.success(request, "Label submitted." if after == "submitted" else "Your label is updated.")
    task = services.queue_claim(actor=user, project=project)
    if task is None:
        messages.info(request, "Nothing left to label in this project for you. Thank you!")
        return redirect("labeling:project", project_id=project.id)
    return redirect("labeling:label", task_id=task.id)


def _label_context(
    task: Task, annotations: Any, errors: list[dict[str, Any]] | None, user: User | None = None
) -> dict[str, Any]:
    project = task.project
    previous = Label.objects.filter(task=task, is_current=True).first()
    if annotations is None and previous is not None:
        annotations = previous.annotations
    elif annotations is None:
        # Model pre-labels (registered by the predictions app), each with its `prelabel` id and `confidence`.
        annotations = registry.prelabels_for(task)
    data_row = task.data_row
    return {
        "task": task,
        "project": project,
        "data_row": data_row,
        "is_text": data_row.media_type == "text",
        "content_url": f"/api/v1/data_rows/{data_row.id}/content",
        "ontology": project.ontology_version.tree,
        "annotations": annotations or [],
        "errors": errors or [],
        "is_rework": task.rework_user_id is not None or previous is not None,
        "has_prelabels": any(isinstance(a, dict) and "prelabel" in a for a in annotations or []),
        "feedback": rework_feedback(task) if previous is not None else None,
        "progress": selectors.label_progress(actor=user, task=task) if user is not None else None,
        "previous_label": (
            selectors.my_last_label(actor=user, project_id=project.pk, exclude_task=task.pk) if user else None
        ),
        "form_action": reverse("labeling:label", args=[task.id]),
        "draft_url": f"/api/v1/tasks/{task.id}/draft",
        # the page asks the server for a draft only when one is stored (no 404 in the console on every task)
        "has_server_draft": user is not None and selectors.draft_of(actor=user, task=task) is not None,
        "submit_url": f"/api/v1/tasks/{task.id}/labels",
        "submit_method": "POST",
        # The predictions app's assist API (a `model.interactive_endpoint` of this project): assist.js is loaded.
        "assist_url": (
            f"/api/v1/tasks/{task.id}/assist"
            if data_row.media_type == "image" and (project.settings.get("model") or {}).get("interactive_endpoint")
            else None
        ),
    }


@login_required
def label_page(request: HttpRequest, task_id: str) -> HttpResponse:
    user = request_user(request)
    task = access_task(user, task_id, "label")
    if request.method == "POST":
        return _submit(request, user, task)
    if task.assignee_id != user.pk or task.state != TaskState.IN_PROGRESS:
        messages.warning(request, "That task is no longer yours; here is the next one.")
        return redirect("labeling:project", project_id=task.project_id)
    return render(request, "labeling/label.html", _label_context(task, None, None, user))


def _submit(request: HttpRequest, user: User, task: Task) -> HttpResponse:
    raw = request.POST.get("annotations", "")
    try:
        annotations = json_limits.loads(raw, max_depth=json_limits.MAX_JSON_DEPTH) if raw else []
    except ValueError:
        annotations = None
    seconds = request.POST.get("seconds_spent")
    try:
        seconds_value = float(seconds) if seconds else None
    except ValueError:
        seconds_value = None
    try:
        if annotations is None:
            raise ValidationFailed("The annotations could not be read.", details={"annotations": []})
        services.label_submit(actor=user, task=task, annotations=annotations, seconds_spent=seconds_value)
    except ValidationFailed as exc:
        errors = exc.details.get("annotations") if isinstance(exc.details, dict) else None
        context = _label_context(task, annotations, errors or [{"path": "", "message": exc.message}], user)
        context["error_message"] = exc.message
        return render(request, "labeling/label.html", context, status=400)
    except Conflict as exc:
        messages.error(request, exc.message)
        return redirect("labeling:project", project_id=task.project_id)
    messages.success(request, "Label submitted.")
    next_one = services.queue_claim(actor=user, project=task.project)
    if next_one is None:
        messages.info(request, "That was the last task for you in this project.")
        return redirect("labeling:project", project_id=task.project_id)
    return redirect("labeling:label", task_id=next_one.id)


@login_required
@require_POST
def skip_task(request: HttpRequest, task_id: str) -> HttpResponse:
    user = request_user(request)
    task = access_task(user, task_id, "label")
    try:
        services.task_skip(actor=user, task=task, reason=request.POST.get("reason", ""))
    except ApplicationError as exc:
        messages.error(request, exc.message)
        if task.assignee_id == user.pk:
            return redirect("labeling:label", task_id=task.id)
        return redirect("labeling:project", project_id=task.project_id)
    messages.info(request, "Task skipped.")
    return next_task(request, str(task.project_id))


def _parse_annotations(request: HttpRequest) -> tuple[Any, float | None]:
    raw = request.POST.get("annotations", "")
    try:
        annotations = json_limits.loads(raw, max_depth=json_limits.MAX_JSON_DEPTH) if raw else []
    except ValueError:
        annotations = None
    try:
        seconds = float(request.POST.get("seconds_spent") or "") if request.POST.get("seconds_spent") else None
    except ValueError:
        seconds = None
    return annotations, seconds


@login_required
def edit_label_page(request: HttpRequest, label_id: str) -> HttpResponse:
    """ "Previous task": the labeler reopens their own label and corrects it while it is not reviewed yet. Each save
    is a new revision (the history keeps every one); the server draft works here as on a fresh task."""
    user = request_user(request)
    label = access_label(user, label_id)
    if label.labeler_id != user.pk:
        raise PermissionDenied("Only the labeler may reopen their label here; reviewers use the review page.")
    task = access_task(user, label.task_id, "view")
    if not label.is_current or not services.may_keep_draft(actor=user, task=task):
        messages.info(request, "That label was already reviewed (or replaced), so it can no longer be changed here.")
        return redirect("labeling:project", project_id=task.project_id)
    errors: list[dict[str, Any]] | None = None
    annotations: Any = None
    status = 200
    if request.method == "POST":
        annotations, seconds = _parse_annotations(request)
        try:
            if annotations is None:
                raise ValidationFailed("The annotations could not be read.", details={"annotations": []})
            new = services.label_edit(actor=user, label=label, annotations=annotations, seconds_spent=seconds)
        except ValidationFailed as exc:
            found = exc.details.get("annotations") if isinstance(exc.details, dict) else None
            errors, status = found or [{"path": "", "message": exc.message}], 400
        except Conflict as exc:
            messages.error(request, exc.message)
            return redirect("labeling:project", project_id=task.project_id)
        else:
            messages.success(request, f"Your label is updated (revision {new.revision}).")
            return redirect("labeling:project", project_id=task.project_id)
    context = _label_context(task, annotations, errors, None)
    context.update(
        editing_label=label,
        is_rework=False,
        feedback=None,
        form_action=reverse("labeling:edit-label", args=[label.id]),
        submit_url=f"/api/v1/labels/{label.id}",
        submit_method="PATCH",
    )
    return render(request, "labeling/label.html", context, status=status)
