"""Access helpers on top of django-guardian. Each app's `access.py` builds on these.

The rule: an object of another organization, or one that does not exist, is a 404 (same answer for both);
an object the user can see but may not act on is a 403.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.db.models import Q, QuerySet
from guardian.models import UserObjectPermission
from guardian.shortcuts import get_user_perms

from apps.core.compiled import CompiledQuery, SlotKind
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
    key = _memo_key(user, type(obj), obj.pk)
    if context is not None and key in context.memo:
        return context.memo[key]  # type: ignore[no-any-return]
    app_label = obj._meta.app_label
    perms = frozenset(
        f"{app_label}.{codename}" for codename in get_user_perms(user, obj).values_list("codename", flat=True)
    )
    if context is not None:
        context.memo[key] = perms
    return perms


def _memo_key(user: User, model: type[models.Model], pk: object) -> tuple[Any, ...]:
    return ("object_perms", user.pk, model._meta.label_lower, pk)


def object_perms_prefetch(user: User, objects: Iterable[tuple[type[models.Model], object]]) -> None:
    """Read the user's permissions on several objects (`(model, pk)` pairs) in one query into the request memo, so
    the `object_perms`/`has_perm` checks that follow cost nothing. Outside a request (no memo) it does nothing.

    `pk` must be of the model's primary key type (e.g. a `uuid.UUID`), as `obj.pk` is for the later lookups."""
    context = current_request_context()
    if context is None or not user.is_authenticated or not user.is_active:
        return
    wanted = [(model, pk) for model, pk in objects if _memo_key(user, model, pk) not in context.memo]
    if not wanted:
        return
    targets: dict[tuple[int, str], tuple[type[models.Model], object]] = {}
    for model, pk in wanted:
        targets[(ContentType.objects.get_for_model(model).pk, str(pk))] = (model, pk)
    found: dict[tuple[int, str], set[str]] = {target: set() for target in targets}
    query = _perms_query(tuple(content_type_id for content_type_id, _pk in targets))
    pks = {f"pk{i}": pk for i, (_content_type_id, pk) in enumerate(targets)}
    for content_type_id, object_pk, codename in query.rows(user_id=user.pk, **pks):
        found[(content_type_id, object_pk)].add(codename)
    for target, codenames in found.items():
        model, pk = targets[target]
        app_label = model._meta.app_label
        context.memo[_memo_key(user, model, pk)] = frozenset(f"{app_label}.{codename}" for codename in codenames)


_PERMS_QUERIES: dict[tuple[int, ...], CompiledQuery[UserObjectPermission]] = {}


def _perms_query(content_type_ids: tuple[int, ...]) -> CompiledQuery[UserObjectPermission]:
    """The statement reading a user's permissions on objects of these content types (one per object, in order),
    compiled once: it runs on every API request that checks project access."""
    query = _PERMS_QUERIES.get(content_type_ids)
    if query is None:

        def build(*, user_id: uuid.UUID, **pks: str) -> QuerySet[UserObjectPermission]:
            condition = Q()
            for i, content_type_id in enumerate(content_type_ids):
                # The permission's own content type must match too, as in guardian's `get_user_perms`.
                condition |= Q(
                    content_type_id=content_type_id,
                    object_pk=pks[f"pk{i}"],
                    permission__content_type_id=content_type_id,
                )
            rows = UserObjectPermission.objects.filter(condition, user_id=user_id).order_by()
            return rows.values_list("content_type_id", "object_pk", "permission__codename")  # type: ignore[return-value]

        slots: dict[str, SlotKind] = {"user_id": "uuid", **{f"pk{i}": "str" for i in range(len(content_type_ids))}}
        query = _PERMS_QUERIES[content_type_ids] = CompiledQuery(build, **slots)
    return query


def has_perm(user: User, perm: str, obj: models.Model) -> bool:
    return user.is_superuser or perm in object_perms(user, obj)


def require_perm(user: User, perm: str, obj: models.Model | None = None, message: str | None = None) -> None:
    """Raise 403 unless the user holds `perm` (on `obj` through guardian when given)."""
    if user.is_superuser:
        return
    allowed = has_perm(user, perm, obj) if obj is not None else user.has_perm(perm)
    if not allowed:
        raise PermissionDenied(message)
