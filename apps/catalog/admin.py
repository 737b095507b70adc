"""Admin for the catalog: embedding spaces (read-mostly; vectors arrive through the API) and saved slices."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from apps.catalog.models import EmbeddingSpace, Slice
from apps.catalog.selectors import with_vector_counts
from apps.core.admin_scoping import OrganizationScopedAdmin


@admin.register(EmbeddingSpace)
class EmbeddingSpaceAdmin(OrganizationScopedAdmin):
    list_display = ("name", "organization", "dims", "n_vectors", "version", "created_at")
    list_select_related = ("organization",)
    search_fields = ("name",)
    readonly_fields = ("dims", "version", "builtin")

    @admin.display(description="Vectors")
    def n_vectors(self, obj: Any) -> str:
        """Exact up to 1,000, else the database's estimate ("about 1.2 million"): no count of every vector."""
        return str(with_vector_counts([obj])[0].vector_count_text)  # type: ignore[attr-defined]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # created through the API (dims are fixed at creation)


@admin.register(Slice)
class SliceAdmin(OrganizationScopedAdmin):
    list_display = ("name", "organization", "dataset", "created_by", "created_at")
    list_select_related = ("organization", "dataset", "created_by")
    search_fields = ("name",)
    readonly_fields = ("filters", "row_ids", "dataset", "created_by")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
