"""Every write to organizations, users and tokens. Admin, API and commands all come through here."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from guardian.shortcuts import assign_perm, remove_perm

from apps.accounts.models import ApiToken, Organization, User
from apps.accounts.registry import role_lowered_listeners
from apps.accounts.roles import ORGANIZATION_PERMISSIONS, ROLE_PERMISSIONS, ROLE_RANK, OrgRole
from apps.core.alerts import alert_rules_create_defaults
from apps.core.audit import audit_record
from apps.core.errors import Conflict, ValidationFailed

TOKEN_PREFIX_LENGTH = 8


def _validate_credentials(*, username: str, password: str | None, email: str, user: User | None = None) -> None:
    errors: dict[str, list[str]] = {}
    if not username or len(username) > 150:
        errors["username"] = ["A username of 1 to 150 characters is required."]
    if email:
        try:
            validate_email(email)
        except DjangoValidationError:
            errors["email"] = ["Enter a valid email address."]
    if password is not None:
        try:
            validate_password(password, user=user)
        except DjangoValidationError as exc:
            errors["password"] = list(exc.messages)
    if errors:
        raise ValidationFailed("Invalid user data.", details=errors)


def _validate_role(role: str) -> None:
    if role not in OrgRole.values:
        raise ValidationFailed(
            f"Unknown role {role!r}.", details={"role": [f"Choose one of: {', '.join(OrgRole.values)}."]}
        )


def role_permissions_sync(*, user: User) -> None:
    """Make the user's guardian permissions on their organization exactly those of their role."""
    if user.organization is None:
        return
    wanted = ROLE_PERMISSIONS[user.role] if user.is_active else frozenset()
    for codename, _ in ORGANIZATION_PERMISSIONS:
        if codename in wanted:
            assign_perm(f"accounts.{codename}", user, user.organization)
        else:
            remove_perm(f"accounts.{codename}", user, user.organization)
    # Permission caches on the instance would otherwise answer with the old role.
    for attr in ("_perm_cache", "_user_perm_cache", "_group_perm_cache", "_guardian_perms_cache"):
        user.__dict__.pop(attr, None)


@transaction.atomic
def user_create(
    *,
    organization: Organization,
    username: str,
    password: str | None,
    email: str = "",
    role: str = OrgRole.LABELER,
    actor: User | None = None,
    first_name: str = "",
    last_name: str = "",
) -> User:
    """Create a user in an organization with a role. Org admins are staff so they can use the admin."""
    _validate_role(role)
    _validate_credentials(username=username, password=password, email=email)
    if User.objects.filter(username__iexact=username).exists():
        raise Conflict(f"The username {username!r} is taken.", code="username_taken")
    user = User(
        organization=organization,
        username=username,
        email=email,
        role=role,
        first_name=first_name,
        last_name=last_name,
        is_staff=role == OrgRole.ADMIN,
    )
    if password is None:
        user.set_unusable_password()
    else:
        user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as exc:
        raise Conflict(f"The username {username!r} is taken.", code="username_taken") from exc
    role_permissions_sync(user=user)
    audit_record(action="user.created", actor=actor, organization=organization, target=user, extra={"role": role})
    return user


@transaction.atomic
def user_update(*, user: User, actor: User | None, data: dict[str, Any]) -> User:
    """Change a user's role, active flag or profile fields. An org must keep at least one active admin."""
    allowed = {"role", "is_active", "email", "first_name", "last_name"}
    unknown = set(data) - allowed
    if unknown:
        raise ValidationFailed("Unknown fields.", details={f: ["This field cannot be changed."] for f in unknown})
    if "role" in data:
        _validate_role(data["role"])
    if "email" in data:
        _validate_credentials(username=user.username, password=None, email=data["email"])
    locked = User.objects.select_for_update().get(pk=user.pk)
    demotes_admin = (
        locked.role == OrgRole.ADMIN
        and locked.is_active
        and (data.get("role", OrgRole.ADMIN) != OrgRole.ADMIN or data.get("is_active", True) is False)
    )
    if demotes_admin and locked.organization_id is not None:
        others = User.objects.filter(
            organization_id=locked.organization_id, role=OrgRole.ADMIN, is_active=True
        ).exclude(pk=locked.pk)
        if not others.select_for_update().exists():
            raise Conflict("An organization must keep at least one active admin.", code="last_admin")
    changes = {field: value for field, value in data.items() if getattr(locked, field) != value}
    old_role = locked.role
    for field, value in changes.items():
        setattr(locked, field, value)
    if "role" in changes and not locked.is_superuser:
        locked.is_staff = locked.role == OrgRole.ADMIN
    locked.save()
    if {"role", "is_active"} & set(changes):
        role_permissions_sync(user=locked)
    if "role" in changes and ROLE_RANK[locked.role] < ROLE_RANK[old_role]:
        for listener in role_lowered_listeners():
            listener(user=locked, actor=actor, old_role=old_role, new_role=locked.role)
    if changes.get("is_active") is False:  # re-activation must not bring old tokens back
        api_tokens_revoke_all(user=locked, actor=actor, reason="deactivated")
    if changes:
        audit_record(
            action="user.updated",
            actor=actor,
            organization=locked.organization,
            target=locked,
            extra=dict(changes),
        )
    return locked


