"""Admin for organizations, users and tokens. Every write goes through `apps.accounts.services`."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm, UserChangeForm
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from apps.accounts import services
from apps.accounts.models import ApiToken, Organization, User
from apps.accounts.roles import OrgRole
from apps.core.admin_scoping import OrganizationScopedAdmin, adopt_saved
from apps.core.errors import ApplicationError
from apps.core.middleware import current_user


class OrganizationAddForm(forms.ModelForm):
    admin_username = forms.CharField(max_length=150, help_text="The organization's first admin.")
    admin_email = forms.EmailField(required=False)
    admin_password = forms.CharField(widget=forms.PasswordInput)

    class Meta:
        model = Organization
        fields = ("name",)


@admin.register(Organization)
class OrganizationAdmin(OrganizationScopedAdmin):
    organization_path = "pk"
    org_admin_can_add = False
    list_display = ("name", "user_count", "created_at")
    search_fields = ("name",)
    fields = ("name",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Organization]:
        return super().get_queryset(request).annotate(n_users=Count("users"))

    @admin.display(description="Users", ordering="n_users")
    def user_count(self, obj: Organization) -> int:
        return getattr(obj, "n_users", 0)

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        if obj is None:
            kwargs["form"] = OrganizationAddForm
            kwargs["fields"] = ("name", "admin_username", "admin_email", "admin_password")
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ("name", "admin_username", "admin_email", "admin_password")
        return ("name",)

    def save_model(self, request: HttpRequest, obj: Organization, form: forms.ModelForm, change: bool) -> None:
        if change:
            services.organization_update(organization=obj, name=form.cleaned_data["name"], actor=request.user)  # type: ignore[arg-type]
            return
        created = services.organization_create(
            name=form.cleaned_data["name"],
            admin={
                "username": form.cleaned_data["admin_username"],
                "password": form.cleaned_data["admin_password"],
                "email": form.cleaned_data.get("admin_email", ""),
            },
            actor=request.user,  # type: ignore[arg-type]
        )
        adopt_saved(obj, created.organization)


class UserAddForm(forms.ModelForm):
    password1 = forms.CharField(label="Password", widget=forms.PasswordInput)
    password2 = forms.CharField(label="Password (again)", widget=forms.PasswordInput)

    class Meta:
        model = User
        fields = ("username", "email", "role", "organization")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("password1") != data.get("password2"):
            raise forms.ValidationError("The two passwords differ.")
        return data


class ServicePasswordChangeForm(AdminPasswordChangeForm):
    """The admin's "change password" page, saving through the service (validated and audited)."""

    def save(self, commit: bool = True) -> Any:
        password = self.cleaned_data["password1"]
        return services.user_set_password(user=self.user, password=password, actor=current_user())  # type: ignore[arg-type]


class UserEditForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(OrganizationScopedAdmin, DjangoUserAdmin):
    form = UserEditForm
    add_form = UserAddForm
    change_password_form = ServicePasswordChangeForm
    list_display = ("username", "email", "organization", "role", "is_active", "last_login")
    list_filter = ("role", "is_active", "organization")
    list_select_related = ("organization",)
    search_fields = ("username", "email", "first_name", "last_name")
    ordering = ("username",)
    editable_after_create = ("role", "is_active", "email", "first_name", "last_name")

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            fields = ["username", "email", "role", "password1", "password2"]
            if request.user.is_superuser:
                fields.insert(3, "organization")
            return ((None, {"fields": fields}),)
        return (
            (None, {"fields": ("username", "password")}),
            ("Profile", {"fields": ("first_name", "last_name", "email")}),
            ("Organization", {"fields": ("organization", "role", "is_active")}),
            ("Dates", {"fields": ("last_login", "date_joined")}),
        )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ()
        return ("username", "organization", "last_login", "date_joined")

    def get_list_filter(self, request: HttpRequest) -> Any:
        return self.list_filter if request.user.is_superuser else ("role", "is_active")

    def save_model(self, request: HttpRequest, obj: User, form: forms.ModelForm, change: bool) -> None:
        actor: User = request.user  # type: ignore[assignment]
        if change:
            data = {f: form.cleaned_data[f] for f in self.editable_after_create if f in form.changed_data}
            fresh = User.objects.get(pk=obj.pk)
            services.user_update(user=fresh, actor=actor, data=data)
            return
        organization = form.cleaned_data.get("organization") if actor.is_superuser else actor.organization
        if organization is None:
            raise ApplicationError("Choose an organization for the user.")
        created = services.user_create(
            organization=organization,
            username=form.cleaned_data["username"],
            password=form.cleaned_data["password1"],
            email=form.cleaned_data.get("email", ""),
            role=form.cleaned_data.get("role") or OrgRole.LABELER,
            actor=actor,
        )
        adopt_saved(obj, created)


@admin.register(ApiToken)
class ApiTokenAdmin(OrganizationScopedAdmin):
    organization_path = "user__organization"
    org_admin_can_add = False
    org_admin_can_change = False
    list_display = ("prefix", "name", "user", "created_at", "last_used_at", "revoked_at")
    list_select_related = ("user",)
    search_fields = ("prefix", "name", "user__username")
    readonly_fields = ("prefix", "name", "user", "created_at", "last_used_at", "revoked_at", "expires_at")
    exclude = ("key_hash",)
    actions = ["revoke_tokens"]

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def _org_id_lookup(self) -> str:
        return "user__organization_id"

    @admin.action(description="Revoke selected tokens")
    def revoke_tokens(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        for token in queryset.select_related("user__organization"):
            services.api_token_revoke(token=token, actor=request.user)  # type: ignore[arg-type]
        self.message_user(request, f"Revoked {queryset.count()} token(s).", messages.SUCCESS)
