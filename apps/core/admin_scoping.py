"""Admin that respects tenancy: a staff org admin sees and edits only their organization's objects."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.db import models
from django.http import Http404, HttpRequest, HttpResponseRedirect

from apps.core.admin_audit import admin_log_entry_audit
from apps.core.admin_paging import EstimatedCountPaginator, KeysetChangeList
from apps.core.errors import ApplicationError


def is_org_admin(request: HttpRequest) -> bool:
    user = request.user
    return bool(
        user.is_authenticated
        and user.is_active
        and user.is_staff
        and getattr(user, "role", None) == "admin"
        and getattr(user, "organization_id", None)
    )


class OrganizationScopedAdmin(admin.ModelAdmin):
    """Superusers see everything; org admins see rows whose `organization_path` is their organization."""

    organization_path = "organization"
    # No COUNT(*) over millions of rows on a changelist: a bounded count, else an estimate (`admin_paging`).
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    org_admin_can_add = True
    org_admin_can_change = True
    org_admin_can_delete = False

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[KeysetChangeList]:
        return KeysetChangeList

    def get_queryset(self, request: HttpRequest) -> models.QuerySet[Any]:
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        if not is_org_admin(request):
            return queryset.none()
        return queryset.filter(**{self._org_id_lookup(): request.user.organization_id})  # type: ignore[union-attr]

    def _org_id_lookup(self) -> str:
        return "pk" if self.organization_path == "pk" else f"{self.organization_path}_id"

    def _owns(self, request: HttpRequest, obj: models.Model | None) -> bool:
        if obj is None:
            return True
        org_id = obj.pk if self.organization_path == "pk" else _follow(obj, self.organization_path)
        return str(org_id) == str(request.user.organization_id)  # type: ignore[union-attr]

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context: Any = None) -> Any:
        return _service_errors_as_messages(
            request, lambda: super(OrganizationScopedAdmin, self).add_view(request, form_url, extra_context)
        )

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None) -> Any:
        return _service_errors_as_messages(
            request,
            lambda: super(OrganizationScopedAdmin, self).change_view(request, object_id, form_url, extra_context),
        )

    def log_deletions(self, request: HttpRequest, queryset: Any) -> Any:
        """Bulk deletions are logged with `bulk_create` (no `post_save`): copy them into the audit trail here."""
        entries = super().log_deletions(request, queryset)
        if isinstance(entries, list) and len(entries) > 1:
            for entry in entries:
                admin_log_entry_audit(entry)
        return entries

    def _get_obj_does_not_exist_redirect(self, request: HttpRequest, opts: Any, object_id: str) -> Any:
        """Another organization's object (or a missing one) is a plain 404, the same as in the API."""
        raise Http404("Not found.")

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser or is_org_admin(request)

    def has_view_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        if request.user.is_superuser:
            return True
        return is_org_admin(request) and self._owns(request, obj)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        if request.user.is_superuser:
            return super().has_add_permission(request, *args) if args else True
        return is_org_admin(request) and self.org_admin_can_add

    def has_change_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        if request.user.is_superuser:
            return True
        return is_org_admin(request) and self.org_admin_can_change and self._owns(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        if request.user.is_superuser:
            return True
        return is_org_admin(request) and self.org_admin_can_delete and self._owns(request, obj)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        """Choices in foreign-key dropdowns are limited to the org admin's organization."""
        if not request.user.is_superuser:
            related = db_field.related_model
            if related._meta.label_lower == "accounts.organization":
                kwargs["queryset"] = related.objects.filter(pk=request.user.organization_id)  # type: ignore[union-attr]
            elif any(f.name == "organization" for f in related._meta.get_fields()):
                kwargs["queryset"] = related._default_manager.filter(
                    organization_id=request.user.organization_id  # type: ignore[union-attr]
                )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class ReadOnlyScopedAdmin(OrganizationScopedAdmin):
    org_admin_can_add = False
    org_admin_can_change = False

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False


def _follow(obj: models.Model, path: str) -> Any:
    """`organization` → obj.organization_id; `project__organization` → obj.project.organization_id."""
    *parents, last = path.split("__")
    for part in parents:
        obj = getattr(obj, part)
    return getattr(obj, f"{last}_id")


def adopt_saved(obj: models.Model, saved: models.Model) -> None:
    """Point the admin's unsaved form instance at the row a service created, so the admin redirects to it."""
    obj.pk = saved.pk
    obj._state.adding = False
    obj._state.db = saved._state.db


def service_error_message(request: HttpRequest, exc: ApplicationError) -> None:
    """Show a service's error (message plus per-field reasons) as an admin error message."""
    details = exc.details if isinstance(exc.details, dict) else {}
    detail = "; ".join(
        f"{key}: {' '.join(value)}"
        for key, value in details.items()
        if isinstance(value, list) and all(isinstance(item, str) for item in value)
    )
    messages.error(request, f"{exc.message} {detail}".strip())


def _service_errors_as_messages(request: HttpRequest, view: Callable[[], Any]) -> Any:
    """A service's validation or conflict error becomes an admin error message instead of a 500."""
    try:
        return view()
    except ApplicationError as exc:
        service_error_message(request, exc)
        return HttpResponseRedirect(request.get_full_path())
