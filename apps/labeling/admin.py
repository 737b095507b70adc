"""Admin for projects (settings, members, batches, queue overview), tasks and labels. Writes go through services.
Batches have their own admin in `admin_batches` (registered when this module is imported)."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from apps.core.admin_scoping import OrganizationScopedAdmin, ReadOnlyScopedAdmin, adopt_saved
from apps.core.errors import ApplicationError
from apps.core.ids import is_uuid
from apps.labeling import admin_batches, admin_settings, registry, selectors, services  # noqa: F401 (registers BatchAdmin)
from apps.labeling.models import Batch, Draft, Label, Project, ProjectMember, Task
from apps.ontologies.domain.preview import diff_lines
from apps.ontologies.models import Ontology
from apps.ontologies.selectors import ontology_diff


class ProjectFormBase(forms.ModelForm):
    """Project fields plus one field per setting (`admin_settings`), checked by the API's settings validator."""

    organization_id: Any = None  # set by the admin: whose model runs and embeddings the ids may name

    class Meta:
        model = Project
        fields = ("name", "description", "ontology", "media_type", "instructions", "archived")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        initial = admin_settings.settings_initial(self.instance.settings if self.instance.pk else None)
        for name, value in initial.items():
            self.initial.setdefault(name, value)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if any(name in self.errors for name in admin_settings.settings_form_fields()):
            return cleaned
        raw = admin_settings.settings_from_form(cleaned)
        current = self.instance.settings if self.instance.pk else None
        settings, errors = services.project_settings_check(
            organization_id=self.organization_id, raw=raw, current=current
        )
        for where, texts in errors.items():
            names = admin_settings.field_names_for(where)
            if names:
                self.add_error(names[0], texts)
            else:
                self.add_error(None, [f"{where}: {m}" for m in texts])
        cleaned["settings"] = settings
        return cleaned


ProjectForm = type("ProjectForm", (ProjectFormBase,), admin_settings.settings_form_fields())


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
    fields = ("name", "priority", "paused", "created_at")
    readonly_fields = ("name", "priority", "paused", "created_at")
    can_delete = False
    show_change_link = True  # priority and pause are changed on the batch's own page (through the services)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Project)
