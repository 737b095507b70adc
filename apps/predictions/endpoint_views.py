"""The model endpoints page (list, check with its latency, what each one is used for) and the project page actions
for automatic pre-labels. Adding and changing endpoints is in the admin (or the API): the secret is never shown."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from apps.accounts.access import request_user
from apps.core.errors import ApplicationError
from apps.labeling.access import access_project
from apps.predictions.access import access_model_endpoint, endpoints_visible_to
from apps.predictions.services import endpoint_client, prelabeling, retraining


@login_required
def endpoints_page(request: HttpRequest) -> HttpResponse:
    endpoints = list(endpoints_visible_to(request_user(request))[:200])
    return render(request, "predictions/endpoints.html", {"endpoints": endpoints})


@login_required
def endpoint_page(request: HttpRequest, endpoint_id: str) -> HttpResponse:
    endpoint = access_model_endpoint(request_user(request), endpoint_id)
    return render(request, "predictions/endpoint.html", {"endpoint": endpoint, "check": endpoint.last_check or None})


@login_required
@require_POST
def endpoint_check_action(request: HttpRequest, endpoint_id: str) -> HttpResponse:
    actor = request_user(request)
    endpoint = access_model_endpoint(actor, endpoint_id)
    result = endpoint_client.model_endpoint_check(actor=actor, endpoint=endpoint)
    if result["ok"]:
        messages.success(request, f"{endpoint.name}: health and setup answered.")
    else:
        messages.error(request, f"{endpoint.name}: " + " ".join(result["errors"]))
    return redirect(reverse("predictions:endpoint", args=[endpoint.pk]))


@login_required
@require_POST
def project_resend_action(request: HttpRequest, project_id: str) -> HttpResponse:
    actor = request_user(request)
    project = access_project(actor, project_id, "manage")
    back = reverse("predictions:project", args=[project.pk])
    endpoint_id = prelabeling.prelabel_endpoint_id(project)
    if not endpoint_id:
        messages.error(request, "This project has no pre-label endpoint.")
        return redirect(back)
    try:
        endpoint = access_model_endpoint(actor, endpoint_id)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect(back)
    if request.POST.get("scope") == "all":
        if request.POST.get("confirm") != "yes":
            messages.error(request, "Tick the box to confirm that every row of the project is sent again.")
            return redirect(back)
        count = prelabeling.endpoint_rows_resend(project=project, endpoint=endpoint, failed_only=False)
        messages.success(request, f"All {count} row(s) will be sent again; their pre-labels are replaced.")
    else:
        count = prelabeling.endpoint_rows_resend(project=project, endpoint=endpoint, failed_only=True)
        messages.success(request, f"{count} failed row(s) will be sent again.")
    return redirect(back)


@login_required
@require_POST
def project_retrain_action(request: HttpRequest, project_id: str) -> HttpResponse:
    actor = request_user(request)
    project = access_project(actor, project_id, "manage")
    try:
        retrain = retraining.model_retrain_request(actor=actor, project=project)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        retrain.refresh_from_db()
        if retrain.status == "failed":
            messages.error(request, f"The training call failed: {retrain.error}")
        else:
            said = {
                "ok": "The training URL was called.",
                "training": "Training started on the model server; its job is followed until it is done.",
            }
            messages.success(request, said.get(retrain.status, "Retraining queued."))
    return redirect(reverse("predictions:project", args=[project.pk]) + "#retraining")
