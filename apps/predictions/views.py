"""The project's model-assisted labeling page: pre-label figures, import history, the expert queue."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from apps.accounts.access import request_user
from apps.accounts.models import User
from apps.labeling.access import access_project, can
from apps.labeling.models import Project, Task
from apps.predictions import selectors
from apps.predictions.services import retraining

IMPORTS_SHOWN = 20
EXPERT_TASKS_SHOWN = 100


def prelabels_link(user: User, project: Project) -> tuple[str, str] | None:
    """The project page's link to the pre-label figures and expert queue, for those who see everyone's work."""
    if not can(user, project, "view_work"):
        return None
    return ("Pre-labels and experts", reverse("predictions:project", args=[project.id]))


def _retraining(user: User, project: Project) -> dict[str, Any] | None:
    endpoint = retraining.retrain_endpoint(project)
    calls = retraining.retrain_calls(project=project)
    if endpoint is None and not calls:
        return None
    done = retraining.done_label_count(project)
    after = (project.settings.get("model") or {}).get("retrain_after")
    return {
        "endpoint": endpoint or calls[0].endpoint,
        "after": after if endpoint is not None else None,
        "done": done,
        "since": done - (calls[0].label_count if calls else 0),
        "calls": calls,
        "can_manage": endpoint is not None and can(user, project, "manage"),
    }


@login_required
def project_prelabels_page(request: HttpRequest, project_id: str) -> HttpResponse:
    user = request_user(request)
    project = access_project(user, project_id, "view_work")
    overdue_only = request.GET.get("overdue") == "1"
    context = {
        "project": project,
        "stats": selectors.prelabel_stats(project=project),
        "imports": list(selectors.imports_of_project(project=project)[:IMPORTS_SHOWN]),
        "expert_tasks": list(selectors.expert_queue(project=project, overdue_only=overdue_only)[:EXPERT_TASKS_SHOWN]),
        "overdue_only": overdue_only,
        "now": timezone.now(),
        "routing": project.settings.get("routing", {}),
        "endpoint_progress": selectors.endpoint_progress(project=project),
        "embedding_progress": selectors.endpoint_progress(project=project, key="embed_endpoint"),
        "retraining": _retraining(user, project),
        "can_manage": can(user, project, "manage"),
    }
    if context["endpoint_progress"] is not None:
        context["project_rows"] = Task.objects.filter(project=project).values("data_row_id").distinct().count()
    return render(request, "predictions/project.html", context)
