from django.contrib import admin

from apps.core.admin_scoping import ReadOnlyScopedAdmin
from apps.core.models import AuditEvent, Job


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyScopedAdmin):
    list_display = ("created_at", "action", "actor", "object_type", "object_repr", "ip")
    list_filter = ("action", "object_type")
    search_fields = ("action", "object_id", "object_repr", "actor__username")
    date_hierarchy = "created_at"
    list_select_related = ("actor",)
    readonly_fields = [f.name for f in AuditEvent._meta.fields]


@admin.register(Job)
class JobAdmin(ReadOnlyScopedAdmin):
    list_display = ("created_at", "kind", "status", "progress_done", "progress_total", "created_by")
    list_filter = ("kind", "status")
    list_select_related = ("created_by",)
    readonly_fields = [f.name for f in Job._meta.fields]
