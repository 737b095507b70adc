"""Reads of datasets and data rows, limited to the caller's organization, with the list filters of the API."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import Field, FloatField, Prefetch, Q, QuerySet, TextField
from django.db.models.expressions import RawSQL
from django.utils.dateparse import parse_datetime

from apps.accounts.models import User
from apps.core.counting import EXACT_UP_TO, Count, bounded_count
from apps.core.errors import ValidationFailed
from apps.core.json_sql import IdsParam, JSONText, UuidText
from apps.datasets.domain.metadata import DATETIME, NUMBER, MetadataError, filter_value
from apps.datasets.importer import metadata_specs
from apps.datasets.metadata_indexes import range_sql
from apps.datasets.models import Attachment, DataRow, Dataset, MediaType, MetadataField, StorageIntegration


def _org_filter(actor: User) -> Q:
    if actor.is_superuser and actor.organization_id is None:
        return Q()
    return Q(organization_id=actor.organization_id)


def datasets_visible_to(*, actor: User) -> QuerySet[Dataset]:
    return Dataset.objects.filter(_org_filter(actor))


# Lists count each dataset's rows exactly up to this many, then show the planner's estimate ("about"): a page of 100
# datasets of 10 million rows each must not count a billion index entries.
LIST_EXACT_UP_TO = 1_000


def dataset_row_count(*, dataset: Dataset, limit: int = EXACT_UP_TO) -> Count:
    """The dataset's rows: exact up to `limit`, else an estimate (`Count.exact` False: say "about")."""
    return bounded_count(DataRow.objects.filter(dataset_id=dataset.pk), limit)


def with_row_counts(datasets: Iterable[Dataset], *, limit: int = LIST_EXACT_UP_TO) -> list[Dataset]:
    """The datasets with `row_count` (int), `row_count_exact` and `row_count_text` ("1,234" or "about 2.1 million")
    set, for lists and pages."""
    out = []
    for dataset in datasets:
        counted = dataset_row_count(dataset=dataset, limit=limit)
        dataset.row_count = counted.value  # type: ignore[attr-defined]
        dataset.row_count_exact = counted.exact  # type: ignore[attr-defined]
        dataset.row_count_text = str(counted)  # type: ignore[attr-defined]
        out.append(dataset)
    return out


def metadata_fields_visible_to(*, actor: User) -> QuerySet[MetadataField]:
    return MetadataField.objects.filter(_org_filter(actor))


def storage_integrations_visible_to(*, actor: User) -> QuerySet[StorageIntegration]:
    return StorageIntegration.objects.filter(_org_filter(actor))


def _timestamp(value: str, name: str) -> datetime:
    try:
        parsed = parse_datetime(value)
    except ValueError:
        parsed = None
    if parsed is None:
        raise ValidationFailed(f"{name} must be an ISO 8601 timestamp.", details={name: ["Invalid timestamp."]})
    return parsed


def data_rows_visible_to(
    *, actor: User, dataset: Dataset | None = None, params: Mapping[str, str] | None = None
) -> QuerySet[DataRow]:
    """Data rows the actor may see, filtered by `media_type`, `dataset`, `global_key`, `external_id`,
    `created_after`/`created_before`, `metadata.<field>=<value>` (exact match, typed by the field's kind) and
    `metadata.<field>__gte|gt|lte|lt=<value>` (number and datetime fields)."""
    queryset = DataRow.objects.filter(_org_filter(actor)).prefetch_related(
        Prefetch("attachments", queryset=Attachment.objects.order_by("id"))
    )
    if dataset is not None:
        queryset = queryset.filter(dataset_id=dataset.pk)
    params = params or {}
    if media_type := params.get("media_type"):
        if media_type not in MediaType.values:
            raise ValidationFailed("media_type must be image or text.", details={"media_type": ["Invalid."]})
        queryset = queryset.filter(media_type=media_type)
    if (dataset_id := params.get("dataset")) and dataset is None:
        queryset = queryset.filter(dataset_id=_uuid(dataset_id, "dataset"))
    if global_key := params.get("global_key"):
        queryset = queryset.filter(global_key=global_key)
    if external_id := params.get("external_id"):
        queryset = queryset.filter(external_id=external_id)
    if after := params.get("created_after"):
        queryset = queryset.filter(created_at__gte=_timestamp(after, "created_after"))
    if before := params.get("created_before"):
        queryset = queryset.filter(created_at__lt=_timestamp(before, "created_before"))
    metadata_filters = {k[9:]: v for k, v in params.items() if k.startswith("metadata.")}
    ranges = {k: v for k, v in metadata_filters.items() if k.rpartition("__")[2] in RANGE_LOOKUPS and "__" in k}
    if ranges:
        queryset = _metadata_ranges(queryset, actor, ranges)
        metadata_filters = {k: v for k, v in metadata_filters.items() if k not in ranges}
    if metadata_filters:
        specs = metadata_specs(actor.organization_id)
        wanted: dict[str, Any] = {}
        for name, raw in metadata_filters.items():
            spec = specs.get(name)
            if spec is None:
                raise ValidationFailed(
                    f"Unknown metadata field {name!r}.", details={f"metadata.{name}": ["Unknown field."]}
                )
            try:
                wanted[name] = filter_value(spec, raw)
            except MetadataError as exc:
                raise ValidationFailed(str(exc), details={f"metadata.{name}": [str(exc)]}) from None
        if connection.vendor == "postgresql":
            queryset = queryset.filter(metadata__contains=wanted)  # jsonb @> : answered by the GIN index
        else:
            for name, value in wanted.items():
                if isinstance(value, list):
                    queryset = queryset.filter(**{f"metadata__{name}__icontains": f'"{value[0]}"'})
                else:
                    queryset = queryset.filter(**{f"metadata__{name}": value})
    return queryset


