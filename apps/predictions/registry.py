"""Hooks later apps plug into the predictions app (registered from their AppConfig.ready), so predictions never
imports them: the training-data snapshot a retraining call links to (diagnostics' ground truth + `training_data`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from apps.accounts.models import User
    from apps.labeling.models import Project
    from apps.predictions.models import ModelRun


@dataclass(frozen=True)
class TrainingSnapshot:
    rows: int
    url: str  # signed, expiring, no credentials needed
    expires_at: datetime


# (actor, project, run) -> the project's done labels snapshotted into the run and a signed link to their export.
SnapshotMaker = Callable[["User | None", "Project", "ModelRun"], TrainingSnapshot]
_snapshot_makers: list[SnapshotMaker] = []


def register_training_snapshot(maker: SnapshotMaker) -> None:
    if maker not in _snapshot_makers:
        _snapshot_makers.append(maker)


def training_snapshot(actor: Any, project: Any, model_run: Any) -> TrainingSnapshot | None:
    """The registered maker's snapshot, or None when no app provides one (diagnostics not installed)."""
    return _snapshot_makers[0](actor, project, model_run) if _snapshot_makers else None
