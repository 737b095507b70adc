"""Labeling analytics, aggregated in the database (GROUP BY with conditional aggregates; medians with
PERCENTILE_CONT on PostgreSQL), never by looping over labels in Python.

Definitions (the tests compute each one by hand):
- **label**: the first revision of a task's label (revision 1), counted at its `created_at`, for its labeler.
- **rework**: a label revision whose previous revision was rejected by a reviewer (the labeler redoing it).
- **review**: a review decision, for its reviewer, at its `created_at`.
- **row done**: a task other than a benchmark slot whose `done_at` falls in the range, for the labeler of the task.
- **time** of a label, rework or review: the active seconds the page measured (idle over 60 s not counted), bounded
  by how long the server saw the lease open — the smaller of the two when both are known, else the one known.
- **approval / rework rate** of a labeler: approvals / rejections among the decisions on their labels (reviews
  within the range); per batch and per day the same over the decisions of that batch or day.
- **issues per 100 labels**: issues opened on the person's labels per 100 of their labels.
- **benchmark / consensus mean**: the quality app's scores of the person's current labels (whatever the range).
- **cost**: seconds of labeling, rework and review × the member's hourly rate.

Where the figures come from (`Plan`): whole days (in TIME_ZONE) inside the range that the rollup holds
(`RollupDay`), that are over (before today) and not marked changed since (`DirtyDay`) are read from
`PerformanceDaily`; every other moment of the range (today, changed days, days never rolled up, partial days at the
range's ends) is read live from the source tables, and the two are added. Counts, sums and means are therefore the
same as a fully live computation. Medians are exact (PERCENTILE_CONT over the range, read live) when the range holds
at most `ANALYTICS_EXACT_MEDIAN_LIMIT` labels and reviews or when no rolled-up day is in it; above that they come from
the fixed log-scale histograms (`domain.histogram`, error under one bucket: 7.2%) and `median_method` says so.

The package, by figure family: `common` (range, dimensions, GROUP BY and median helpers), `live` (the source tables),
`rollup` (the plan and the rolled-up days, the rollup rows, the benchmark histogram), `work` (per labeler/day/batch
and the summary), `features` (per ontology feature). Import from the package: `from apps.analytics import selectors`.
"""

from apps.analytics.selectors.common import (
    EXACT_MEDIAN_LIMIT,
    FIGURES,
    GROUPS,
    PACE_DAYS,
    SCORE_FIGURES,
    Figures,
    Key,
    Percentile,
    Range,
    bucket_of,
    parse_range,
)
from apps.analytics.selectors.live import live_benchmark_bins, live_figures, live_histograms, live_score_figures
from apps.analytics.selectors.rollup import Plan, benchmark_histogram, plan_for, rollup_rows
from apps.analytics.selectors.work import Table, days_between, performance, performance_table, summary

__all__ = [
    "EXACT_MEDIAN_LIMIT",
    "FIGURES",
    "GROUPS",
    "PACE_DAYS",
    "SCORE_FIGURES",
    "Figures",
    "Key",
    "Percentile",
    "Plan",
    "Range",
    "Table",
    "benchmark_histogram",
    "bucket_of",
    "days_between",
    "live_benchmark_bins",
    "live_figures",
    "live_histograms",
    "live_score_figures",
    "parse_range",
    "performance",
    "performance_table",
    "plan_for",
    "rollup_rows",
    "summary",
]
