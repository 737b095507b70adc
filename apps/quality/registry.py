"""Hooks other apps plug into the quality app (registered from their AppConfig.ready), so quality never imports
them: told when the scores of labels were (re)written (e.g. analytics marks the labels' days changed)."""

from __future__ import annotations

from collections.abc import Callable

from apps.labeling.models import Label, Project

# Called inside the scoring transaction with the labels whose LabelScore rows were just written.
ScoresWritten = Callable[[Project, list[Label]], None]
_scores_written: list[ScoresWritten] = []


def register_scores_written(listener: ScoresWritten) -> None:
    if listener not in _scores_written:
        _scores_written.append(listener)


def scores_written(project: Project, labels: list[Label]) -> None:
    for listener in _scores_written:
        listener(project, labels)
