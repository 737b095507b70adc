"""Every write of the labeling app."""

from apps.labeling.services.labels import (
    label_edit,
    label_import,
    label_revision_create,
    label_submit,
    task_skip,
    validate_label_document,
)
from apps.labeling.services.projects import (
    BatchResult,
    OntologyUpgrade,
    batch_create,
    project_create,
    project_member_remove,
    project_member_set,
    project_update,
    project_upgrade_ontology,
)
from apps.labeling.services.queue import leases_release_expired, queue_claim
from apps.labeling.services.slots import benchmark_task_lease, review_priority_set

__all__ = [
    "BatchResult",
    "OntologyUpgrade",
    "batch_create",
    "benchmark_task_lease",
    "label_edit",
    "label_import",
    "label_revision_create",
    "label_submit",
    "leases_release_expired",
    "project_create",
    "project_member_remove",
    "project_member_set",
    "project_update",
    "project_upgrade_ontology",
    "queue_claim",
    "review_priority_set",
    "task_skip",
    "validate_label_document",
]
