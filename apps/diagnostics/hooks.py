"""What diagnostics plugs into other apps' registries (called from `DiagnosticsConfig.ready`)."""

from __future__ import annotations


def register() -> None:
    from apps.diagnostics.setup_views import new_run_link
    from apps.diagnostics.training_links import training_snapshot
    from apps.diagnostics.views import runs_link
    from apps.labeling.registry import register_project_link
    from apps.predictions.registry import register_training_snapshot

    register_project_link(runs_link)
    register_project_link(new_run_link)
    register_training_snapshot(training_snapshot)
