"""`JSONText`: a JSON object built by the database and returned as text, for bulk readers (exports) that copy JSON
through without parsing it in Python. PostgreSQL builds `json` (not `jsonb`: no re-parsing of nested documents,
keys kept in the given order); other databases use `JSON_OBJECT`.

`UuidText`: a UUID column as text in its canonical form (`8-4-4-4-12` hex digits), as the API writes ids. SQLite
stores UUIDs as 32 bare hex digits, so a plain `CAST(... AS text)` there gives another form than PostgreSQL's, and
ids read as text would not match ids from the ORM (`str(uuid)`); `JSONText` formats its UUID values so too."""

from __future__ import annotations

import json
import uuid
from typing import Any

from django.core.exceptions import FieldError
from django.db.models import Func, TextField, Value
from django.db.models.functions import Cast

_UUID_PARTS = ((1, 8), (9, 4), (13, 4), (17, 4), (21, 12))


class UuidText(Func):
    """`UuidText("data_row_id")`: the id as canonical text on every database (NULL stays NULL)."""

    arity = 1
    output_field = TextField()

    def as_sql(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:  # type: ignore[override]
        return compiler.compile(Cast(self.get_source_expressions()[0], TextField()))

    def as_sqlite(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        column, params = compiler.compile(self.get_source_expressions()[0])
        # 32 hex digits → 8-4-4-4-12 (a NULL propagates through `||`)
        pieces = " || '-' || ".join(f"substr({column}, {start}, {length})" for start, length in _UUID_PARTS)
        return f"lower({pieces})", list(params) * len(_UUID_PARTS)


def _is_uuid(expression: Any) -> bool:
    try:
        field = expression.output_field
    except (AttributeError, FieldError):
        return False
    kind = field.get_internal_type()
    if kind in ("ForeignKey", "OneToOneField"):
        kind = field.target_field.get_internal_type()
    return bool(kind == "UUIDField")


class JSONText(Func):
    """`JSONText(id="id", labeler=JSONText(id="labeler_id", nested=True))`. Nested objects pass `nested=True` so they
    stay JSON inside their parent (the outermost one is returned as text)."""

    function = "JSON_OBJECT"
    output_field = TextField()

    def __init__(self, *, nested: bool = False, **fields: Any) -> None:
        expressions: list[Any] = []
        for key, value in fields.items():
            expressions.extend((Value(key), value))
        self.nested = nested
        super().__init__(*expressions)

    def as_sql(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:  # type: ignore[override]
        return super().as_sql(compiler, connection, **extra_context)

    def as_sqlite(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        copy = self.copy()
        copy.set_source_expressions(
            [
                UuidText(expression) if index % 2 == 1 and _is_uuid(expression) else expression
                for index, expression in enumerate(copy.get_source_expressions())
            ]
        )
        return super(JSONText, copy).as_sql(compiler, connection, **extra_context)

    def as_postgresql(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        copy = self.copy()
        copy.set_source_expressions(
            [
                Cast(expression, TextField()) if index % 2 == 0 else expression
                for index, expression in enumerate(copy.get_source_expressions())
            ]
        )
        template = "%(function)s(%(expressions)s)" if self.nested else "%(function)s(%(expressions)s)::text"
        return super(JSONText, copy).as_sql(
            compiler, connection, function="JSON_BUILD_OBJECT", template=template, **extra_context
        )


class IdsParam(Func):
    """`filter(data_row_id__in=IdsParam(ids))`: a list of UUIDs sent as ONE query parameter (a JSON array read with
    `json_each` on SQLite, a `uuid[]` on PostgreSQL) instead of one parameter per id. Django prepares every element
    of a plain `__in` list in Python (field lookups, UUID parsing): for the thousands of ids of an export page that
    was most of the page's CPU. Ids may be UUIDs or their text in either form (with or without hyphens)."""

    output_field = TextField()

    def __init__(self, ids: Any) -> None:
        super().__init__()
        self.ids = [i.hex if isinstance(i, uuid.UUID) else str(i).replace("-", "").lower() for i in ids]

    def as_sql(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:  # type: ignore[override]
        return "SELECT unnest(%s::uuid[])", [self.ids]

    def as_sqlite(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        return "SELECT value FROM json_each(%s)", [json.dumps(self.ids)]
