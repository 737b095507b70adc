"""The project's Exports page: past exports with live progress, and a form to start one (same service as the API)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from apps.accounts.access import request_user
from apps.accounts.models import User
from apps.core import json_limits
from apps.core.errors import ApplicationError
from apps.exports import selectors, services
from apps.exports.access import access_project_export
from apps.exports.domain.filters import LABEL_MODES, STATES
from apps.exports.models import ExportFormat
from apps.labeling.access import can
from apps.labeling.models import Project

PAGE_LIMIT = 50


def exports_link(user: User, project: Project) -> tuple[str, str] | None:
    """The project page's link to its exports, for those who may export."""
    if not can(user, project, "view_work"):
        return None
    return ("Exports", reverse("exports:project", args=[project.id]))


@login_required
def project_exports_page(request: HttpRequest, project_id: str) -> HttpResponse:
    user = request_user(request)
    project = access_project_export(user, project_id)
    if request.method == "POST":
        filters: dict[str, object] = {"label": request.POST.get("label") or "all"}
        if states := request.POST.getlist("state"):
            filters["state"] = states
        if keys := [k.strip() for k in request.POST.get("global_keys", "").splitlines() if k.strip()]:
            filters["global_keys"] = keys
        extra = request.POST.get("filters_json", "").strip()
        try:
            if extra:
                parsed = json_limits.loads(extra, max_depth=json_limits.MAX_JSON_DEPTH)
                if not isinstance(parsed, dict):
                    raise ValueError
                filters.update(parsed)
        except ValueError:
            messages.error(request, "More filters must be a JSON object.")
            return redirect("exports:project", project_id=project.pk)
        try:
            services.export_create(actor=user, project=project, fmt=request.POST.get("format", ""), filters=filters)
        except ApplicationError as exc:
            details = exc.details if isinstance(exc.details, dict) else {}
            reasons = "; ".join(f"{key}: {' '.join(map(str, value))}" for key, value in details.items())
            messages.error(request, f"{exc.message} {reasons}".strip())
        else:
            messages.success(request, "The export started; it appears below when written.")
        return redirect("exports:project", project_id=project.pk)
    exports = list(selectors.exports_visible_to(actor=user, project=project)[:PAGE_LIMIT])
    context = {
        "project": project,
        "exports": exports,
        "formats": ExportFormat.choices,
        "states": STATES,
        "label_modes": LABEL_MODES,
    }
    return render(request, "exports/project_exports.html", context)
