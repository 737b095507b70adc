"""Admin for review decisions: read-only (decisions are made on the review page or through the API)."""

from __future__ import annotations

from django.contrib import admin

from apps.core.admin_scoping import ReadOnlyScopedAdmin
from apps.review.models import Review


@admin.register(Review)
class ReviewAdmin(ReadOnlyScopedAdmin):
    organization_path = "project__organization"
    list_display = ("created_at", "project", "task", "reviewer", "decision", "edited", "server_seconds")
    list_filter = ("decision", "edited")
    list_select_related = ("project", "task", "reviewer")
    search_fields = ("feedback",)

    def _org_id_lookup(self) -> str:
        return "project__organization_id"
