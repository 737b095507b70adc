"""Diagnostics in the admin: the cached metric results of the organization's runs, each linking to its page."""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from apps.core.admin_scoping import ReadOnlyScopedAdmin
from apps.diagnostics.models import MetricsResult


@admin.register(MetricsResult)
class MetricsResultAdmin(ReadOnlyScopedAdmin):
    organization_path = "model_run__model__organization"
    list_display = ("model_run", "iou", "confidence", "map50", "seconds", "updated_at", "page")
    list_select_related = ("model_run__model",)
    list_filter = ("model_run__model",)
    exclude = ("metrics", "errors", "data_rows")
    readonly_fields = ("model_run", "iou", "confidence", "fingerprint", "project", "seconds", "updated_at", "page")

    @admin.display(description="mAP@0.5")
    def map50(self, obj: MetricsResult) -> str:
        value = obj.metrics.get("map50")
        return "–" if value is None else f"{value:.3f}"

    @admin.display(description="Diagnostics")
    def page(self, obj: MetricsResult) -> str:
        url = reverse("diagnostics:run", args=[obj.model_run_id])
        return format_html('<a href="{}?iou={}&amp;confidence={}">open</a>', url, obj.iou, obj.confidence)