class ProjectAdmin(OrganizationScopedAdmin):
    form = ProjectForm
    list_display = ("name", "ontology", "version_number", "media_type", "archived", "created_at")
    list_filter = ("media_type", "archived")
    list_select_related = ("ontology", "ontology_version")
    search_fields = ("name",)
    readonly_fields = ("queue_overview", "pinned_version", "batches_summary")
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
    def version_number(self, obj: Project) -> str:
        number, latest = obj.ontology_version.number, obj.ontology.current_version
        return f"v{number}" if number >= latest else f"v{number} (v{latest} available: open the project to upgrade)"

    @admin.display(description="Pinned ontology version")
    def pinned_version(self, obj: Project) -> str:
        current = obj.ontology.current_version
        if obj.ontology_version.number >= current:
            return f"v{obj.ontology_version.number} (the latest of {obj.ontology.name})"
        url = reverse("admin:labeling_project_upgrade_ontology", args=[obj.ontology_id])
        return format_html(
            'v{} — “{}” is at v{}. <a class="button" href="{}?project={}">See what changes and upgrade…</a>',
            obj.ontology_version.number,
            obj.ontology.name,
            current,
            url,
            obj.pk,
        )

    def get_urls(self) -> list[Any]:
        return [
            path(
                "upgrade-ontology/<str:ontology_id>/",
                self.admin_site.admin_view(self.upgrade_ontology_view),
                name="labeling_project_upgrade_ontology",
            ),
            *super().get_urls(),
        ]

    def upgrade_ontology_view(self, request: HttpRequest, ontology_id: str) -> HttpResponse:
        """The projects of an ontology on older versions, what changes for each, and one confirmed upgrade (through
        `project_upgrade_ontology`, audited)."""
        if not is_uuid(ontology_id):
            raise Http404("Not found.")
        ontology = Ontology.objects.filter(pk=ontology_id).first()
        if ontology is None or not (
            request.user.is_superuser or str(ontology.organization_id) == str(request.user.organization_id)  # type: ignore[union-attr]
        ):
            raise Http404("Not found.")
        projects = list(
            self.get_queryset(request)
            .filter(ontology=ontology, ontology_version__number__lt=ontology.current_version)
            .select_related("ontology_version")
            .order_by("name")
        )
        if not all(self.has_change_permission(request, p) for p in projects):
            raise PermissionDenied
        if request.method == "POST":
            chosen = set(request.POST.getlist("projects"))
            done = []
            for project in projects:
                if str(project.pk) in chosen:
                    try:
                        services.project_upgrade_ontology(actor=request.user, project=project)  # type: ignore[arg-type]
                    except ApplicationError as exc:
                        self.message_user(request, f"{project.name}: {exc.message}", messages.ERROR)
                        continue
                    done.append(f"{project.name} (v{project.ontology_version.number})")
            if done:
                self.message_user(
                    request,
                    f"Upgraded to v{ontology.current_version}: {', '.join(done)}.",
                    messages.SUCCESS,
                )
            elif not chosen:
                self.message_user(request, "No project checked: nothing upgraded.", messages.WARNING)
            return HttpResponseRedirect(request.get_full_path())
        wanted = request.GET.get("project")
        rows = []
        for project in projects:
            diff = ontology_diff(
                ontology=ontology, from_number=project.ontology_version.number, to_number=ontology.current_version
            )
            rows.append(
                {
                    "project": project,
                    "lines": diff_lines(diff),
                    "selected": wanted is None or wanted == str(project.pk),
                }
            )
        context = {
            **self.admin_site.each_context(request),
            "title": f"Upgrade projects of {ontology.name}",
            "ontology": ontology,
            "rows": rows,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/labeling/upgrade_ontology.html", context)

    @admin.display(description="Batches")
    def batches_summary(self, obj: Project) -> str:
        batches = list(obj.batches.order_by("-priority", "created_at").values_list("name", "priority", "paused")[:20])
        listing = format_html_join(
            "", "<li>{} (priority {}){}</li>", ((n, p, " — paused" if paused else "") for n, p, paused in batches)
        )
        changelist = reverse("admin:labeling_batch_changelist")
        return format_html(
            '<ul>{}</ul><a class="button" href="{}?project__id__exact={}">Manage batches (priority, pause)</a> '
            '<a class="button" href="{}?project={}">Add a batch</a>',
            listing or format_html("<li><em>{}</em></li>", "none yet: add data rows as a batch"),
            changelist,
            obj.pk,
            reverse("admin:labeling_batch_add"),
            obj.pk,
        )

    @admin.display(description="Queue by state")
    def queue_overview(self, obj: Project) -> str:
        counts = selectors.project_overview(project=obj)
        return format_html("<ul>{}</ul>", format_html_join("", "<li>{}: {}</li>", counts.items()))

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        main: tuple[str, ...]
        if obj is None:
            main = ("name", "description", "ontology", "media_type", "instructions")
        else:
            main = (
                "name",
                "description",
                "pinned_version",
                "instructions",
                "archived",
                "queue_overview",
                "batches_summary",
            )
        return [(None, {"fields": main}), *admin_settings.settings_fieldsets()]

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        organization_id = obj.organization_id if obj is not None else getattr(request.user, "organization_id", None)
        return type(form.__name__, (form,), {"organization_id": organization_id})

    def save_model(self, request: HttpRequest, obj: Project, form: forms.ModelForm, change: bool) -> None:
        data = form.cleaned_data
        actor = request.user
        if change:
            fields = {f: data[f] for f in ("name", "description", "instructions", "archived") if f in form.changed_data}
            if any(name.startswith("settings__") for name in form.changed_data):
                fields["settings"] = data["settings"]
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
