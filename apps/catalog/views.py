"""Server-rendered catalog pages: pick a dataset, explore its embedding map, and a data row's lineage.

The explorer page is a shell: `static/catalog/catalog.js` fetches the JSON API (session auth + CSRF) and draws the
scatter plot in SVG.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from apps.accounts.access import request_user
from apps.accounts.models import User
from apps.catalog import registry, selectors
from apps.catalog.access import require_manage_catalog
from apps.core.errors import ApplicationError
from apps.datasets.access import access_data_row, access_dataset
from apps.datasets.selectors import datasets_visible_to, metadata_fields_visible_to, with_row_counts


def _can_manage(user: User) -> bool:
    try:
        require_manage_catalog(user)
    except ApplicationError:
        return False
    return True


@login_required
def catalog_home(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    context = {
        "datasets": with_row_counts(datasets_visible_to(actor=user).order_by("name")[:200]),
        "spaces": selectors.with_vector_counts(
            selectors.embedding_spaces_visible_to(actor=user).order_by("name")[:200]
        ),
    }
    return render(request, "catalog/home.html", context)


@login_required
def catalog_dataset(request: HttpRequest, dataset_id: str) -> HttpResponse:
    user = request_user(request)
    try:
        dataset = access_dataset(user, dataset_id)
    except ApplicationError:
        raise Http404("Not found.") from None
    spaces = selectors.with_vector_counts(selectors.embedding_spaces_visible_to(actor=user).order_by("name")[:200])
    chosen = request.GET.get("embedding") or (str(spaces[0].pk) if spaces else "")
    targets = [{"key": t.key, "label": t.label, "options": t.options(user)} for t in registry.selection_targets()]
    context: dict[str, Any] = {
        "dataset": dataset,
        "spaces": spaces,
        "chosen": chosen,
        "fields": list(metadata_fields_visible_to(actor=user).order_by("name").values("name", "kind", "options")),
        "targets": targets,
        "can_manage": _can_manage(user),
        "config": {
            "dataset": str(dataset.pk),
            "embedding": chosen,
            "targets": targets,
            "canManage": _can_manage(user),
        },
    }
    return render(request, "catalog/dataset.html", context)


@login_required
def data_row_lineage(request: HttpRequest, data_row_id: str) -> HttpResponse:
    user = request_user(request)
    try:
        row = access_data_row(user, data_row_id)
    except ApplicationError:
        raise Http404("Not found.") from None
    sections = selectors.data_row_lineage(actor=user, data_row=row)
    return render(request, "catalog/lineage.html", {"row": row, "sections": sections})
