"""The data rows the lines name, by global key or id, resolved in one query per kind of reference."""

from __future__ import annotations

import math
import re
import uuid
from dataclasses import dataclass

from django.db import connection
from django.db.models import Q, QuerySet, TextField, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast, Left, Length

from apps.core.ids import is_uuid
from apps.datasets.models import DataRow
from apps.labeling.selectors import row_in_project
from apps.predictions.services.targets import Target

_URL_LIKE = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)


@dataclass(slots=True)
class _Row:
    id: str
    bounds: tuple[tuple[float, float] | None, int | None]
    video: tuple[str, int | None] | None = None  # a video row: (probe status, probed frame count)


_NO_SIZE = (math.nan, math.nan)

Found = tuple[dict[str, _Row], dict[str, _Row], set[str]]


def _resolve_rows(target: Target, keys: set[str], ids: set[str]) -> Found:
    """The rows the lines name (by global key or id) in the organization, with their bounds and, for pre-labels,
    whether each is in the project: one query per kind of reference."""
    ids = {_canonical_id(value) for value in ids} - {""}
    by_key: dict[str, _Row] = {}
    by_id: dict[str, _Row] = {}
    in_project: set[str] = set()
    if not keys and not ids:
        return by_key, by_id, in_project
    rows = DataRow.objects.filter(organization_id=target.organization_id).order_by()
    if connection.vendor == "postgresql":
        # One array parameter, not one placeholder per key; one query each (index lookups: an OR of the two would
        # scan the table).
        wanted = [
            rows.filter(**{field: RawSQL(f"SELECT unnest(%s::{kind}[])", (list(values),))})  # noqa: S611 - constant
            for field, kind, values in (("global_key__in", "text", keys), ("pk__in", "uuid", ids))
            if values
        ]
    else:
        wanted = [rows.filter(Q(global_key__in=keys) | Q(pk__in=ids))]
    for found in wanted:
        _add_rows(target, found, by_key, by_id, in_project)
    return by_key, by_id, in_project


def _add_rows(
    target: Target, found: QuerySet[DataRow], by_key: dict[str, _Row], by_id: dict[str, _Row], in_project: set[str]
) -> None:
    found = found.annotate(
        id_text=Cast("id", output_field=TextField()), text_length=Length("row_data"), head=Left("row_data", 40)
    )
    if target.project is not None:
        found = found.annotate(in_project=row_in_project(project=target.project))
    else:
        found = found.annotate(in_project=Value(True))
    columns = ("id_text", "global_key", "width", "height", "media_type", "text_length", "head", "in_project")
    video_columns = ("video_asset__status", "video_asset__frame_count")
    for values in found.values_list(*columns, *video_columns):
        row_id, key, width, height, media_type, text_length, head, member, video_status, frames = values
        image_size = (float(width), float(height)) if width and height else None
        text = text_length if media_type == "text" and not _URL_LIKE.match(head or "") else None
        video = (video_status or "pending", frames) if media_type == "video" else None
        row = _Row(str(uuid.UUID(row_id)) if len(row_id) != 36 else row_id, (image_size, text), video)
        by_key[key] = row
        by_id[row.id] = row
        if member:
            in_project.add(row.id)


def _canonical_id(value: str | None) -> str:
    return str(uuid.UUID(value)) if value is not None and is_uuid(value) else ""
