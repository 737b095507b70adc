"""The project's model-assisted labeling page: pre-label figures, import history, the expert queue."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from apps.accounts.access import request_user
from apps.accounts.models import User
from apps.labeling.access import access_project, can
from apps.labeling.models import Project
from apps.predictions import selectors

IMPORTS_SHOWN = 20
EXPERT_TASKS_SHOWN = 100


def prelabels_link(user: User, project: Project) -> tuple[str, str] | None:
    """The project page's link to the pre-label figures and expert queue, for those who see everyone's work."""
    if not can(user, project, "view_work"):
        return None
    return ("Pre-labels and experts", reverse("predictions:project", args=[project.id]))


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
    }
    return render(request, "predictions/project.html", context)
