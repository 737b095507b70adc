"""`JSONText`: a JSON object built by the database and returned as text, for bulk readers (exports) that copy JSON
through without parsing it in Python. PostgreSQL builds `json` (not `jsonb`: no re-parsing of nested documents,
keys kept in the given order); other databases use `JSON_OBJECT`."""

from __future__ import annotations

from typing import Any

from django.db.models import Func, TextField, Value
from django.db.models.functions import Cast


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
