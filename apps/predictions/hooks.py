"""What the predictions app plugs into other apps' registries (called from `PredictionsConfig.ready`)."""

from __future__ import annotations

from typing import Any


def _overdue(project: Any) -> int:
    from apps.predictions.services import overdue_count

    return overdue_count(project)


def register() -> None:
    from apps.labeling.registry import (
        register_claim_source,
        register_label_provenance,
        register_overview_counter,
        register_prelabel_source,
        register_project_admin_action,
        register_project_link,
        register_rows_joined,
        register_settings_changed,
        register_settings_check,
        register_tasks_done,
    )
    from apps.predictions.admin import recompute_queue_order
    from apps.predictions.services import (
        expert_claim,
        label_provenance_record,
        prelabels_for_task,
        queue_order_rows_joined,
        queue_settings_changed,
        queue_settings_errors,
    )
    from apps.predictions.services.prelabeling import (
        prelabel_rows_joined,
        prelabel_settings_changed,
        prelabel_settings_errors,
    )
    from apps.predictions.services.retraining import retrain_tasks_done
    from apps.predictions.views import prelabels_link

    register_claim_source(expert_claim)
    register_prelabel_source(prelabels_for_task)
    register_label_provenance(label_provenance_record)
    register_overview_counter("overdue_expert_tasks", _overdue)
    register_project_link(prelabels_link)
    register_settings_check(queue_settings_errors)
    register_settings_changed(queue_settings_changed)
    register_rows_joined(queue_order_rows_joined)
    register_project_admin_action(recompute_queue_order)
    register_rows_joined(prelabel_rows_joined)
    register_settings_check(prelabel_settings_errors)
    register_settings_changed(prelabel_settings_changed)
    register_tasks_done(retrain_tasks_done)
