"""Reads of organizations and users, limited to what the caller may see."""

from __future__ import annotations

from django.db.models import QuerySet

from apps.accounts.models import ApiToken, Organization, User


def users_of_organization(*, organization: Organization) -> QuerySet[User]:
    return User.objects.filter(organization=organization).select_related("organization")


def users_visible_to(*, actor: User) -> QuerySet[User]:
    if actor.is_superuser:
        return User.objects.select_related("organization")
    return User.objects.filter(organization_id=actor.organization_id or "").select_related("organization")


def organizations_visible_to(*, actor: User) -> QuerySet[Organization]:
    if actor.is_superuser:
        return Organization.objects.all()
    return Organization.objects.filter(pk=actor.organization_id or "")


def api_tokens_of(*, user: User) -> QuerySet[ApiToken]:
    """The user's own tokens, newest first (revoked and expired ones included: the list is their history)."""
    return ApiToken.objects.filter(user=user).select_related("user")


def api_tokens_of_organization(*, organization: Organization) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user__organization=organization).select_related("user")