RANGE_LOOKUPS = ("gte", "gt", "lte", "lt")


def _metadata_ranges(queryset: QuerySet[DataRow], actor: User, ranges: Mapping[str, str]) -> QuerySet[DataRow]:
    """`metadata.<field>__gte|gt|lte|lt=<value>` on number and datetime fields: on PostgreSQL the value as float8
    or as byte-ordered UTC ISO text (`metadata_indexes.range_sql`), answered by the field's expression index."""
    specs = metadata_specs(actor.organization_id)
    for key, raw in ranges.items():
        name, _, lookup = key.rpartition("__")
        param = f"metadata.{key}"
        spec = specs.get(name)
        if spec is None:
            raise ValidationFailed(f"Unknown metadata field {name!r}.", details={param: ["Unknown field."]})
        if spec.kind not in (NUMBER, DATETIME):
            raise ValidationFailed(
                f"metadata.{name} is a {spec.kind} field: ranges apply to number and datetime fields.",
                details={param: ["Ranges apply to number and datetime fields."]},
            )
        try:
            value = filter_value(spec, raw)
        except MetadataError as exc:
            raise ValidationFailed(str(exc), details={param: [str(exc)]}) from None
        if connection.vendor == "postgresql":  # the expression of the field's range index (`metadata_indexes`)
            alias = f"_range_{len(queryset.query.annotations)}"
            output: Field[Any, Any] = FloatField() if spec.kind == NUMBER else TextField()
            # range_sql accepts only the field name rule's characters (letters, digits, _ and -)
            expression = RawSQL(range_sql(name, spec.kind), [], output_field=output)  # noqa: S611
            queryset = queryset.alias(**{alias: expression}).filter(**{f"{alias}__{lookup}": value})
        else:
            queryset = queryset.filter(**{f"metadata__{name}__{lookup}": value})
    return queryset


def _uuid(value: str, name: str) -> str:
    import uuid

    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise ValidationFailed(f"{name} must be an id.", details={name: ["Not a UUID."]}) from None


def metadata_filter_values(*, organization_id: Any, raw: Mapping[str, str]) -> dict[str, Any]:
    """`metadata.<field>=<value>` filters typed by the organization's metadata schema (400 for an unknown field or
    a value of the wrong kind), ready for a `metadata__contains` lookup."""
    specs = metadata_specs(organization_id)
    wanted: dict[str, Any] = {}
    for name, value in raw.items():
        spec = specs.get(name)
        if spec is None:
            raise ValidationFailed(
                f"Unknown metadata field {name!r}.", details={f"metadata.{name}": ["Unknown field."]}
            )
        try:
            wanted[name] = filter_value(spec, value)
        except MetadataError as exc:
            raise ValidationFailed(str(exc), details={f"metadata.{name}": [str(exc)]}) from None
    return wanted


def attachment_texts_of_rows(*, data_row_ids: Sequence[Any]) -> list[tuple[str, str]]:
    """Attachments of many rows in one query as `(data_row_id, json)` (JSON text built by the database)."""
    return list(
        Attachment.objects.filter(data_row_id__in=IdsParam(data_row_ids))
        .annotate(row_text=UuidText("data_row_id"), json=JSONText(type="type", value="value", name="name"))
        .order_by("id")
        .values_list("row_text", "json")
    )


def data_rows_by_key(*, organization_id: Any, keys: Sequence[str]) -> dict[str, DataRow]:
    """Rows of the organization whose `global_key` (first) or `external_id` is one of `keys`, by that key."""
    found: dict[str, DataRow] = {}
    wanted = list(dict.fromkeys(keys))
    for start in range(0, len(wanted), 5000):
        chunk = wanted[start : start + 5000]
        rows = DataRow.objects.filter(
            Q(global_key__in=chunk) | Q(external_id__in=chunk), organization_id=organization_id
        )
        for row in rows:
            if row.external_id in chunk:
                found.setdefault(row.external_id, row)
        for row in rows:
            if row.global_key in chunk:
                found[row.global_key] = row
    return found
