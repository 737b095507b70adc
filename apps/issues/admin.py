"""Admin for issues and their threads: read-only; the pages and the API write them through services."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from apps.core.admin_scoping import ReadOnlyScopedAdmin
from apps.issues.models import Comment, Issue


class CommentInline(admin.TabularInline):
    model = Comment
    extra = 0
    fields = ("author", "text", "created_at")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Issue)
class IssueAdmin(ReadOnlyScopedAdmin):
    list_display = ("created_at", "project", "data_row", "created_by", "status", "feature_name")
    list_filter = ("status",)
    list_select_related = ("project", "data_row", "created_by")
    search_fields = ("text",)
    inlines = [CommentInline]
