"""The claim hands out work in the same order on SQLite (`tdp.settings.run`, the `make run` settings; queued and
expired-lease candidates asked for separately along the `task_claim_order_sqlite` index) as on PostgreSQL (one
statement on the partial index `task_claimable`), and on SQLite the claim reads that order off the index instead of
sorting the whole queue."""

from __future__ import annotations

import pytest

from tests.labeling import claim_order_scenario
from tests.sqlite_subprocess import run_on_sqlite

pytestmark = pytest.mark.django_db

_ON_SQLITE = """
from apps.labeling.services import queue
from tests.labeling.claim_order_scenario import run
result = run()
from apps.labeling.models import Project
project = Project.objects.get(name="claims")
queued = queue.QUEUED_WORK_SQLITE._plan("default")
with connection.cursor() as cursor:
    params = list(queued.params)
    cursor.execute("EXPLAIN QUERY PLAN " + queued.sql, params)
    plan = [row[-1] for row in cursor.fetchall()]
print(json.dumps({"vendor": connection.vendor, "result": result, "plan": plan}, default=str))
"""


def test_sqlite_gives_work_in_the_postgresql_order_and_walks_an_index(tmp_path):
    on_postgresql = claim_order_scenario.run()
    keys = on_postgresql["keys"]
    # The order itself: priority 5 first (the expired lease's row in its place among them), then the ranked rows by
    # rank, then the unranked by age; the expert task is never new work.
    order, by_age = on_postgresql["order"], on_postgresql["by_age"]
    urgent = sorted((keys[4], keys[9]), key=by_age.index)
    assert on_postgresql["expired"] == urgent[0]
    unranked = sorted((keys[i] for i in (0, 1, 3, 5, 6, 10)), key=by_age.index)
    assert order == [*urgent, keys[8], keys[7], keys[2], *unranked]
    assert on_postgresql["left"] == ["expert"]
    answer = run_on_sqlite(_ON_SQLITE, tmp_path / "claims.sqlite3")
    assert answer["result"]["order"] == on_postgresql["order"]
    assert answer["result"]["left"] == on_postgresql["left"]
    plan = answer["plan"]
    assert any("USING INDEX task_claim_order_sqlite" in step for step in plan), plan
    assert not any("TEMP B-TREE" in step for step in plan), plan
