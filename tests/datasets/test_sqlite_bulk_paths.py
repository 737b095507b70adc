"""The SQLite bulk paths (`executemany` data-row and pre-label writers) store exactly what the PostgreSQL ones (COPY,
set-based upserts) do: one scenario (`bulk_scenario.run`) on the test database and on a fresh SQLite file migrated
in a subprocess (`tdp.settings.run`, the `make run` settings), compared field by field."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings

from tests.datasets import bulk_scenario

pytestmark = pytest.mark.django_db

_ON_SQLITE = """
import json, django
django.setup()
from django.core.management import call_command
from django.db import connection
call_command("migrate", verbosity=0)
from tests.datasets.bulk_scenario import run
print(json.dumps({"vendor": connection.vendor, "result": run()}, default=str))
"""


def test_sqlite_bulk_paths_store_what_postgresql_stores(tmp_path):
    on_postgresql = json.loads(json.dumps(bulk_scenario.run(), default=str))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tdp.settings.run",
        "DATABASE_URL": f"sqlite:///{tmp_path}/bulk.sqlite3",
        "SECRET_KEY": "a-test-only-secret-key-of-enough-length-0123456789abcdef",
    }
    done = subprocess.run(
        [sys.executable, "-c", _ON_SQLITE],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    assert answer["vendor"] == "sqlite"
    on_sqlite = answer["result"]
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
