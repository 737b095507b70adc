"""What the predictions app plugs into other apps' registries (called from `PredictionsConfig.ready`)."""

from __future__ import annotations


def register() -> None:
    pass
