"""Ontology admin: a validated JSON editor with a readable (escaped) preview, version history with diffs, clone and
archive actions. Every write goes through `apps.ontologies.services`."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.forms import Script
from django.http import HttpRequest, JsonResponse
from django.urls import NoReverseMatch, path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from apps.accounts.models import Organization
from apps.core.admin_scoping import OrganizationScopedAdmin, ReadOnlyScopedAdmin, adopt_saved, is_org_admin
from apps.core.errors import ApplicationError
from apps.ontologies import services
from apps.ontologies.domain.preview import diff_lines
from apps.ontologies.domain.tree import CLASSIFICATION_TYPES, PALETTE, TOOL_KINDS, Tree, diff_trees, normalize_tree
from apps.ontologies.models import Feature, Ontology, OntologyVersion
from apps.ontologies.registry import has_version_listers, projects_using_versions
from apps.ontologies.selectors import ontology_change_preview

TREE_HELP = (
    'The whole tree as JSON: {"tools": [...], "classifications": [...]} (shape in API.md). Keep the schema_id of '
    'nodes you keep; remove a node that labels use and the save is refused; set "archived": true instead. '
    "Saving a changed tree creates a new version."
)


def tree_html(tree: dict[str, Any] | None) -> SafeString:
    """The tree as nested lists; every name is escaped by format_html."""
    if not tree:
        return format_html("<em>{}</em>", "empty")

    def flags(node: dict[str, Any]) -> SafeString:
        parts = []
        if node.get("required"):
            parts.append("required")
        if node.get("archived"):
            parts.append("archived")
        return format_html(" <em>({})</em>", ", ".join(parts)) if parts else SafeString("")

    def classifications(items: list[dict[str, Any]]) -> SafeString:
        if not items:
            return SafeString("")
        return format_html("<ul>{}</ul>", format_html_join("", "{}", ((classification(c),) for c in items)))

    def classification(c: dict[str, Any]) -> SafeString:
        options = format_html_join(
            "",
            "<li>{} <code>{}</code>{}{}</li>",
            (
                (o.get("value", ""), o.get("schema_id", ""), flags(o), classifications(o.get("classifications", [])))
                for o in c.get("options", [])
            ),
        )
        return format_html(
            "<li><strong>{}</strong> [{}] <code>{}</code>{}<ul>{}</ul></li>",
            c.get("name", ""),
            c.get("type", ""),
            c.get("schema_id", ""),
            flags(c),
            options,
        )

    tools = format_html_join(
        "",
        '<li><span style="display:inline-block;width:.8em;height:.8em;background:{}"></span> '
        "<strong>{}</strong> [{}] <code>{}</code>{}{}</li>",
        (
            (
                t.get("color", ""),
                t.get("name", ""),
                t.get("tool", ""),
                t.get("schema_id", ""),
                flags(t),
                classifications(t.get("classifications", [])),
            )
            for t in tree.get("tools", [])
        ),
    )
    return format_html(
        "<div><p>Tools</p><ul>{}</ul><p>Classifications</p>{}</div>",
        tools,
        classifications(tree.get("classifications", [])),
    )


def diff_html(old: Tree | None, new: Tree) -> SafeString:
    if old is None:
        return format_html("<em>{}</em>", "first version")
    rows = diff_lines(diff_trees(old, new))
    if not rows:
        return format_html("<em>{}</em>", "no change")
    return format_html("<ul>{}</ul>", format_html_join("", "<li>{}: {}</li>", rows))


class OntologyEditorWidget(forms.Textarea):
    """The tree editor (static/ontologies/editor.js) over the JSON textarea, which stays as the "advanced" view and
    is what the form posts: without JavaScript the page is the plain JSON editor."""

    template_name = "ontologies/editor_widget.html"

    def __init__(self) -> None:
        super().__init__(
            attrs={
                "rows": 24,
                "cols": 100,
                "spellcheck": "false",
                "class": "ontology-json",
                "data-palette": json.dumps(PALETTE),
                "data-tool-kinds": json.dumps(TOOL_KINDS),
                "data-classification-types": json.dumps(CLASSIFICATION_TYPES),
            }
        )

    @property
    def media(self) -> forms.Media:
        return forms.Media(
            css={"all": ["ontologies/editor.css"]},
            js=[Script("ontologies/editor.js", type="module")],  # type: ignore[list-item]
        )

    def format_value(self, value: Any) -> str | None:
        if isinstance(value, dict):  # the initial tree: indented, as the editor writes it back
            return json.dumps(value, indent=2, ensure_ascii=False)
        return super().format_value(value)


class OntologyForm(forms.ModelForm):
    tree = forms.JSONField(help_text=TREE_HELP, widget=OntologyEditorWidget())

    class Meta:
        model = Ontology
        fields = ("organization", "name", "description")

    def clean_tree(self) -> Any:
        value = self.cleaned_data["tree"]
        if not isinstance(value, dict) or not set(value) <= {"tools", "classifications"}:
            raise forms.ValidationError('Give an object {"tools": [...], "classifications": [...]}.')
        _, errors = normalize_tree(value)
        if errors:
            raise forms.ValidationError([f"{e.path}: {e.message}" for e in errors[:50]])
        if self.instance.pk is not None:  # the service's 409, shown on the form so the edited tree stays
            in_use = ontology_change_preview(ontology=self.instance, tree=value)["in_use"]
            if in_use:
                raise forms.ValidationError(in_use["message"], code="feature_in_use")
        return value


class OntologyVersionInline(admin.TabularInline):
    model = OntologyVersion
    extra = 0
    can_delete = False
    fields = ("number", "created_at", "created_by", "projects", "changes")
    readonly_fields = fields
    ordering = ("-number",)
    show_change_link = False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_superuser or is_org_admin(request))

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="Projects using it")
    def projects(self, obj: OntologyVersion) -> str:
        names = projects_using_versions([obj.pk]).get(str(obj.pk), [])
        return ", ".join(names) if names else "none"  # escaped by the admin

    @admin.display(description="Changes from the previous version")
    def changes(self, obj: OntologyVersion) -> SafeString:
        previous = (
            OntologyVersion.objects.filter(ontology_id=obj.ontology_id, number=obj.number - 1)
            .values_list("tree", flat=True)
            .first()
        )
        return diff_html(previous, obj.tree)


@admin.register(Ontology)
class OntologyAdmin(OrganizationScopedAdmin):
    form = OntologyForm
    list_display = ("name", "current_version", "archived", "projects_using", "created_at")
    list_filter = ("archived",)
    search_fields = ("name",)
    actions = ["clone_selected", "archive_selected", "unarchive_selected"]
    inlines = [OntologyVersionInline]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # labels reference versions; archive instead

    def get_list_display(self, request: HttpRequest) -> Any:
        if request.user.is_superuser:
            return ("name", "organization", "current_version", "archived", "projects_using", "created_at")
        return self.list_display

    def get_list_filter(self, request: HttpRequest) -> Any:
        return ("archived", "organization") if request.user.is_superuser else self.list_filter

    def get_inlines(self, request: HttpRequest, obj: Any) -> Any:
        return self.inlines if obj is not None else []

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields: list[str] = ["name", "description", "tree"]
        if obj is None and request.user.is_superuser:
            fields.insert(0, "organization")
        if obj is not None:
            fields = ["name", "description", "current_version", "projects_behind", "archived", "cloned_from", "tree"]
        return fields

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ()
        return ("current_version", "projects_behind", "archived", "cloned_from")

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is not None:
            current = obj.versions.filter(number=obj.current_version).values_list("tree", flat=True).first()
            form.base_fields["tree"].initial = current or {"tools": [], "classifications": []}
        else:
            form.base_fields["tree"].initial = {"tools": [], "classifications": []}
        if "organization" in form.base_fields:
            form.base_fields["organization"].required = True
        return form

    def get_urls(self) -> list[Any]:
        check = self.admin_site.admin_view(self.editor_check_view)
        return [
            path("editor-check/", check, name="ontologies_ontology_editor_check_new"),
            path("<path:object_id>/editor-check/", check, name="ontologies_ontology_editor_check"),
            *super().get_urls(),
        ]

    def editor_check_view(self, request: HttpRequest, object_id: str | None = None) -> JsonResponse:
        """POST {"tree": {...}} → what saving it would do (errors, version diff, removed features in use)."""
        if request.method != "POST":
            return JsonResponse({"error": {"code": "method_not_allowed", "message": "POST a tree."}}, status=405)
        ontology = None
        if object_id is not None:
            ontology = self.get_object(request, object_id)
            if ontology is None or not self.has_change_permission(request, ontology):
                return JsonResponse({"error": {"code": "not_found", "message": "Not found."}}, status=404)
        elif not self.has_add_permission(request):
            return JsonResponse({"error": {"code": "permission_denied", "message": "Not allowed."}}, status=403)
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            return JsonResponse({"error": {"code": "invalid_json", "message": "The body is not JSON."}}, status=400)
        tree = body.get("tree") if isinstance(body, dict) else None
        answer = ontology_change_preview(ontology=ontology, tree=tree)
        answer["lines"] = diff_lines(answer["diff"]) if answer.get("diff") else []
        return JsonResponse(answer)

    @admin.display(description="Projects on older versions")
    def projects_behind(self, obj: Ontology) -> SafeString:
        """The projects pinned to an older version, with the link to the upgrade page (labeling's admin)."""
        numbers = {
            str(pk): number
            for pk, number in obj.versions.filter(number__lt=obj.current_version).values_list("pk", "number")
        }
        behind = sorted(
            (name, numbers[version_id])
            for version_id, names in (projects_using_versions(numbers) if numbers else {}).items()
            for name in names
        )
        if not behind:
            return format_html("<em>{}</em>", f"none: every project uses v{obj.current_version}")
        listing = format_html_join(", ", "{} (v{})", behind)
        try:
            url = reverse("admin:labeling_project_upgrade_ontology", args=[obj.pk])
        except NoReverseMatch:  # the labeling admin is not installed
            return listing
        return format_html('{} <a class="button" href="{}">Review and upgrade…</a>', listing, url)

    @admin.display(description="Tree (current version)")
    def tree_preview(self, obj: Ontology) -> SafeString:
        tree = obj.versions.filter(number=obj.current_version).values_list("tree", flat=True).first()
        return tree_html(tree)

    @admin.display(description="Projects using")
    def projects_using(self, obj: Ontology) -> str:
        # Filled by the app that owns projects through `register_version_user_lister`; "none" until then.
        by_version = projects_using_versions(obj.versions.values_list("pk", flat=True)) if has_version_listers() else {}
        names = sorted({name for names in by_version.values() for name in names})
        return ", ".join(names) if names else "none"

    def save_model(self, request: HttpRequest, obj: Ontology, form: forms.ModelForm, change: bool) -> None:
        tree = form.cleaned_data["tree"]
        actor = request.user
        if change:
            services.ontology_update(
                ontology=obj,
                name=form.cleaned_data["name"],
                description=form.cleaned_data.get("description", ""),
                tools=tree.get("tools", []),
                classifications=tree.get("classifications", []),
                actor=actor,  # type: ignore[arg-type]
            )
            return
        organization: Organization | None = (
            form.cleaned_data.get("organization") if actor.is_superuser else actor.organization  # type: ignore[union-attr]
        )
        if organization is None:
            raise ApplicationError("Choose an organization for the ontology.")
        created = services.ontology_create(
            organization=organization,
            name=form.cleaned_data["name"],
            description=form.cleaned_data.get("description", ""),
            tools=tree.get("tools", []),
            classifications=tree.get("classifications", []),
            actor=actor,  # type: ignore[arg-type]
        )
        adopt_saved(obj, created)

    @admin.action(description="Clone selected ontologies")
    def clone_selected(self, request: HttpRequest, queryset: QuerySet[Ontology]) -> None:
        for ontology in queryset:
            services.ontology_clone(ontology=ontology, name=f"{ontology.name} (copy)"[:200], actor=request.user)  # type: ignore[arg-type]
        self.message_user(request, f"Cloned {len(queryset)} ontology(ies).", messages.SUCCESS)

    @admin.action(description="Archive selected ontologies")
    def archive_selected(self, request: HttpRequest, queryset: QuerySet[Ontology]) -> None:
        for ontology in queryset:
            services.ontology_set_archived(ontology=ontology, archived=True, actor=request.user)  # type: ignore[arg-type]
        self.message_user(request, f"Archived {len(queryset)} ontology(ies).", messages.SUCCESS)

    @admin.action(description="Unarchive selected ontologies")
    def unarchive_selected(self, request: HttpRequest, queryset: QuerySet[Ontology]) -> None:
        for ontology in queryset:
            services.ontology_set_archived(ontology=ontology, archived=False, actor=request.user)  # type: ignore[arg-type]
        self.message_user(request, f"Unarchived {len(queryset)} ontology(ies).", messages.SUCCESS)


@admin.register(Feature)
class FeatureAdmin(ReadOnlyScopedAdmin):
    list_display = ("name", "kind", "subtype", "schema_id", "created_at")
    list_filter = ("kind", "subtype")
    search_fields = ("name", "schema_id")
    readonly_fields = ("schema_id", "kind", "subtype", "name", "organization", "created_at", "updated_at")