@transaction.atomic
def user_set_password(*, user: User, password: str, actor: User | None) -> User:
    _validate_credentials(username=user.username, password=password, email="", user=user)
    user.set_password(password)
    user.save(update_fields=["password", "updated_at"])
    audit_record(action="user.password_changed", actor=actor, organization=user.organization, target=user)
    api_tokens_revoke_all(user=user, actor=actor, reason="password_changed")
    return user


@transaction.atomic
def api_tokens_revoke_all(*, user: User, actor: User | None, reason: str) -> int:
    """Revoke every live token of the user (a password change or deactivation: whoever held a token obtained with
    the old credentials loses it, as the sessions do). Returns how many were revoked; one audit event for them."""
    revoked = ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), updated_at=timezone.now()
    )
    if revoked:
        audit_record(
            action="api_token.revoked_all",
            actor=actor,
            organization=user.organization,
            target=user,
            extra={"user": str(user.pk), "count": revoked, "reason": reason},
        )
    return revoked


@dataclass(frozen=True)
class OrganizationWithAdmin:
    organization: Organization
    admin: User


@transaction.atomic
def organization_create(*, name: str, admin: dict[str, str], actor: User | None) -> OrganizationWithAdmin:
    """Create an organization and its first admin user (superusers only; checked by the caller's access)."""
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise ValidationFailed(
            "Invalid organization.", details={"name": ["A name of 1 to 200 characters is required."]}
        )
    if Organization.objects.filter(name__iexact=name).exists():
        raise Conflict(f"An organization named {name!r} exists.", code="organization_exists")
    organization = Organization.objects.create(name=name)
    audit_record(action="organization.created", actor=actor, organization=organization, target=organization)
    alert_rules_create_defaults(organization=organization)
    user = user_create(
        organization=organization,
        username=admin.get("username", ""),
        password=admin.get("password", ""),
        email=admin.get("email", ""),
        role=OrgRole.ADMIN,
        actor=actor,
    )
    return OrganizationWithAdmin(organization=organization, admin=user)


@transaction.atomic
def organization_update(*, organization: Organization, name: str, actor: User | None) -> Organization:
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise ValidationFailed(
            "Invalid organization.", details={"name": ["A name of 1 to 200 characters is required."]}
        )
    if Organization.objects.filter(name__iexact=name).exclude(pk=organization.pk).exists():
        raise Conflict(f"An organization named {name!r} exists.", code="organization_exists")
    organization.name = name
    organization.save(update_fields=["name", "updated_at"])
    audit_record(action="organization.updated", actor=actor, organization=organization, target=organization)
    return organization


def hash_token_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    key: str


MAX_TOKENS_PER_USER = 100


@transaction.atomic
def api_token_create(
    *, user: User, name: str = "", actor: User | None = None, expires_at: datetime | None = None
) -> IssuedToken:
    """Issue a new token (optionally expiring). The plain key is returned once and never stored: only its SHA-256."""
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationFailed("Invalid token.", details={"expires_at": ["The expiry must be in the future."]})
    live = ApiToken.objects.filter(user=user, revoked_at__isnull=True).exclude(expires_at__lte=timezone.now())
    if live.count() >= MAX_TOKENS_PER_USER:
        raise Conflict(
            f"A user may hold at most {MAX_TOKENS_PER_USER} live tokens; revoke some first.", code="too_many_tokens"
        )
    key = secrets.token_hex(20)
    token = ApiToken.objects.create(
        user=user,
        name=name.strip()[:100],
        prefix=key[:TOKEN_PREFIX_LENGTH],
        key_hash=hash_token_key(key),
        expires_at=expires_at,
    )
    audit_record(
        action="api_token.created",
        actor=actor or user,
        organization=user.organization,
        target=token,
        extra={"user": str(user.pk), "expires_at": expires_at.isoformat() if expires_at else None},
    )
    return IssuedToken(token=token, key=key)


@transaction.atomic
def api_token_revoke(*, token: ApiToken, actor: User | None) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at", "updated_at"])
        audit_record(
            action="api_token.revoked",
            actor=actor,
            organization=token.user.organization,
            target=token,
            extra={"user": str(token.user_id)},
        )
    return token
