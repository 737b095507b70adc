"""Every write of the predictions app."""

from apps.predictions.services.imports import (
    annotations_import,
    annotations_import_enqueue,
    annotations_import_from_storage,
)
from apps.predictions.services.provenance import label_provenance_record, prelabels_for_task
from apps.predictions.services.queue_order import (
    queue_order_compute,
    queue_order_enqueue,
    queue_order_request,
    queue_order_rows_joined,
    queue_settings_changed,
    queue_settings_errors,
)
from apps.predictions.services.routing import (
    expert_claim,
    overdue_count,
    overdue_expert_tasks_notify,
    project_route,
    routing_enqueue,
)
from apps.predictions.services.runs import model_create, model_run_create, model_run_rows_add, model_run_rows_set
from apps.predictions.services.targets import Target, prediction_target, prelabel_target

__all__ = [
    "Target",
    "annotations_import",
    "annotations_import_enqueue",
    "annotations_import_from_storage",
    "expert_claim",
    "label_provenance_record",
    "model_create",
    "model_run_create",
    "model_run_rows_add",
    "model_run_rows_set",
    "overdue_count",
    "overdue_expert_tasks_notify",
    "prediction_target",
    "prelabel_target",
    "prelabels_for_task",
    "project_route",
    "queue_order_compute",
    "queue_order_enqueue",
    "queue_order_request",
    "queue_order_rows_joined",
    "queue_settings_changed",
    "queue_settings_errors",
    "routing_enqueue",
]
