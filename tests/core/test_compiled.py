"""`CompiledQuery`: the ORM's SQL compiled once, run again with other values, rows made as the ORM makes them."""

import uuid
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import ApiToken, User
from apps.accounts.services import api_token_create
from apps.core.compiled import CompiledQuery

pytestmark = pytest.mark.django_db


def test_the_same_statement_answers_for_each_value_like_the_orm(org, make_user):
    users = [make_user(organization=org, username=f"u{i}") for i in range(3)]
    query = CompiledQuery(
        lambda user_id: User.objects.select_related("organization").filter(pk=user_id)[:1], user_id="uuid"
    )
    for user in [*users, users[0]]:
        found = query.first(user_id=user.pk)
        assert found == user and found.username == user.username
        assert found.organization == org  # select_related object made from the same row
    assert query.first(user_id=uuid.uuid4()) is None


def test_values_rows_datetimes_strings_and_annotations(org, make_user):
    user = make_user(organization=org, username="tok")
    token = api_token_create(user=user, name="a")
    later = timezone.now() + timedelta(days=1)
    rows = CompiledQuery(
        lambda user_id, before: ApiToken.objects.filter(user_id=user_id, created_at__lt=before).values_list(
            "name", "created_at"
        ),
        user_id="uuid",
        before="datetime",
    )
    assert rows.rows(user_id=user.pk, before=later) == [("a", ApiToken.objects.get(pk=token.token.pk).created_at)]
    assert rows.rows(user_id=user.pk, before=later - timedelta(days=2)) == []
    by_name = CompiledQuery(lambda name: ApiToken.objects.filter(name=name).order_by("pk"), name="str")
    assert [t.pk for t in by_name.all(name="a")] == [token.token.pk]
    assert by_name.all(name="b") == []


def test_values_it_cannot_swap_are_refused():
    query = CompiledQuery(lambda actor_id: User.objects.filter(pk=actor_id)[:1], actor_id="uuid")
    with pytest.raises(TypeError):
        query.first(other=1)
    # A value written into the SQL text could not be swapped later: refused when first compiled.
    inlined = CompiledQuery(
        lambda actor_id: User.objects.extra(where=[f"id = '{actor_id}'"])[:1],  # noqa: S610
        actor_id="uuid",
    )
    with pytest.raises(ValueError, match="not a plain parameter"):
        inlined.first(actor_id=uuid.uuid4())
    unused = CompiledQuery(
        lambda actor_id, other_id: User.objects.filter(pk=actor_id)[:1], actor_id="uuid", other_id="uuid"
    )
    with pytest.raises(ValueError, match="other_id"):
        unused.first(actor_id=uuid.uuid4(), other_id=uuid.uuid4())


def test_locking_statements_compile_inside_a_transaction(org, make_user):
    user = make_user(organization=org, username="locked")
    query = CompiledQuery(lambda user_id: User.objects.select_for_update().filter(pk=user_id)[:1], user_id="uuid")
    with transaction.atomic():
        assert query.first(user_id=user.pk) == user
