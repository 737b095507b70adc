"""`CompiledQuery`: the ORM's SQL compiled once, run again with other values, rows made as the ORM makes them."""

import uuid
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from apps.accounts.models import ApiToken, User
from apps.accounts.services import api_token_create
from apps.core.compiled import CompiledQuery
from tests.labeling.conftest import make_rows, ontology, project, project_factory  # noqa: F401 - fixtures
from tests.labeling.test_queue_api import add_batch

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


def test_constants_are_written_into_the_sql_and_only_the_slots_stay_parameters(org, make_user):
    # A constant with a percent sign and a quote: written as a quoted literal, the statement still runs.
    odd = make_user(organization=org, username="it's-50%-done")
    plain = make_user(organization=org, username="plain")
    query = CompiledQuery(
        lambda user_id: User.objects.filter(pk=user_id, username__contains="'s-50%", is_active=True)[:1],
        user_id="uuid",
    )
    assert query.first(user_id=odd.pk) == odd
    assert query.first(user_id=plain.pk) is None
    plan = query._plan("default")
    assert len(plan.params) == 1 and plan.slots == ((0, "user_id"),)
    assert "''s-50" in plan.sql  # the LIKE pattern, quoted, in the SQL text


@pytest.mark.django_db(transaction=True)
def test_connections_plan_compiled_statements_once_and_the_claim_keeps_its_index(
    org,
    make_user,
    project,  # noqa: F811 - the fixture
    make_rows,  # noqa: F811 - the fixture
    org_admin,
):
    from apps.labeling.services import queue

    user = make_user(organization=org, username="generic")
    add_batch(project, org_admin, make_rows(400, prefix="generic"))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE labeling_task")  # the plan from known statistics, not whatever autovacuum saw last
    CompiledQuery(lambda user_id: User.objects.filter(pk=user_id)[:1], user_id="uuid").first(user_id=user.pk)
    with connection.cursor() as cursor:
        cursor.execute("SHOW plan_cache_mode")
        assert cursor.fetchone()[0] == "force_generic_plan"
        # The claim's generic plan (the values unknown) still walks the claimable-task index in queue order.
        with transaction.atomic():
            plan = queue.NEW_WORK._plan("default")
            sql = plan.sql
            for i in range(len(plan.params)):
                sql = sql.replace("%s", f"${i + 1}", 1)
            types = {"now": "timestamptz", "actor_id": "uuid", "project_id": "uuid"}
            cursor.execute(f"PREPARE claim_probe ({', '.join(types[name] for _, name in plan.slots)}) AS {sql}")
            arguments = {"now": "now()", "actor_id": f"'{user.pk}'", "project_id": f"'{project.pk}'"}
            cursor.execute(f"EXPLAIN EXECUTE claim_probe ({', '.join(arguments[name] for _, name in plan.slots)})")
            explained = "\n".join(row[0] for row in cursor.fetchall())
            cursor.execute("DEALLOCATE claim_probe")
    assert "task_claimable" in explained, explained
    assert "Seq Scan on labeling_task" not in explained, explained
