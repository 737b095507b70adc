"""`manage.py benchmark defaults` (issue #30) at a tiny size: both setups started by the benchmark itself — the
`make run` one on a fresh SQLite file, the documented production one on the test PostgreSQL — every REST workload
runs end to end, stores what it says, and the goals are judged from the printed figures. Wall times are reported,
never asserted (a tiny run on a shared machine says nothing about speed)."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command

from apps.exports.defaults_benchmark import GOALS

# Transactional: the benchmark's child processes commit into the test database; the flush afterwards removes it.
pytestmark = pytest.mark.django_db(transaction=True)

TINY = {
    "rows": 60,
    "chunk_rows": 120,
    "chunk": 40,
    "boxes": 2,
    "seconds": 2,
    "warmup": 1,
    "consensus_rows": 150,
    "queue_rows": 400,
    "run_workers": 1,
    "production_workers": 2,
}


def _judged(setup: str, figures: dict) -> dict:
    met = {}
    for name, (workload, figure, bound) in GOALS[setup].items():
        value = figures[workload][figure]
        met[name] = value < bound if figure.endswith("_ms_p95") else value >= bound
    return met


def test_benchmark_defaults_runs_both_setups_at_a_tiny_size():
    out = io.StringIO()
    options = [arg for key, value in TINY.items() for arg in ("--option", f"{key}={value}")]
    call_command("benchmark", "defaults", *options, stdout=out)
    report = json.loads(out.getvalue().strip().splitlines()[-1])
    assert report["benchmark"] == "defaults" and set(report["setups"]) == {"run", "production"}
    run, production = report["setups"]["run"], report["setups"]["production"]
    assert (run["database"], run["settings"]) == ("sqlite", "tdp.settings.run")
    assert (production["database"], production["settings"]) == ("postgresql", "tdp.settings.prod")
    assert run["server"]["gunicorn_workers"] == 1 and production["server"]["gunicorn_workers"] == 2
    for setup, figures in report["setups"].items():
        assert figures["import_one"]["created"] == 60 and figures["import_one"]["failed"] == 0, setup
        assert figures["import_chunks"]["created"] == 120 and figures["import_chunks"]["requests"] == 3, setup
        assert figures["prelabels"]["created"] == 120 and figures["prelabels"]["failed"] == 0, setup
        writes = figures["label_writes"]
        assert writes["writes_total"] > 0 and writes["duplicates"] == 0 and writes["errors"] == {}, (setup, writes)
        assert writes["labelers"] == 3 and writes["threads_per_labeler"] == 4
        # The worker scored every row whose three labels were in (coalesced on SQLite, one task per label here).
        assert writes["scored_rows"] >= writes["complete_rows"], (setup, writes)
        claims = figures["claim_submit"]
        # (The timed cycles may be 0: a fast server can empty a tiny queue during the warm-up second.)
        assert claims["cycles_total"] > 0 and claims["labelers"] == 8, (setup, claims)
        assert claims["duplicates"] == 0 and claims["lost"] == 0 and claims["errors"] == {}, (setup, claims)
        assert figures["export"]["rows"] == 60, setup
        judged = _judged(setup, figures)
        assert {k: v for k, v in figures["goals_met"].items() if k in judged} == judged, setup
        assert figures["goals_met"]["claim_submit_no_duplicates_or_losses"] is True
        assert figures["all_goals_met"] == all(figures["goals_met"].values())
    assert report["all_goals_met"] == (run["all_goals_met"] and production["all_goals_met"])


def test_benchmark_defaults_refuses_an_unknown_setup():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="Unknown setup"):
        call_command("benchmark", "defaults", "--option", "setups=run,cloud")


def test_benchmark_all_leaves_the_defaults_out():
    from apps.core.management.commands.benchmark import NOT_IN_ALL

    assert {"defaults", "defaults-setup"} <= NOT_IN_ALL
