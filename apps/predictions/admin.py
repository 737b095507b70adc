"""Predictions in the admin: models and their runs, the import history with error reports, the expert queue."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html

from apps.accounts.access import request_user
from apps.core.admin_scoping import OrganizationScopedAdmin, ReadOnlyScopedAdmin, adopt_saved
from apps.labeling.models import TaskKind, TaskState
from apps.predictions import services
from apps.predictions.models import ExpertTask, Model, ModelRun, PredictionImport


class ModelRunInline(admin.TabularInline):
    model = ModelRun
    extra = 0
    fields = ("name", "ontology_version", "created_by", "created_at")
    readonly_fields = fields
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ModelForm(forms.ModelForm):
    class Meta:
        model = Model
        fields = ("name", "ontology", "description")


@admin.register(Model)
class ModelAdmin(OrganizationScopedAdmin):
    form = ModelForm
    list_display = ("name", "ontology", "created_by", "created_at")
    list_select_related = ("ontology", "created_by")
    search_fields = ("name",)
    inlines = [ModelRunInline]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return ("ontology",) if obj is not None else ()

    def save_model(self, request: HttpRequest, obj: Model, form: Any, change: bool) -> None:
        if change:
            obj.save(update_fields=["name", "description", "updated_at"])
            return
        created = services.model_create(
            actor=request_user(request),
            name=form.cleaned_data["name"],
            ontology=form.cleaned_data["ontology"],
            description=form.cleaned_data.get("description", ""),
        )
        adopt_saved(obj, created)


@admin.register(ModelRun)
class ModelRunAdmin(ReadOnlyScopedAdmin):
    organization_path = "model__organization"
    list_display = ("name", "model", "ontology_version", "created_by", "created_at")
    list_select_related = ("model", "ontology_version", "created_by")
    list_filter = ("model",)
    search_fields = ("name", "model__name")
    readonly_fields = ("model", "name", "config_pretty", "ontology_version", "created_by", "created_at")
    exclude = ("config",)

    @admin.display(description="Config")
    def config_pretty(self, obj: ModelRun) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.config, indent=2, ensure_ascii=False))


@admin.register(PredictionImport)
class PredictionImportAdmin(ReadOnlyScopedAdmin):
    list_display = ("created_at", "kind", "target", "status", "created", "updated", "failed", "created_by")
    list_select_related = ("project", "model_run__model", "created_by")
    list_filter = ("kind", "status")
    readonly_fields = (
        "kind",
        "project",
        "model_run",
        "created_by",
        "status",
        "bytes",
        "created",
        "updated",
        "failed",
        "error_report",
        "errors_truncated",
        "error",
        "job",
        "created_at",
        "finished_at",
    )
    exclude = ("errors", "organization")

    @admin.display(description="Into")
    def target(self, obj: PredictionImport) -> str:
        return str(obj.project or obj.model_run)

    @admin.display(description="Errors (line: reason)")
    def error_report(self, obj: PredictionImport) -> str:
        lines = "\n".join(f"line {e.get('line')}: {e.get('message')}" for e in obj.errors or [])
        return format_html("<pre>{}</pre>", lines or "none")


class DueFilter(admin.SimpleListFilter):
    title = "due"
    parameter_name = "due"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("overdue", "Overdue"), ("24h", "Due within 24 hours"), ("later", "Due later")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        now = timezone.now()
        if self.value() == "overdue":
            return queryset.filter(due_at__lt=now)
        if self.value() == "24h":
            return queryset.filter(due_at__gte=now, due_at__lt=now + timedelta(hours=24))
        if self.value() == "later":
            return queryset.filter(due_at__gte=now + timedelta(hours=24))
        return queryset


class OpenFilter(admin.SimpleListFilter):
    title = "open"
    parameter_name = "open"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Open"), ("no", "Done or skipped")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        open_states = [TaskState.TO_LABEL, TaskState.IN_PROGRESS, TaskState.IN_REWORK]
        if self.value() == "yes":
            return queryset.filter(state__in=open_states)
        if self.value() == "no":
            return queryset.exclude(state__in=open_states)
        return queryset


@admin.register(ExpertTask)
class ExpertTaskAdmin(ReadOnlyScopedAdmin):
    """The expert queue: lowest confidence first, with due / overdue filters."""

    organization_path = "project__organization"
    list_display = ("data_row", "project", "confidence", "state", "due_at", "overdue", "assignee")
    list_select_related = ("data_row", "project", "assignee")
    list_filter = (DueFilter, OpenFilter, "state", "project")
    ordering = ("confidence", "created_at")
    fields = ("project", "data_row", "confidence", "state", "due_at", "overdue_notified_at", "assignee", "labeled_by")
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).filter(kind=TaskKind.EXPERT)

    @admin.display(description="Overdue", boolean=True)
    def overdue(self, obj: ExpertTask) -> bool:
        open_now = obj.state in (TaskState.TO_LABEL, TaskState.IN_PROGRESS, TaskState.IN_REWORK)
        return bool(open_now and obj.due_at is not None and obj.due_at < timezone.now())


@admin.action(description="Recompute the queue order (active learning)")
def recompute_queue_order(modeladmin: Any, request: HttpRequest, queryset: QuerySet[Any]) -> None:
    actor = request_user(request)
    for project in queryset:
        job = services.queue_order_request(actor=actor, project=project)
        modeladmin.message_user(request, f"Reordering the queue of {project.name}: job {job.id}.")


from apps.predictions import endpoint_admin  # noqa: E402, F401  (registers the model endpoint admin)
