"""`Idempotency-Key` for writes that create things: a retry with the same key gets the first answer back.

Usage in a view:

    return idempotent(request, scope="task-label:<task id>", create=lambda: (201, body))

The record is written in the same transaction as the thing it creates, so a crash leaves neither. A concurrent retry
waits on the unique key and then returns the stored answer. Reusing a key for a different scope is a 409.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.compiled import CompiledQuery
from apps.core.errors import Conflict, ValidationFailed
from apps.core.models import IdempotencyRecord
from apps.core.row_writes import row_insert


def _record_of(*, user_id: str, key: str) -> QuerySet[IdempotencyRecord]:
    return IdempotencyRecord.objects.filter(user_id=user_id, key=key).order_by()[:1]  # unique (user, key)


RECORD_OF = CompiledQuery(_record_of, user_id="uuid", key="str")  # every keyed write looks first

HEADER = "HTTP_IDEMPOTENCY_KEY"
MAX_KEY_LENGTH = 200


def idempotency_key(request: Request) -> str | None:
    key = request.META.get(HEADER)
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH:
        raise ValidationFailed(
            f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters.", code="invalid_idempotency_key"
        )
    return key


def idempotent(request: Request, *, scope: str, create: Callable[[], tuple[int, Any]]) -> Response:
    """Run `create()` once per (user, key); replay its (status, body) for retries."""
    key = idempotency_key(request)
    if key is None:
        status, body = create()
        return Response(body, status=status)
    user_id = str(request.user.pk)
    existing = RECORD_OF.first(user_id=user_id, key=key)
    if existing is not None:
        return _replay(existing, scope)
    try:
        with transaction.atomic():
            status, body = create()
            row_insert(IdempotencyRecord(user_id=user_id, key=key, scope=scope, status=status, body=body))
    except IntegrityError:
        # A concurrent request with the same key committed first (its create() rolled back with ours).
        existing = IdempotencyRecord.objects.filter(user_id=user_id, key=key).first()
        if existing is None:
            raise
        return _replay(existing, scope)
    return Response(body, status=status)


def _replay(record: IdempotencyRecord, scope: str) -> Response:
    if record.scope != scope:
        raise Conflict("This Idempotency-Key was already used for a different request.", code="idempotency_key_reused")
    response = Response(record.body, status=record.status)
    response["Idempotent-Replayed"] = "true"
    return response
