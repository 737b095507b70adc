"""`benchmark scale` end to end at a small size: every group of figures is measured, the queue cycles without
errors, the export reads the project's tasks, and the table has a ratio column when two sizes run."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection

from apps.exports.scale.benchmark import table

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the benchmark runs on PostgreSQL"),
]


def test_scale_benchmark_measures_every_group(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    out, err = StringIO(), StringIO()
    call_command("benchmark", "scale", "--option", "rows=3000", stdout=out, stderr=err)
    result = json.loads(out.getvalue())
    figures = result["sizes"]["3000"]
    assert figures["rows"]["first_page"]["p95_ms"] > 0 and figures["rows"]["first_page"]["seq_scan"] == 0
    assert figures["rows"]["filter_captured_window"]["rows"] == 60
    assert figures["rows"]["filter_tag_rare"]["rows"] == 3  # rows 7, 1007, 2007
    assert all(v["p50_ms"] is not None for v in figures["pages"].values()), figures["pages"]
    assert figures["queue"]["cycles"] == 96 and figures["queue"]["errors"] == []
    assert figures["similarity"]["vectors"] == 3000 and figures["similarity"]["recall_at_10"] == 1.0
    assert figures["export"]["export_rows"] == 300
    assert figures["db"]["data_row_mb_per_million"] > 0
    assert result["table"][0].split()[0] == "figure"  # the table printed to stderr, also in the JSON
    assert any(line.startswith("rows.first_page.p50_ms") for line in result["table"])


def test_table_has_the_ratio_of_largest_to_smallest():
    rendered = table({10: {"a": {"p50_ms": 2.0}}, 1000: {"a": {"p50_ms": 5.0}}}).splitlines()
    assert rendered[0].split()[-1] == "largest/smallest"
    assert rendered[1].split()[0] == "a.p50_ms" and rendered[1].split()[-1] == "2.50"
