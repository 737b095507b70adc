"""Models, model runs and the data rows (with their split) of a run."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, transaction

from apps.accounts.models import User
from apps.core.audit import audit_record
from apps.core.errors import Conflict, ValidationFailed
from apps.core.ids import is_uuid
from apps.datasets.models import DataRow
from apps.ontologies.models import Ontology, OntologyVersion
from apps.predictions.models import Model, ModelRun, ModelRunDataRow, Split

MAX_ROWS_PER_REQUEST = 100_000


def _name(value: str) -> str:
    name = (value or "").strip()
    if not name or len(name) > 200:
        raise ValidationFailed("A name of 1 to 200 characters is required.", details={"name": ["Required."]})
    return name


@transaction.atomic
def model_create(*, actor: User, name: str, ontology: Ontology, description: str = "") -> Model:
    if actor.organization_id is None or ontology.organization_id != actor.organization_id:
        raise ValidationFailed("The ontology is not in your organization.", details={"ontology": ["Not found."]})
    try:
        with transaction.atomic():
            model = Model.objects.create(
                organization_id=actor.organization_id,
                name=_name(name),
                ontology=ontology,
                description=description,
                created_by=actor,
            )
    except IntegrityError as exc:
        raise Conflict(f"A model named {name!r} exists.", code="model_exists") from exc
    audit_record(action="model.created", actor=actor, organization=model.organization, target=model)
    return model


@transaction.atomic
def model_run_create(*, actor: User, model: Model, name: str, config: Any = None) -> ModelRun:
    if config is None:
        config = {}
    if not isinstance(config, dict):
        raise ValidationFailed("config must be a JSON object.", details={"config": ["An object."]})
    version = OntologyVersion.objects.get(ontology_id=model.ontology_id, number=model.ontology.current_version)
    try:
        with transaction.atomic():
            run = ModelRun.objects.create(
                model=model, name=_name(name), config=config, ontology_version=version, created_by=actor
            )
    except IntegrityError as exc:
        raise Conflict(f"The model has a run named {name!r}.", code="model_run_exists") from exc
    audit_record(action="model_run.created", actor=actor, organization=model.organization, target=run)
    return run


@transaction.atomic
def model_run_rows_set(
    *,
    actor: User,
    model_run: ModelRun,
    split: str,
    data_row_ids: list[str] | None = None,
    global_keys: list[str] | None = None,
) -> dict[str, Any]:
    """Add rows to the run (or move them to another split). Unknown ids / keys are reported, not fatal."""
    if split not in Split.values:
        raise ValidationFailed("Unknown split.", details={"split": [f"One of: {', '.join(Split.values)}."]})
    ids = list(dict.fromkeys(data_row_ids or []))
    keys = list(dict.fromkeys(global_keys or []))
    if not ids and not keys:
        raise ValidationFailed("Give data_rows or global_keys.", details={"data_rows": ["Required."]})
    if len(ids) + len(keys) > MAX_ROWS_PER_REQUEST:
        raise ValidationFailed(f"At most {MAX_ROWS_PER_REQUEST} rows per request.")
    organization_id = model_run.model.organization_id
    rows = DataRow.objects.filter(organization_id=organization_id)
    found_by_id = {str(i) for i in rows.filter(pk__in=[i for i in ids if is_uuid(i)]).values_list("id", flat=True)}
    found_by_key = dict(rows.filter(global_key__in=keys).values_list("global_key", "id"))
    not_found = [i for i in ids if str(i).lower() not in found_by_id and i not in found_by_id]
    not_found += [k for k in keys if k not in found_by_key]
    row_ids = set(found_by_id) | {str(v) for v in found_by_key.values()}
    existing = {
        str(i)
        for i in ModelRunDataRow.objects.filter(model_run=model_run, data_row_id__in=row_ids).values_list(
            "data_row_id", flat=True
        )
    }
    ModelRunDataRow.objects.bulk_create(
        [ModelRunDataRow(model_run=model_run, data_row_id=r, split=split) for r in row_ids if r not in existing],
        batch_size=5000,
    )
    moved = ModelRunDataRow.objects.filter(model_run=model_run, data_row_id__in=existing).exclude(split=split)
    updated = moved.update(split=split)
    audit_record(
        action="model_run.rows_set",
        actor=actor,
        organization=model_run.model.organization,
        target=model_run,
        extra={"split": split, "added": len(row_ids - existing), "updated": updated},
    )
    return {"added": len(row_ids - existing), "updated": updated, "not_found": not_found}


def model_run_rows_add(*, model_run: ModelRun, data_row_ids: Iterable[Any], split: str = Split.UNASSIGNED) -> int:
    """Add rows (ids already checked to be the run's organization's) that are not in the run yet, in `split`; rows
    already in the run keep theirs. No cap (a project's ground truth may be large); the caller audits."""
    wanted = {str(r) for r in data_row_ids}
    existing = {
        str(r)
        for r in ModelRunDataRow.objects.filter(model_run=model_run, data_row_id__in=list(wanted)).values_list(
            "data_row_id", flat=True
        )
    }
    new = wanted - existing
    ModelRunDataRow.objects.bulk_create(
        [ModelRunDataRow(model_run=model_run, data_row_id=r, split=split) for r in sorted(new)],
        batch_size=5000,
        ignore_conflicts=True,
    )
    return len(new)
