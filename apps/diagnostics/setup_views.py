"""Model runs without the API: create a model and a run (`/model_runs/new/`), then on the run's setup page upload
its predictions (NDJSON or COCO results, sent by the browser to `POST /api/v1/model_runs/{id}/predictions`) and
attach a project's ground truth (`POST /api/v1/model_runs/{id}/ground_truth`); the run page then shows the metrics.
Models and runs are for organization admins and team managers (`require_model_manager`)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from apps.accounts.access import request_user
from apps.accounts.models import User
from apps.core.errors import ApplicationError, ValidationFailed
from apps.diagnostics import selectors
from apps.labeling.access import access_project, is_project_manager_of_org, projects_where
from apps.labeling.models import Project
from apps.ontologies.access import access_ontology
from apps.ontologies.models import OntologyVersion
from apps.ontologies.selectors import ontologies_visible_to
from apps.predictions import selectors as prediction_selectors
from apps.predictions import services as prediction_services
from apps.predictions.access import access_model, access_model_run, models_visible_to, require_model_manager
from apps.predictions.domain.coco_results import categories_from_config, parse_category_text


def new_run_link(user: User, project: Project) -> tuple[str, str] | None:
    """The project page's link to create a model run evaluated on this project's labels."""
    if not is_project_manager_of_org(user):
        return None
    return ("New model run", f"{reverse('diagnostics:new-run')}?project={project.id}")


def _box_tools(tree: Any) -> list[str]:
    tools = tree.get("tools", []) if isinstance(tree, dict) else []
    return [t.get("name", "") for t in tools if isinstance(t, dict) and t.get("tool") == "bbox" and t.get("name")]


def _create(actor: User, post: Any) -> Any:
    """The model (chosen, or new with its ontology) and its run; errors as ValidationFailed for the form."""
    if post.get("model") == "new" or not post.get("model"):
        if not post.get("ontology"):
            raise ValidationFailed("Choose the new model's ontology.", details={"ontology": ["Required."]})
        ontology = access_ontology(actor, post.get("ontology"))
        model = prediction_services.model_create(
            actor=actor, name=post.get("model_name", ""), ontology=ontology, description=""
        )
    else:
        model = access_model(actor, post.get("model"))
    categories, bad = parse_category_text(post.get("coco_categories", ""))
    if bad:
        raise ValidationFailed(f"COCO categories: write one `id name` per line (not {bad[0][:60]!r}).")
    config = {"coco_categories": categories} if categories else {}
    return prediction_services.model_run_create(actor=actor, model=model, name=post.get("run_name", ""), config=config)


@login_required
def new_run_page(request: HttpRequest) -> HttpResponse:
    actor = request_user(request)
    require_model_manager(actor)
    project_id = request.GET.get("project") or request.POST.get("project") or ""
    project = access_project(actor, project_id, "view_work") if project_id else None
    error = ""
    if request.method == "POST":
        try:
            run = _create(actor, request.POST)
        except ApplicationError as exc:
            if exc.status_code not in (400, 409):
                raise
            error = exc.message
        else:
            target = reverse("diagnostics:setup", args=[run.id])
            return redirect(f"{target}?project={project.id}" if project else target)
    ontologies = list(ontologies_visible_to(actor=actor, archived=False).order_by("name"))
    context = {
        "models": list(models_visible_to(actor).order_by("name")),
        "ontologies": ontologies,
        "box_tools": {
            str(version.ontology_id): ", ".join(_box_tools(version.tree))
            for version in OntologyVersion.objects.filter(
                ontology__in=ontologies, number=F("ontology__current_version")
            ).only("ontology_id", "tree")
        },
        "project": project,
        "error": error,
        "form": request.POST if request.method == "POST" else {},
    }
    return render(request, "diagnostics/new_run.html", context, status=400 if error else 200)


@login_required
def run_setup_page(request: HttpRequest, run_id: str) -> HttpResponse:
    actor = request_user(request)
    run = access_model_run(actor, run_id)
    projects = list(projects_where(actor, "view_work").filter(ontology_id=run.model.ontology_id).order_by("name")[:500])
    ground_truth = selectors.ground_truth_summary(model_run=run)
    chosen = request.GET.get("project") or ground_truth["project"] or (str(projects[0].pk) if projects else "")
    categories = categories_from_config(run.config)
    context = {
        "run": run,
        "summary": prediction_selectors.run_summary(run=run),
        "ground_truth": ground_truth,
        "projects": projects,
        "chosen_project": chosen,
        "coco_categories": sorted(categories.items(), key=lambda kv: int(kv[0]) if kv[0].isdigit() else 0),
        "box_tools": _box_tools(run.ontology_version.tree),
        "config": {
            "run": str(run.pk),
            "maxImportBytes": settings.TDP_MAX_IMPORT_BYTES,
            "maxCocoBytes": settings.TDP_IMPORT_SYNC_MAX_BYTES,
            "errorsCsvUrl": reverse("labeling-imports:errors-csv"),
            "runUrl": reverse("diagnostics:run", args=[run.pk]),
        },
    }
    return render(request, "diagnostics/run_setup.html", context)
