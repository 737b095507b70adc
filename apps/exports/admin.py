"""Admin for exports: org-scoped list with status, progress and a download link; "Add export" starts one through
the service (the worker writes it); actions resume failed exports or start a fresh one with the same settings."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from apps.core.admin_scoping import OrganizationScopedAdmin, adopt_saved, service_error_message
from apps.core.errors import ApplicationError
from apps.exports import services
from apps.exports.models import Export, ExportStatus


class ExportForm(forms.ModelForm):
    filters = forms.JSONField(
        required=False, initial=dict, help_text='e.g. {"state": ["done"], "label": "approved"} (see docs/exports.md).'
    )

    class Meta:
        model = Export
        fields = ("project", "format", "filters")


@admin.register(Export)
class ExportAdmin(OrganizationScopedAdmin):
    form = ExportForm
    list_display = (
        "__str__",
        "project",
        "format",
        "status",
        "progress",
        "row_count",
        "created_by",
        "created_at",
        "download",
    )
    list_filter = ("format", "status")
    list_select_related = ("project", "created_by")
    actions = ["resume_exports", "export_again"]
    readonly_fields = (
        "project",
        "format",
        "filters",
        "status",
        "progress",
        "row_count",
        "annotation_count",
        "skipped_count",
        "skipped",
        "chunks_written",
        "after_data_row",
        "file_name",
        "file_size",
        "error",
        "job",
        "created_by",
        "created_at",
        "finished_at",
        "download",
    )

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ("project", "format", "filters")
        return self.readonly_fields

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return () if obj is None else self.readonly_fields

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    @admin.display(description="Progress")
    def progress(self, obj: Export) -> str:
        done = obj.row_count + obj.skipped_count
        percent = (
            100 if obj.status == ExportStatus.SUCCEEDED else (100 * done // obj.rows_total if obj.rows_total else 0)
        )
        return format_html('<progress max="100" value="{}"></progress> {} / {}', percent, done, obj.rows_total or "?")

    @admin.display(description="Download")
    def download(self, obj: Export) -> str:
        if obj.status != ExportStatus.SUCCEEDED:
            return "—"
        return format_html('<a href="{}">{}</a>', services.download_url(obj), obj.file_name.rsplit("/", 1)[-1])

    def save_model(self, request: HttpRequest, obj: Export, form: forms.ModelForm, change: bool) -> None:
        data = form.cleaned_data
        created = services.export_create(
            actor=request.user,  # type: ignore[arg-type]
            project=data["project"],
            fmt=data["format"],
            filters=data.get("filters") or {},
        )
        adopt_saved(obj, created)

    @admin.action(description="Resume the selected exports from their checkpoint")
    def resume_exports(self, request: HttpRequest, queryset: QuerySet[Export]) -> None:
        for export in queryset:
            try:
                services.export_retry(actor=request.user, export=export)  # type: ignore[arg-type]
            except ApplicationError as exc:
                service_error_message(request, exc)
        messages.info(request, "Resumable exports were queued again.")

    @admin.action(description="Export again with the same settings")
    def export_again(self, request: HttpRequest, queryset: QuerySet[Export]) -> None:
        for export in queryset:
            try:
                services.export_create(
                    actor=request.user,  # type: ignore[arg-type]
                    project=export.project,
                    fmt=export.format,
                    filters=export.filters,
                )
            except ApplicationError as exc:
                service_error_message(request, exc)
        messages.info(request, "New exports were started.")
