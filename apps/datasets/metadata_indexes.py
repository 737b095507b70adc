"""Expression indexes for range filters on number and datetime metadata (`metadata.<field>__gte=…` and friends).

Equality and tag filters are answered by the GIN index on the whole `metadata` column (`@>`). A range (a score
window, a capture-time window) cannot use it: without an index of its own the list walks rows newest first until a
page of matches is found, which grows with the dataset when the matches are rare or old. So each number or datetime
field name in use gets a B-tree on `(dataset_id, metadata -> 'name')` (jsonb: numbers compare as numbers, the
normalized UTC ISO datetimes as strings), created `CONCURRENTLY` (no lock on imports) by a background task when such
a field is created, or by `python manage.py metadata_indexes`. PostgreSQL only; one index per field name serves
every organization that uses the name. Measured in `benchmark scale` (README, docs/deploy.md).
"""

from __future__ import annotations

import hashlib
import re

from django.db import connection

from apps.datasets.models import MetadataField, MetadataKind

INDEXED_KINDS = (MetadataKind.NUMBER, MetadataKind.DATETIME)
_SAFE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,99}$")  # the service's field name rule


def index_name(field_name: str) -> str:
    return "data_row_meta_" + hashlib.sha1(field_name.encode(), usedforsecurity=False).hexdigest()[:12]


def index_sql(field_name: str) -> str:
    if not _SAFE_NAME.match(field_name):
        raise ValueError(f"not a metadata field name: {field_name!r}")
    return (
        f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {index_name(field_name)} "
        f"ON datasets_datarow (dataset_id, (metadata -> '{field_name}'))"
    )


def _existing() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'datasets_datarow'")
        return {row[0] for row in cursor.fetchall()}


def _drop_invalid(name: str) -> None:
    """A `CONCURRENTLY` build that was interrupted leaves an INVALID index: drop it so that it is built again."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
            " WHERE c.relname = %s AND NOT i.indisvalid",
            [name],
        )
        if cursor.fetchone():
            cursor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


def metadata_indexes_ensure() -> list[str]:
    """Create the missing range indexes (one per number/datetime field name); the names created. Runs outside a
    transaction (autocommit), as `CREATE INDEX CONCURRENTLY` must."""
    if connection.vendor != "postgresql":
        return []
    if connection.in_atomic_block:
        raise RuntimeError("metadata_indexes_ensure runs outside a transaction (CREATE INDEX CONCURRENTLY)")
    names = sorted(set(MetadataField.objects.filter(kind__in=INDEXED_KINDS).values_list("name", flat=True).distinct()))
    existing = _existing()
    created = []
    for name in names:
        index = index_name(name)
        if index in existing:
            _drop_invalid(index)
            if index in _existing():
                continue
        with connection.cursor() as cursor:
            cursor.execute(index_sql(name))
        created.append(name)
    if created:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE datasets_datarow")  # statistics of the new expressions: the planner's estimates
    return created
