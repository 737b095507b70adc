"""Idempotency-Key: a retry replays the first answer; a key reused elsewhere is a 409; failures store nothing."""

import pytest
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory, force_authenticate
from rest_framework.views import APIView

from apps.core.errors import ValidationFailed
from apps.core.idempotency import idempotent
from apps.core.models import AuditEvent, IdempotencyRecord

pytestmark = pytest.mark.django_db


class CreateEventApi(APIView):
    """Creates an audit event per call, so the test can count real side effects."""

    def post(self, request, scope: str) -> Response:
        def create():
            if request.data.get("fail"):
                raise ValidationFailed("asked to fail")
            event = AuditEvent.objects.create(action="test.created")
            return 201, {"id": str(event.id)}

        return idempotent(request, scope=scope, create=create)


def call(user, scope="a", key="k1", **data):
    request = APIRequestFactory().post("/x", data, format="json", **({"HTTP_IDEMPOTENCY_KEY": key} if key else {}))
    force_authenticate(request, user=user)
    return CreateEventApi.as_view()(request, scope=scope)


def test_retry_with_the_same_key_returns_the_first_result_once(org_admin):
    first = call(org_admin)
    second = call(org_admin)
    assert first.status_code == second.status_code == 201
    assert first.data == second.data
    assert second["Idempotent-Replayed"] == "true"
    assert AuditEvent.objects.filter(action="test.created").count() == 1


def test_without_a_key_every_call_creates(org_admin):
    call(org_admin, key=None)
    call(org_admin, key=None)
    assert AuditEvent.objects.filter(action="test.created").count() == 2


def test_keys_are_per_user(org_admin, make_user, org):
    other = make_user(organization=org, username="other")
    assert call(org_admin).data != call(other).data


def test_same_key_for_another_request_is_409(org_admin):
    call(org_admin, scope="a")
    response = call(org_admin, scope="b")
    assert response.status_code == 409
    assert response.data["error"]["code"] == "idempotency_key_reused"


def test_a_failed_create_stores_no_record_and_can_be_retried(org_admin):
    assert call(org_admin, fail=True).status_code == 400
    assert not IdempotencyRecord.objects.exists()
    assert call(org_admin).status_code == 201


def test_oversized_key_is_400(org_admin):
    assert call(org_admin, key="x" * 201).status_code == 400
