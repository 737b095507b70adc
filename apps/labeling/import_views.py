"""Import pages for managers: the datasets list (create one), and a dataset's import page — upload images, import
a CSV/NDJSON/JSON file of rows, add rows from a storage integration's bucket — then add them to a project as a
batch. The browser sends the data to the REST API (`/api/v1/datasets/...`); the small JSON endpoints here cover what
the page needs besides: which keys are stored already (resumable uploads), the batch of "these rows", and the
per-row errors as a CSV file. Lives in labeling because the batch is labeling's; datasets are read and written
through the datasets app's access, selectors and services."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from apps.accounts.access import request_user
from apps.accounts.models import User
from apps.core.domain.csv_cells import csv_safe
from apps.core.errors import ApplicationError, PayloadTooLarge, ValidationFailed, error_body
from apps.datasets import selectors as dataset_selectors
from apps.datasets import services as dataset_services
from apps.datasets.access import access_dataset, require_manage_datasets
from apps.datasets.models import DataRow, Dataset
from apps.labeling.access import access_project, can, projects_where
from apps.labeling.models import Project, Task
from apps.labeling.services.projects import MAX_BATCH_ROWS, batch_create

MAX_KEYS_PER_CHECK = 1000
MAX_ERRORS_CSV_BYTES = 20 * 1024 * 1024
ERROR_COLUMNS = ("line", "index", "global_key", "image_id", "message")


def _error(exc: ApplicationError) -> dict[str, Any]:
    return error_body(exc.code, exc.message, exc.details)


def _json_endpoint(view: Callable[..., dict[str, Any]]) -> Callable[..., HttpResponse]:
    """A page's JSON helper: `ApplicationError`s answered in the API's error shape (not as an HTML error page)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return JsonResponse(view(request, *args, **kwargs))
        except ApplicationError as exc:
            return JsonResponse(_error(exc), status=exc.status_code)

    return login_required(require_POST(wrapper))


def _json_body(request: HttpRequest, limit: int | None = None) -> dict[str, Any]:
    """The JSON object of the body (read after the access checks, so a caller without access learns nothing)."""
    if len(request.body) > (limit or settings.TDP_MAX_JSON_BODY_BYTES):
        raise PayloadTooLarge("The request body is too large.")
    try:
        body = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise ValidationFailed("The request body is not JSON.") from None
    if not isinstance(body, dict):
        raise ValidationFailed("The request body must be a JSON object.")
    return body


