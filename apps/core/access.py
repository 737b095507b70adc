"""Access helpers on top of django-guardian. Each app's `access.py` builds on these.

The rule: an object of another organization, or one that does not exist, is a 404 (same answer for both);
an object the user can see but may not act on is a 403.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from guardian.shortcuts import get_user_perms

from apps.core.errors import NotFound, PermissionDenied
from apps.core.middleware import current_request_context

if TYPE_CHECKING:
    from apps.accounts.models import User

M = TypeVar("M", bound=models.Model)


def get_in_organization(
    queryset: models.QuerySet[M], user: User, object_id: object, *, organization_field: str = "organization"
) -> M:
    """The object with that id in the user's organization, else NotFound (also for malformed ids).

    `organization_field` is the path to the owning organization for objects that belong to it through a parent
    (e.g. `"project__organization"` for tasks and labels)."""
    if not user.is_authenticated:
        raise NotFound()
    if not user.is_superuser:
        queryset = queryset.filter(**{f"{organization_field}_id": user.organization_id})
    try:
        return queryset.get(pk=object_id)
    except (ObjectDoesNotExist, DjangoValidationError, ValueError):
        raise NotFound() from None


def object_perms(user: User, obj: models.Model) -> frozenset[str]:
    """The user's guardian permissions on `obj` as `app_label.codename`, read once per request.

    Roles are granted to users directly (never through groups), so one query on the user's object permissions
    answers every check on that object for the rest of the request.
    """
    if not user.is_authenticated or not user.is_active:
        return frozenset()
    context = current_request_context()
    key = ("object_perms", user.pk, obj._meta.label_lower, obj.pk)
    if context is not None and key in context.memo:
        return context.memo[key]  # type: ignore[no-any-return]
    app_label = obj._meta.app_label
    perms = frozenset(
        f"{app_label}.{codename}" for codename in get_user_perms(user, obj).values_list("codename", flat=True)
    )
    if context is not None:
        context.memo[key] = perms
    return perms


def has_perm(user: User, perm: str, obj: models.Model) -> bool:
    return user.is_superuser or perm in object_perms(user, obj)


def require_perm(user: User, perm: str, obj: models.Model | None = None, message: str | None = None) -> None:
    """Raise 403 unless the user holds `perm` (on `obj` through guardian when given)."""
    if user.is_superuser:
        return
    allowed = has_perm(user, perm, obj) if obj is not None else user.has_perm(perm)
    if not allowed:
        raise PermissionDenied(message)
