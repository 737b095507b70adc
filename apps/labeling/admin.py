"""Admin for projects (settings, members, batches, queue overview), tasks and labels. Writes go through services."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join

from apps.core.admin_scoping import OrganizationScopedAdmin, ReadOnlyScopedAdmin, adopt_saved
from apps.labeling import registry, selectors, services
from apps.labeling.models import Batch, Draft, Label, Project, ProjectMember, Task


class ProjectForm(forms.ModelForm):
    settings = forms.JSONField(required=False, help_text="Blocks: quality, review, routing, queue, lease.")

    class Meta:
        model = Project
        fields = ("name", "description", "ontology", "media_type", "instructions", "settings", "archived")


class ProjectMemberInline(admin.TabularInline):
    model = ProjectMember
    extra = 0
    fields = ("user", "role")
    readonly_fields = ("user", "role")
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class BatchInline(admin.TabularInline):
    model = Batch
    extra = 0
    fields = ("name", "priority", "created_at")
    readonly_fields = ("name", "priority", "created_at")
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Project)
class ProjectAdmin(OrganizationScopedAdmin):
    form = ProjectForm
    list_display = ("name", "ontology", "version_number", "media_type", "archived", "created_at")
    list_filter = ("media_type", "archived")
    list_select_related = ("ontology", "ontology_version")
    search_fields = ("name",)
    readonly_fields = ("queue_overview", "pinned_version")
    inlines = [ProjectMemberInline, BatchInline]
    actions = ["release_expired_leases"]

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        """Plus the project actions other apps register (e.g. quality's "recompute scores")."""
        actions = super().get_actions(request)
        for action in registry.project_admin_actions():
            name = action.__name__
            actions[name] = (action, name, getattr(action, "short_description", name.replace("_", " ")))
        return actions

    @admin.display(description="Ontology version")
    def version_number(self, obj: Project) -> int:
        return obj.ontology_version.number

    @admin.display(description="Pinned ontology version")
    def pinned_version(self, obj: Project) -> str:
        return f"v{obj.ontology_version.number} (upgrade with POST /api/v1/projects/{obj.pk}/ontology/upgrade)"

    @admin.display(description="Queue by state")
    def queue_overview(self, obj: Project) -> str:
        counts = selectors.project_overview(project=obj)
        return format_html("<ul>{}</ul>", format_html_join("", "<li>{}: {}</li>", counts.items()))

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ("name", "description", "ontology", "media_type", "instructions", "settings")
        return ("name", "description", "pinned_version", "instructions", "settings", "archived", "queue_overview")

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is not None and "settings" in form.base_fields:
            form.base_fields["settings"].initial = obj.settings
        return form

    def save_model(self, request: HttpRequest, obj: Project, form: forms.ModelForm, change: bool) -> None:
        data = form.cleaned_data
        actor = request.user
        if change:
            fields = {f: data[f] for f in ("name", "description", "instructions", "archived") if f in form.changed_data}
            if "settings" in form.changed_data:
                fields["settings"] = data.get("settings") or {}
            services.project_update(actor=actor, project=obj, data=fields)  # type: ignore[arg-type]
            return
        created = services.project_create(
            actor=actor,  # type: ignore[arg-type]
            name=data["name"],
            ontology=data["ontology"],
            media_type=data["media_type"],
            instructions=data.get("instructions", ""),
            description=data.get("description", ""),
            settings=data.get("settings") or {},
        )
        adopt_saved(obj, created)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """Inlines are read-only; membership changes go through the API or the members action."""

    @admin.action(description="Release expired leases")
    def release_expired_leases(self, request: HttpRequest, queryset: QuerySet[Project]) -> None:
        released = sum(services.leases_release_expired(project=project) for project in queryset)
        self.message_user(request, f"Released {released} expired lease(s).", messages.SUCCESS)


@admin.register(ProjectMember)
class ProjectMemberAdmin(OrganizationScopedAdmin):
    organization_path = "project__organization"
    list_display = ("project", "user", "role", "created_at")
    list_filter = ("role",)
    list_select_related = ("project", "user")
    fields = ("project", "user", "role")

    def _org_id_lookup(self) -> str:
        return "project__organization_id"

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if not request.user.is_superuser and db_field.name == "user":
            from apps.accounts.models import User

            kwargs["queryset"] = User.objects.filter(organization_id=request.user.organization_id)  # type: ignore[union-attr,misc]
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: ProjectMember, form: forms.ModelForm, change: bool) -> None:
        member = services.project_member_set(
            actor=request.user,  # type: ignore[arg-type]
            project=form.cleaned_data["project"],
            user=form.cleaned_data["user"],
            role=form.cleaned_data["role"],
        )
        adopt_saved(obj, member)

    def delete_model(self, request: HttpRequest, obj: ProjectMember) -> None:
        services.project_member_remove(actor=request.user, project=obj.project, user=obj.user)  # type: ignore[arg-type]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_change_permission(request, obj)


@admin.register(Batch)
class BatchAdmin(ReadOnlyScopedAdmin):
    organization_path = "project__organization"
    list_display = ("name", "project", "priority", "created_at")
    list_select_related = ("project",)
    list_filter = ("priority",)

    def _org_id_lookup(self) -> str:
        return "project__organization_id"


@admin.register(Task)
class TaskAdmin(ReadOnlyScopedAdmin):
    organization_path = "project__organization"
    list_display = ("id", "project", "data_row", "slot", "kind", "state", "assignee", "lease_expires_at", "priority")
    list_filter = ("state", "kind", "priority")
    list_select_related = ("project", "data_row", "assignee")
    search_fields = ("data_row__global_key",)

    def _org_id_lookup(self) -> str:
        return "project__organization_id"


@admin.register(Label)
class LabelAdmin(ReadOnlyScopedAdmin):
    organization_path = "project__organization"
    list_display = ("id", "project", "data_row", "labeler", "revision", "is_current", "created_at")
    list_filter = ("is_current",)
    list_select_related = ("project", "data_row", "labeler")
    readonly_fields = ("pretty_annotations",)
    exclude = ("annotations",)

    def _org_id_lookup(self) -> str:
        return "project__organization_id"

    @admin.display(description="Annotations")
    def pretty_annotations(self, obj: Label) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.annotations, indent=2))


@admin.register(Draft)
class DraftAdmin(ReadOnlyScopedAdmin):
    """Unsubmitted work, listed read-only for org admins (who is mid-task, since when, how big)."""

    organization_path = "project__organization"
    list_display = ("user", "project", "task", "revision", "size_bytes", "updated_at")
    list_select_related = ("user", "project", "task")
    exclude = ("annotations",)  # a draft is not a label: its content is its owner's until submitted

    def _org_id_lookup(self) -> str:
        return "project__organization_id"
