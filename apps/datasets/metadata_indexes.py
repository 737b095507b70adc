"""Expression indexes for range filters on number and datetime metadata (`metadata.<field>__gte=…` and friends).

Equality and tag filters are answered by the GIN index on the whole `metadata` column (`@>`). A range (a score
window, a capture-time window) cannot use it: without an index of its own the list walks rows newest first until a
page of matches is found, which grows with the dataset when the matches are rare or old. So each number or datetime
field name in use gets a B-tree on `(dataset_id, <the value as float8 or as byte-ordered text>)` (`range_sql`),
created `CONCURRENTLY` (no lock on imports) by a background task when such
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


def range_sql(field_name: str, kind: str) -> str:
    """The SQL expression range filters compare and the index holds (the two must be the same expression):
    numbers as float8 (NULL when the stored value is not a number: no cast error, whatever another organization
    stores under the name), datetimes as their normalized UTC ISO text in byte order. Both have column statistics
    (histograms), so the planner knows how many rows a range matches — jsonb comparisons have none, and the
    planner then walked a million rows for a range that matched a hundred."""
    if not _SAFE_NAME.match(field_name):
        raise ValueError(f"not a metadata field name: {field_name!r}")
    value = f'"datasets_datarow"."metadata" -> \'{field_name}\''
    if kind == MetadataKind.NUMBER:
        return f"(CASE WHEN jsonb_typeof({value}) = 'number' THEN ({value})::float8 END)"
    if kind == MetadataKind.DATETIME:
        return f'(("datasets_datarow"."metadata" ->> \'{field_name}\') COLLATE "C")'
    raise ValueError(f"no range index for {kind} fields")


def index_name(field_name: str, kind: str) -> str:
    digest = hashlib.sha1(f"{kind}:{field_name}".encode(), usedforsecurity=False).hexdigest()[:12]
    return f"data_row_range_{digest}"


def index_sql(field_name: str, kind: str) -> str:
    expression = range_sql(field_name, kind).replace('"datasets_datarow".', "")
    return (
        f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {index_name(field_name, kind)} "
        f"ON datasets_datarow (dataset_id, {expression})"
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
    """Create the missing range indexes (one per number/datetime field name and kind); the names created. Runs outside a
    transaction (autocommit), as `CREATE INDEX CONCURRENTLY` must."""
    if connection.vendor != "postgresql":
        return []
    if connection.in_atomic_block:
        raise RuntimeError("metadata_indexes_ensure runs outside a transaction (CREATE INDEX CONCURRENTLY)")
    fields = sorted(set(MetadataField.objects.filter(kind__in=INDEXED_KINDS).values_list("name", "kind")))
    existing = _existing()
    created = []
    for name, kind in fields:
        index = index_name(name, kind)
        if index in existing:
            _drop_invalid(index)
            if index in _existing():
                continue
        with connection.cursor() as cursor:
            cursor.execute(index_sql(name, kind))
        created.append(name)
    if created:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE datasets_datarow")  # statistics of the new expressions: the planner's estimates
    return created
