"""Hooks other apps plug into the labeling app (registered from their AppConfig.ready), so labeling never imports
them: open issue counts for the overview, the reviewer's feedback shown with rework, review decisions in a label's
history."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from apps.labeling.models import Label, Project, Task

OpenIssueCounter = Callable[[Project], int]
ReworkFeedback = Callable[[Task], "dict[str, Any] | None"]
LabelDecisions = Callable[[Label], "list[dict[str, Any]]"]

_open_issue_counters: list[OpenIssueCounter] = []
_rework_feedback: list[ReworkFeedback] = []
_label_decisions: list[LabelDecisions] = []


def register_open_issue_counter(counter: OpenIssueCounter) -> None:
    if counter not in _open_issue_counters:
        _open_issue_counters.append(counter)


def register_rework_feedback(source: ReworkFeedback) -> None:
    if source not in _rework_feedback:
        _rework_feedback.append(source)


def register_label_decisions(source: LabelDecisions) -> None:
    if source not in _label_decisions:
        _label_decisions.append(source)


def open_issue_count(project: Project) -> int:
    return sum(counter(project) for counter in _open_issue_counters)


def rework_feedback(task: Task) -> dict[str, Any] | None:
    for source in _rework_feedback:
        found = source(task)
        if found is not None:
            return found
    return None


def label_decisions(label: Label) -> list[dict[str, Any]]:
    decisions: list[dict[str, Any]] = []
    for source in _label_decisions:
        decisions.extend(source(label))
    return decisions