def _json_csv(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Like `_json_endpoint` for a view that answers a file: errors still in the API's JSON shape."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except ApplicationError as exc:
            return JsonResponse(_error(exc), status=exc.status_code)

    return login_required(require_POST(wrapper))


def _string_list(body: dict[str, Any], name: str, limit: int) -> list[str]:
    values = body.get(name, [])
    if not isinstance(values, list) or not all(isinstance(v, str) and 0 < len(v) <= 255 for v in values):
        raise ValidationFailed(f"{name} must be a list of strings.", details={name: ["A list of 1-255 characters."]})
    if len(values) > limit:
        raise ValidationFailed(f"At most {limit} values per request.", details={name: ["Too many."]})
    return values


def import_link(user: User, project: Project) -> tuple[str, str] | None:
    """The project page's link to import data and queue it in this project (for those who may do both)."""
    if not can(user, project, "manage"):
        return None
    try:
        require_manage_datasets(user)
    except ApplicationError:
        return None
    return ("Import data", f"{reverse('labeling-imports:datasets')}?project={project.pk}")


# --- pages --------------------------------------------------------------------------------------------------------


@login_required
def datasets_page(request: HttpRequest) -> HttpResponse:
    actor = request_user(request)
    require_manage_datasets(actor)
    error = ""
    if request.method == "POST":
        try:
            dataset = dataset_services.dataset_create(
                actor=actor,
                name=request.POST.get("name", ""),
                description=request.POST.get("description", ""),
            )
        except ValidationFailed as exc:
            error = exc.message
        else:
            target = reverse("labeling-imports:dataset", args=[dataset.pk])
            project = request.GET.get("project", "")
            return redirect(f"{target}?{urlencode({'project': project})}" if project else target)
    datasets = dataset_selectors.datasets_visible_to(actor=actor).order_by("name")
    project = request.GET.get("project", "")
    context = {
        "datasets": datasets,
        "error": error,
        "project_query": f"?{urlencode({'project': project})}" if project.strip() else "",
    }
    return render(request, "datasets/list.html", context, status=400 if error else 200)


def _page_config(actor: User, dataset: Dataset) -> dict[str, Any]:
    return {
        "dataset": str(dataset.pk),
        "maxImportBytes": settings.TDP_MAX_IMPORT_BYTES,
        "maxFileBytes": settings.TDP_MAX_UPLOAD_FILE_BYTES,
        "existingUrl": reverse("labeling-imports:existing", args=[dataset.pk]),
        "batchUrl": reverse("labeling-imports:batch", args=[dataset.pk]),
        "errorsCsvUrl": reverse("labeling-imports:errors-csv"),
    }


@login_required
def dataset_import_page(request: HttpRequest, dataset_id: str) -> HttpResponse:
    actor = request_user(request)
    dataset = access_dataset(actor, dataset_id, manage=True)
    counted = dataset_selectors.dataset_row_count(dataset=dataset)
    context = {
        "dataset": dataset,
        # A plain number (the page adds imported rows to it), or "about 2.1 million" above the exact-count bound.
        "row_count": counted.value if counted.exact else str(counted),
        "integrations": list(dataset_selectors.storage_integrations_visible_to(actor=actor).order_by("name")),
        "projects": list(projects_where(actor, "manage").order_by("name")),
        "config": _page_config(actor, dataset),
        "preselected_project": request.GET.get("project", ""),
    }
    return render(request, "datasets/import.html", context)


# --- JSON helpers of the page ----------------------------------------------------------------------------------------


@_json_endpoint
def existing_keys(request: HttpRequest, dataset_id: str) -> dict[str, Any]:
    """Which of these global keys are rows of the dataset already (the upload skips them when resumed)."""
    dataset = access_dataset(request_user(request), dataset_id, manage=True)
    body = _json_body(request)
    keys = _string_list(body, "global_keys", MAX_KEYS_PER_CHECK)
    found = DataRow.objects.filter(dataset=dataset, global_key__in=keys).values_list("global_key", flat=True)
    return {"existing": sorted(found)}


@_json_endpoint
def batch_from_import(request: HttpRequest, dataset_id: str) -> dict[str, Any]:
    """Queue rows of the dataset in a project: `scope` "keys" (the rows this page just stored) or "dataset" (every
    row of the dataset not yet in the project)."""
    actor = request_user(request)
    dataset = access_dataset(actor, dataset_id, manage=True)
    body = _json_body(request)
    project = access_project(actor, body.get("project"), "manage")
    priority = body.get("priority", 3)
    scope = body.get("scope")
    if scope == "keys":
        keys = _string_list(body, "global_keys", MAX_BATCH_ROWS)
        ids = [
            str(i) for i in DataRow.objects.filter(dataset=dataset, global_key__in=keys).values_list("id", flat=True)
        ]
    elif scope == "dataset":
        queued = Task.objects.filter(project=project).values("data_row_id")
        rows = DataRow.objects.filter(dataset=dataset).exclude(id__in=queued).order_by("id")
        ids = [str(i) for i in rows.values_list("id", flat=True)[: MAX_BATCH_ROWS + 1]]
    else:
        raise ValidationFailed("Choose which rows.", details={"scope": ['"keys" or "dataset".']})
    if not ids:
        raise ValidationFailed(
            "No rows to add: every row is in the project already, or none was stored."
            if scope == "dataset"
            else "None of these rows is stored in the dataset.",
            code="empty_batch",
        )
    result = batch_create(
        actor=actor,
        project=project,
        name=str(body.get("name") or f"{dataset.name} import"),
        data_row_ids=ids,
        priority=priority,
    )
    return {
        "batch": str(result.batch.pk),
        "name": result.batch.name,
        "priority": result.batch.priority,
        "added": result.added,
        "already_in_project": len(result.already_in_project),
        "project": str(project.pk),
        "project_name": project.name,
        "project_url": reverse("labeling:project", args=[project.pk]),
    }


@_json_csv
def errors_csv(request: HttpRequest) -> HttpResponse:
    """The per-row errors a page shows, as a CSV file (cells that a spreadsheet would run as a formula are quoted
    by `csv_safe`). The page posts the errors it received from the API; nothing is read from the database."""
    require_manage_datasets(request_user(request))
    body = _json_body(request, MAX_ERRORS_CSV_BYTES)
    errors = body.get("errors")
    if not isinstance(errors, list) or not all(isinstance(e, dict) for e in errors):
        raise ValidationFailed('Send {"errors": [{...}, ...]}.')
    columns = [c for c in ERROR_COLUMNS if any(c in e for e in errors)] or ["message"]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for error in errors:
        writer.writerow([csv_safe(_cell(error.get(c))) for c in columns])
    name = "".join(ch for ch in str(body.get("name") or "import-errors") if ch.isalnum() or ch in "-_")[:80]
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name or "import-errors"}.csv"'
    return response


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return value
    return str(value) if not isinstance(value, dict | list) else json.dumps(value)[:1000]
