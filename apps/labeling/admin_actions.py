"""Admin actions the labeling app adds to earlier apps' admins through their registries (from `hooks.register`):
"Add to project…" on the data row list (the datasets app does not import labeling)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse

from apps.core.admin_scoping import service_error_message
from apps.core.errors import ApplicationError
from apps.datasets.models import DataRow
from apps.labeling.access import projects_visible_to
from apps.labeling.models import Project
from apps.labeling.services import batch_create


class AddToProjectForm(forms.Form):
    project = forms.ModelChoiceField(queryset=Project.objects.none())
    batch_name = forms.CharField(max_length=200)
    priority = forms.IntegerField(min_value=1, max_value=5, initial=3)

    def __init__(self, *args: Any, projects: QuerySet[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["project"].queryset = projects  # type: ignore[attr-defined]


@admin.action(description="Add to project…")
def add_to_project(modeladmin: admin.ModelAdmin[Any], request: HttpRequest, queryset: QuerySet[DataRow]) -> Any:
    """Queue the selected rows as a new batch of a project (`batch_create`), after a form."""
    projects = projects_visible_to(request.user).filter(archived=False)  # type: ignore[arg-type]
    form = AddToProjectForm(request.POST if "apply" in request.POST else None, projects=projects)
    if form.is_valid():
        try:
            result = batch_create(
                actor=request.user,  # type: ignore[arg-type]
                project=form.cleaned_data["project"],
                name=form.cleaned_data["batch_name"],
                data_row_ids=[str(pk) for pk in queryset.values_list("pk", flat=True)],
                priority=form.cleaned_data["priority"],
            )
        except ApplicationError as exc:
            service_error_message(request, exc)
            return None
        modeladmin.message_user(
            request,
            f"Batch {result.batch.name!r}: {result.added} row(s) added, "
            f"{len(result.already_in_project)} already in the project.",
            messages.SUCCESS,
        )
        return None
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": "Add data rows to a project",
        "form": form,
        "rows": queryset,
        "count": queryset.count(),
        "opts": modeladmin.model._meta,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
    }
    return TemplateResponse(request, "admin/labeling/add_rows_to_project.html", context)
