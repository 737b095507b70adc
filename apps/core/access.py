"""Access helpers on top of django-guardian. Each app's `access.py` builds on these.

The rule: an object of another organization, or one that does not exist, is a 404 (same answer for both);
an object the user can see but may not act on is a 403.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models

from apps.core.errors import NotFound, PermissionDenied

if TYPE_CHECKING:
    from apps.accounts.models import User

M = TypeVar("M", bound=models.Model)


def get_in_organization(queryset: models.QuerySet[M], user: User, object_id: object) -> M:
    """The object with that id in the user's organization, else NotFound (also for malformed ids)."""
    if not user.is_authenticated:
        raise NotFound()
    if not user.is_superuser:
        queryset = queryset.filter(organization_id=user.organization_id)
    try:
        return queryset.get(pk=object_id)
    except (ObjectDoesNotExist, DjangoValidationError, ValueError):
        raise NotFound() from None


def require_perm(user: User, perm: str, obj: models.Model | None = None, message: str | None = None) -> None:
    """Raise 403 unless the user holds `perm` (on `obj` through guardian when given)."""
    if user.is_superuser:
        return
    if not user.has_perm(perm, obj):
        raise PermissionDenied(message)
