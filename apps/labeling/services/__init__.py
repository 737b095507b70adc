"""Every write of the labeling app."""

from apps.labeling.services.drafts import draft_delete, draft_save, may_keep_draft
from apps.labeling.services.labels import (
    label_edit,
    label_import,
    label_revision_create,
    label_submit,
    split_prelabel_references,
    task_skip,
    validate_label_document,
)
from apps.labeling.services.projects import (
    BatchResult,
    OntologyUpgrade,
    batch_create,
    batch_update,
    project_create,
    project_mark,
    project_member_remove,
    project_member_set,
    project_settings_check,
    project_update,
    project_upgrade_ontology,
)
from apps.labeling.services.queue import leases_release_expired, queue_claim
from apps.labeling.services.queue_rank import queue_ranks_set
from apps.labeling.services.slots import (
    benchmark_task_lease,
    expert_task_lease,
    expert_tasks_create,
    expert_tasks_mark_notified,
    expert_tasks_overdue,
    review_priority_set,
)

__all__ = [
    "BatchResult",
    "OntologyUpgrade",
    "batch_create",
    "batch_update",
    "benchmark_task_lease",
    "draft_delete",
    "draft_save",
    "expert_task_lease",
    "expert_tasks_create",
    "expert_tasks_mark_notified",
    "expert_tasks_overdue",
    "label_edit",
    "label_import",
    "label_revision_create",
    "label_submit",
    "leases_release_expired",
    "may_keep_draft",
    "project_create",
    "project_mark",
    "project_member_remove",
    "project_member_set",
    "project_settings_check",
    "project_update",
    "project_upgrade_ontology",
    "queue_claim",
    "queue_ranks_set",
    "review_priority_set",
    "split_prelabel_references",
    "task_skip",
    "validate_label_document",
]
