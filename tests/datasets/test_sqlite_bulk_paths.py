"""The SQLite bulk paths (`executemany` data-row and pre-label writers) store exactly what the PostgreSQL ones (COPY,
set-based upserts) do: one scenario (`bulk_scenario.run`) on the test database and on a fresh SQLite file migrated
in a subprocess (`tdp.settings.run`, the `make run` settings), compared field by field."""

from __future__ import annotations

import json

import pytest

from tests.datasets import bulk_scenario
from tests.sqlite_subprocess import run_on_sqlite

pytestmark = pytest.mark.django_db

_ON_SQLITE = """
from tests.datasets.bulk_scenario import run
print(json.dumps({"vendor": connection.vendor, "result": run()}, default=str))
"""


def test_sqlite_bulk_paths_store_what_postgresql_stores(tmp_path):
    on_postgresql = json.loads(json.dumps(bulk_scenario.run(), default=str))
    on_sqlite = run_on_sqlite(_ON_SQLITE, tmp_path / "bulk.sqlite3")["result"]
    # The scenario really exercised the paths: new, updated, refused rows and boxes.
    assert [i["created"] for i in on_postgresql["imports"]] == [3, 1, 1]
    # The first body's bad row and repeated key, the third body's key of the other dataset.
    assert on_postgresql["imports"][0]["failed"] == 2 and on_postgresql["imports"][2]["failed"] == 1
    assert on_postgresql["unchanged_row_kept_its_time"] and on_postgresql["changed_row_rewritten"]
    assert on_postgresql["prelabel_imports"][0]["created"] == 3
    assert len(on_postgresql["annotation_rows"]) == 9  # box, kind, lights_on, weather; box, kind; box, kind, lights_on
    assert all(row[-1] for row in on_postgresql["annotation_rows"])
    for part in (
        "imports",
        "rows",
        "unchanged_row_kept_its_time",
        "changed_row_rewritten",
        "prelabel_imports",
        "annotation_rows",
    ):
        assert on_sqlite[part] == on_postgresql[part], part
    assert on_sqlite["prelabels"] == on_postgresql["prelabels"]
