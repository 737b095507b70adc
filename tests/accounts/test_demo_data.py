"""`load_demo` builds the street-scene demo through the services: idempotent (a second run changes no count) and
deterministic (two fresh databases get the same rows, labels, reviews, issues, predictions and scores).

Run on a smaller dataset (`SCENES`) to keep the test fast; the full demo is loaded by `tests/e2e/test_demo_pages.py`.
"""

from __future__ import annotations

import json
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from apps.analytics.models import PerformanceDaily
from apps.catalog.models import EmbeddingVector, Slice
from apps.datasets import demo as datasets_demo
from apps.datasets.models import DataRow
from apps.diagnostics.models import GroundTruth, MetricsResult
from apps.issues.models import Comment, Issue
from apps.labeling.models import Label, Project, Task
from apps.predictions.models import Prediction, Prelabel
from apps.quality.models import BenchmarkReference, ConsensusScore, LabelScore
from apps.review.models import Review

pytestmark = pytest.mark.django_db(transaction=True)

MODELS = [
    DataRow, Project, Task, Label, Review, Issue, Comment, BenchmarkReference, ConsensusScore, LabelScore,
    Prediction, Prelabel, GroundTruth, MetricsResult, EmbeddingVector, Slice, PerformanceDaily,
]  # fmt: skip


@pytest.fixture(autouse=True)
def small_demo(monkeypatch, settings, tmp_path):
    monkeypatch.setattr(datasets_demo, "SCENES", 64)
    settings.MEDIA_ROOT = tmp_path


def _plain(value: Any) -> Any:
    """A stored document without its schema_ids (new random ids in every database)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if k != "schema_id"}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


def contents() -> dict[str, Any]:
    labels = sorted(
        (label.project.name, label.data_row.global_key, label.labeler.username, label.revision,
         json.dumps(_plain(label.annotations), sort_keys=True))
        for label in Label.objects.select_related("project", "data_row", "labeler")
    )  # fmt: skip
    predictions = sorted(
        (str(p.uuid), p.data_row.global_key, p.name, p.confidence, json.dumps(_plain(p.annotation), sort_keys=True))
        for p in Prediction.objects.select_related("data_row")
    )
    return {
        "global_keys": sorted(DataRow.objects.values_list("global_key", flat=True)),
        "metadata": sorted(json.dumps(m, sort_keys=True) for m in DataRow.objects.values_list("metadata", flat=True)),
        "labels": labels,
        "reviews": sorted(Review.objects.values_list("label__data_row__global_key", "decision", "feedback")),
        "issues": sorted(Issue.objects.values_list("data_row__global_key", "status", "text")),
        "predictions": predictions,
        "benchmark_scores": sorted(
            (s.label.labeler.username, s.data_row.global_key, round(s.benchmark_score, 6))
            for s in LabelScore.objects.filter(benchmark_score__isnull=False).select_related(
                "label__labeler", "data_row"
            )
        ),
    }


def test_load_demo_is_idempotent_and_deterministic():
    out = StringIO()
    call_command("load_demo", stdout=out)
    assert "load_demo took" in out.getvalue()
    first_counts, first = counts(), contents()
    # Every part of the demo is there: labels in both projects, reviews with rework, open and resolved issues,
    # benchmark and consensus scores, two runs of predictions with ground truth and metrics, embeddings, rollups.
    assert first_counts["DataRow"] == 64 and first_counts["Project"] == 2
    assert {"approve", "reject"} <= {decision for _, decision, _ in first["reviews"]}
    assert "open" in {status for _, status, _ in first["issues"]}  # resolved ones: see the full demo's e2e test
    assert first_counts["ConsensusScore"] > 10 and first["benchmark_scores"]
    assert first_counts["GroundTruth"] > 0 and first_counts["MetricsResult"] == 2
    assert first_counts["EmbeddingVector"] == 64 and first_counts["PerformanceDaily"] > 0
    assert all(n > 0 for n in first_counts.values()), first_counts

    call_command("load_demo", stdout=StringIO())
    assert counts() == first_counts
    assert contents() == first

    call_command("flush", interactive=False, verbosity=0)
    assert DataRow.objects.count() == 0
    call_command("load_demo", stdout=StringIO())
    assert counts() == first_counts
    assert contents() == first
