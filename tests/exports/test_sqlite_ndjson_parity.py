"""The NDJSON export of `make run` (SQLite) carries the same sections as on PostgreSQL: issues, quality, the consensus
winner choice and every id in the API's canonical form. SQLite stores UUIDs as 32 bare hex digits, and ids read as
text there used to miss the sections keyed by `str(uuid)` (they came out empty) and showed in another form."""

from __future__ import annotations

import json
import re
from collections import Counter
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from apps.datasets import demo as datasets_demo
from tests.sqlite_subprocess import run_on_sqlite

pytestmark = pytest.mark.django_db(transaction=True)

SCENES = 48

# Shared by both sides (the SQLite side runs it in its own process): figures of every project's export per mode.
SUMMARY = r"""
import collections, json, re
from apps.exports import selectors as ex
from apps.labeling.models import Project

CANONICAL = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def summary():
    found = {}
    for project in Project.objects.order_by("name"):
        for mode in ("all", "consensus_winner"):
            query = ex.RowQuery.build(project, ex.filters_or_400({"label": mode}))
            stats = collections.Counter()
            for chunk in ex.ndjson_stream(query):
                for line in chunk.decode().splitlines():
                    row = json.loads(line)
                    stats["rows"] += 1
                    stats["labels"] += len(row.get("labels") or [])
                    stats["issues"] += len(row.get("issues") or [])
                    stats["quality"] += row.get("quality") is not None
                    stats["tasks"] += len(row["workflow"].get("tasks") or [])
                    ids = [row["data_row"]["id"], *(label["id"] for label in row.get("labels") or [])]
                    ids += [task["id"] for task in row["workflow"].get("tasks") or []]
                    stats["non_canonical_ids"] += sum(not CANONICAL.match(str(i)) for i in ids)
            found[f"{project.name} / {mode}"] = dict(sorted(stats.items()))
    return found
"""


def _postgresql_summary() -> dict[str, Any]:
    scope: dict[str, Any] = {}
    exec(SUMMARY, scope)  # noqa: S102 - our own code, shared with the SQLite process
    return dict(scope["summary"]())


def test_sqlite_export_has_the_sections_postgresql_has(monkeypatch, settings, tmp_path):
    monkeypatch.setattr(datasets_demo, "SCENES", SCENES)
    settings.MEDIA_ROOT = tmp_path / "pg-media"
    call_command("load_demo", stdout=StringIO())
    on_postgresql = _postgresql_summary()
    body = (
        "from io import StringIO\nfrom django.conf import settings\nfrom apps.datasets import demo\n"
        f"demo.SCENES = {SCENES}\nsettings.MEDIA_ROOT = {str(tmp_path / 'sqlite-media')!r}\n"
        'call_command("load_demo", stdout=StringIO())\n'
        + SUMMARY
        + '\nprint(json.dumps({"vendor": connection.vendor, "summary": summary()}))\n'
    )
    on_sqlite = run_on_sqlite(body, tmp_path / "export.sqlite3")["summary"]
    assert on_sqlite == on_postgresql
    totals: Counter[str] = Counter()
    for stats in on_postgresql.values():
        totals.update(stats)
    # The comparison means something: the demo has issues, quality figures and a winner choice that keeps fewer
    # labels than `all`, and every id is canonical.
    assert totals["issues"] > 0 and totals["quality"] > 0 and totals["non_canonical_ids"] == 0
    consensus = [name.split(" / ")[0] for name in on_postgresql if "consensus" in name.lower()]
    assert consensus
    assert any(
        on_postgresql[f"{name} / consensus_winner"]["labels"] < on_postgresql[f"{name} / all"]["labels"]
        for name in consensus
    ), json.dumps(on_postgresql)
    assert all(re.search(r" / (all|consensus_winner)$", name) for name in on_postgresql)
