"""Who may do what with organizations and users. 404 for other organizations, 403 inside one's own."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest
from rest_framework.request import Request

from apps.accounts.models import ApiToken, Organization, User
from apps.accounts.roles import MANAGE_USERS, VIEW_USERS, org_perm
from apps.core.access import get_in_organization, has_perm, require_perm
from apps.core.errors import NotAuthenticated, NotFound, PermissionDenied


def request_user(request: HttpRequest | Request) -> User:
    """The authenticated user of a request, typed (views and APIs run behind login / IsAuthenticated)."""
    return request.user  # type: ignore[return-value]


def require_org_perm(actor: User, codename: str, message: str | None = None) -> Organization | None:
    """Raise 403 unless the actor's role in their organization grants `codename`; returns the organization."""
    if not actor.is_authenticated:
        raise NotAuthenticated()
    if actor.is_superuser:
        return actor.organization
    if actor.organization is None:
        raise PermissionDenied(message)
    require_perm(actor, org_perm(codename), actor.organization, message)
    return actor.organization


def require_superuser(actor: User) -> None:
    if not actor.is_superuser:
        raise PermissionDenied("Only a platform superuser may do this.")


def access_user(actor: User, user_id: object, *, action: str) -> User:
    """`action` is "view" or "change". A user may always view themself."""
    if str(user_id) == str(actor.pk) and action == "view":
        return actor
    if actor.is_superuser:
        try:
            return User.objects.select_related("organization").get(pk=str(user_id))
        except (User.DoesNotExist, ValueError, DjangoValidationError):
            raise NotFound() from None
    target = get_in_organization(User.objects.select_related("organization"), actor, user_id)
    codename = VIEW_USERS if action == "view" else MANAGE_USERS
    require_org_perm(actor, codename, "Your role does not allow this on users.")
    return target


def access_api_token(actor: User, token_id: object) -> ApiToken:
    """A token its owner may manage, and so may an admin of the owner's organization (to revoke members' tokens).
    Anyone else gets 404, as for a token that does not exist."""
    try:
        token = ApiToken.objects.select_related("user__organization").get(pk=str(token_id))
    except (ApiToken.DoesNotExist, ValueError, DjangoValidationError):
        raise NotFound() from None
    if token.user_id == actor.pk or actor.is_superuser:
        return token
    organization = actor.organization
    if organization is None or token.user.organization_id != organization.pk:
        raise NotFound()
    if not has_perm(actor, org_perm(MANAGE_USERS), organization):
        raise NotFound()
    return token
