"""What the scale tests check in the stack's database and in the workers' task trace."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import requests

from apps.core.models import AuditEvent
from apps.exports.models import Export
from apps.labeling.models import Label, Project
from apps.quality.models import ConsensusScore, LabelScore
from tests.scale.trace import read_trace


def unscored_labels(project: Project) -> int:
    return Label.objects.filter(project=project, is_current=True, quality_score__isnull=True).count()


def all_scored(project: Project, *, consensus_rows: int | None = None) -> bool:
    labels = Label.objects.filter(project=project, is_current=True).count()
    scored = LabelScore.objects.filter(project=project).count()
    if labels == 0 or scored != labels or unscored_labels(project):
        return False
    if consensus_rows is not None:
        return ConsensusScore.objects.filter(project=project, complete=True).count() == consensus_rows
    return True


def successes(trace_file: str) -> list[dict[str, Any]]:
    return [e for e in read_trace(trace_file) if e["event"] == "finish" and e["success"]]


def assert_no_task_done_twice(trace_file: str) -> list[dict[str, Any]]:
    done = successes(trace_file)
    twice = {task_id: n for task_id, n in Counter(e["id"] for e in done).items() if n > 1}
    assert not twice, f"tasks done more than once: {twice}"
    return done


def export_finished_once(export: Export) -> None:
    """The export's file was assembled exactly once (its `export.finished` audit event) and is complete."""
    assert export.status == "succeeded", (export.status, export.error)
    finished = AuditEvent.objects.filter(action="export.finished", object_id=str(export.pk)).count()
    assert finished == 1, f"export finished {finished} times"


def downloaded_ndjson(base: str, token: str, export: Export) -> list[dict[str, Any]]:
    response = requests.get(
        f"{base}/api/v1/exports/{export.pk}/download", headers={"Authorization": f"Token {token}"}, timeout=60
    )
    assert response.status_code == 200, response.text[:500]
    return [json.loads(line) for line in response.text.splitlines() if line.strip()]
