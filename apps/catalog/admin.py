"""Admin for the catalog: embedding spaces (read-mostly; vectors arrive through the API) and saved slices."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from apps.catalog.models import EmbeddingSpace, Slice
from apps.core.admin_scoping import OrganizationScopedAdmin


@admin.register(EmbeddingSpace)
class EmbeddingSpaceAdmin(OrganizationScopedAdmin):
    list_display = ("name", "organization", "dims", "n_vectors", "version", "created_at")
    list_select_related = ("organization",)
    search_fields = ("name",)
    readonly_fields = ("dims", "version", "builtin")

    def get_queryset(self, request: HttpRequest) -> QuerySet[EmbeddingSpace]:
        return super().get_queryset(request).annotate(n_vectors=Count("vectors"))

    @admin.display(description="Vectors", ordering="n_vectors")
    def n_vectors(self, obj: Any) -> int:
        return obj.n_vectors

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
