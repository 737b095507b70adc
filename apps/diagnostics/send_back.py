"""Back to labeling from a model run: send chosen rows to a project as a batch, and "mine more like this" (rows
similar to the run's ground-truth rows of a class, through the catalog's similarity search)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from django.db.models import TextField
from django.db.models.functions import Cast
from django.utils import timezone

from apps.accounts.models import User
from apps.catalog.selectors import MAX_K, rows_similar_to
from apps.core.audit import audit_record
from apps.core.errors import ValidationFailed
from apps.diagnostics.models import GroundTruth
from apps.diagnostics.services import _vocabularies
from apps.labeling import selectors as labeling_selectors
from apps.labeling import services as labeling_services
from apps.labeling.models import Project
from apps.predictions.models import ModelRun

# -- back to labeling -----------------------------------------------------------------------------------------


def send_to_labeling(
    *, actor: User, model_run: ModelRun, project: Project, data_row_ids: Sequence[str], batch_name: str, priority: int
) -> labeling_services.BatchResult:
    """A batch in `project` with exactly these rows (of the run)."""
    if not data_row_ids:
        raise ValidationFailed("No rows match.", details={"rows": ["The selection is empty."]})
    result = labeling_services.batch_create(
        actor=actor, project=project, name=batch_name, data_row_ids=list(data_row_ids), priority=priority
    )
    audit_record(
        action="model_run.sent_to_labeling",
        actor=actor,
        organization=model_run.model.organization,
        target=model_run,
        extra={"project": str(project.id), "batch": str(result.batch.id), "rows": len(data_row_ids)},
    )
    return result


# -- mine more like this --------------------------------------------------------------------------------------

MAX_MINED = 1000


def class_rows(*, model_run: ModelRun, schema_id: str) -> list[str]:
    """The run's ground-truth rows with at least one annotation of the class (box tool schema_id)."""
    found = []
    rows = (
        GroundTruth.objects.filter(model_run=model_run)
        .order_by("data_row_id")
        .annotate(text=Cast("annotations", TextField()))
        .values_list("data_row_id", "text")
    )
    for row_id, text in rows.iterator(chunk_size=2000):
        document = orjson.loads(text) if text else []
        if any(isinstance(a, dict) and a.get("schema_id") == schema_id for a in document or []):
            found.append(str(row_id))
    return found


def mine_similar(
    *,
    actor: User,
    model_run: ModelRun,
    project: Project,
    space: Any,
    schema_id: str,
    limit: int,
    priority: int,
    batch_name: str = "",
) -> dict[str, Any]:
    """ "Mine more like this": the `limit` rows most similar (in the embedding `space`) to the run's ground-truth rows
    of the class, leaving out the run's ground-truth rows and rows already in the project, become one batch of
    `project` (through the catalog's similarity search)."""
    classes, _, _ = _vocabularies(model_run)
    names = {c.key: c.name for c in classes}
    if schema_id not in names:
        raise ValidationFailed("Unknown class.", details={"class": ["A box class (schema_id) of the run's ontology."]})
    if not 1 <= limit <= MAX_MINED:
        raise ValidationFailed(f"limit must be from 1 to {MAX_MINED}.", details={"limit": ["Out of range."]})
    seeds = class_rows(model_run=model_run, schema_id=schema_id)
    if not seeds:
        raise ValidationFailed(
            "The run's ground truth has no row of this class.", details={"class": ["No ground-truth row."]}
        )
    known = [str(r) for r in GroundTruth.objects.filter(model_run=model_run).values_list("data_row_id", flat=True)]
    chosen: list[str] = []
    k = min(MAX_K, limit * 2)
    while True:
        neighbors = rows_similar_to(actor=actor, space=space, seed_row_ids=seeds, k=k, exclude_row_ids=known)
        ids = [str(n.data_row.pk) for n in neighbors]
        queued = {str(r) for r in labeling_selectors.data_rows_in_project(project=project, data_row_ids=ids)}
        chosen = [r for r in ids if r not in queued][:limit]
        if len(chosen) >= limit or len(neighbors) < k or k >= MAX_K:
            break
        k = min(MAX_K, k * 2)
    if not chosen:
        raise ValidationFailed("No similar row is left to label.", details={"class": ["No candidate rows."]})
    name = batch_name or f"{model_run.name} · more {names[schema_id]} · {timezone.now():%Y-%m-%d %H:%M:%S}"
    result = send_to_labeling(
        actor=actor, model_run=model_run, project=project, data_row_ids=chosen, batch_name=name[:200], priority=priority
    )
    return {
        "batch": str(result.batch.id),
        "project": str(project.id),
        "name": result.batch.name,
        "class": {"schema_id": schema_id, "name": names[schema_id]},
        "embedding": str(space.pk),
        "seeds": len(seeds),
        "rows": chosen,
        "added": result.added,
    }
