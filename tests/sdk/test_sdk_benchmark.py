"""`manage.py benchmark sdk-import` at a tiny size: the raw API and the `tdp import` CLI both run end to end against
a real gunicorn server on the test database; the figures are reported, never asserted on time."""

import io
import json

import pytest
from django.core.management import call_command

from apps.datasets.models import DataRow

pytestmark = pytest.mark.django_db(transaction=True)  # the server process must see the benchmark's organization


def test_benchmark_sdk_import_runs_both_paths_at_a_tiny_size():
    out = io.StringIO()
    call_command(
        "benchmark", "sdk-import", "--size", "300", "--option", "workers=1", "--option", "rounds=2", stdout=out
    )
    report = json.loads(out.getvalue().strip().splitlines()[-1])
    assert report["rows"] == 300
    assert report["created_raw_cli_alternating"] == [300, 300, 300, 300], report
    assert report["cli_rows_per_s"] > 0 and report["raw_rows_per_s"] > 0
    assert "100.0%" in report["cli_last_progress"], report["cli_last_progress"]
    assert 10 < report["cli_peak_rss_mb"] < 120, "the CLI process alone: a Python process with httpx"
    assert report["goals_met"] is (report["cli_share_of_raw"] >= 0.9 and report["cli_peak_rss_mb"] < 120)
    assert not DataRow.objects.filter(global_key__startswith="bench-").exists(), "the benchmark cleans up"
