"""Quality pages: the project's quality dashboard and one row's labels overlaid."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from apps.accounts.access import request_user
from apps.accounts.models import User
from apps.core.errors import NotFound
from apps.core.ids import is_uuid
from apps.datasets.models import DataRow
from apps.labeling.access import access_label, access_project, can
from apps.labeling.models import Project
from apps.quality import selectors, services
from apps.quality.domain.histogram import histogram_bars
from apps.quality.domain.overlay import PALETTE, answers, overlay_shapes

LOWEST_ROWS = 20


def quality_link(user: User, project: Project) -> tuple[str, str] | None:
    """The project page's link to the quality dashboard, for those who may see everyone's work."""
    if not can(user, project, "view_work"):
        return None
    return ("Quality", reverse("quality:project", args=[project.id]))


@login_required
def project_quality_page(request: HttpRequest, project_id: str) -> HttpResponse:
    project = access_project(request_user(request), project_id, "view_work")
    summary = selectors.project_quality(project=project)
    context = {
        "project": project,
        "summary": summary,
        "consensus_bars": histogram_bars(summary["consensus"]["histogram"]),
        "benchmark_bars": histogram_bars(summary["benchmark"]["histogram"]),
        "lowest": list(selectors.consensus_rows(project=project)[:LOWEST_ROWS]),
    }
    return render(request, "quality/project.html", context)


@login_required
def row_overlay_page(request: HttpRequest, project_id: str, data_row_id: str) -> HttpResponse:
    user = request_user(request)
    project = access_project(user, project_id, "view_work")
    data_row = (
        DataRow.objects.filter(pk=data_row_id, organization_id=project.organization_id).first()
        if is_uuid(data_row_id)
        else None
    )
    if data_row is None:
        raise NotFound("No such data row.")
    labels = selectors.row_labels_overlay(project=project, data_row_id=data_row.pk)
    for index, entry in enumerate(labels):
        entry["color"] = PALETTE[index % len(PALETTE)]
        entry["shapes"] = overlay_shapes(entry["label"].annotations)
        entry["answers"] = answers(entry["label"].annotations)
    context = {
        "project": project,
        "data_row": data_row,
        "labels": labels,
        "consensus": selectors.row_consensus(project=project, data_row_id=data_row.pk),
        "content_url": f"/api/v1/data_rows/{data_row.id}/content",
        "is_text": data_row.media_type == "text",
        "can_manage": can(user, project, "manage"),
    }
    return render(request, "quality/row.html", context)


@login_required
@require_POST
def label_benchmark_toggle(request: HttpRequest, label_id: str) -> HttpResponse:
    """Make a label its row's benchmark reference, or (with `unset`) stop it being one; back to the overlay page."""
    user = request_user(request)
    label = access_label(user, label_id, "manage")
    if request.POST.get("unset"):
        services.benchmark_unset(actor=user, label=label)
        messages.success(request, "The label is no longer the benchmark reference.")
    else:
        services.benchmark_set(actor=user, label=label)
        messages.success(request, "The label is now the benchmark reference of this data row.")
    return redirect("quality:row", project_id=label.project_id, data_row_id=label.data_row_id)
