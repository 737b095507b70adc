"""One-row INSERT and UPDATE for the labeling hot paths, as `save()` does them, with the SQL built once.

`Model.save()` builds and compiles its INSERT or UPDATE on every call (a millisecond of Python for a label row, more
than PostgreSQL takes to write it). `row_insert(obj)` and `row_update(obj, fields)` write the same columns with the
same values (each field's `pre_save`: `auto_now`, `auto_now_add`; its `get_db_prep_save`: JSON, UUIDs), from SQL
kept per model and field list, run as prepared statements on PostgreSQL (`apps.core.compiled`); on SQLite the driver
keeps the compiled statement in its per-connection cache, which does the same.

They fall back to `save()` whenever `save()` would do more: a model that overrides `save()` or has `pre_save`/
`post_save` receivers, a primary key the database assigns, or another database than PostgreSQL and SQLite. Like
`save(update_fields=...)`, an update that finds no row raises `DatabaseError`.
"""

from __future__ import annotations

import threading
from typing import Any, TypeVar

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, models
from django.db.models import signals

from apps.core.compiled import prepared_cursor

M = TypeVar("M", bound=models.Model)
_sql_cache = threading.local()


def _direct(model: type[models.Model], connection: Any) -> bool:
    """Whether the write may skip `save()`: nothing listens to its signals and the key comes from Python."""
    if connection.vendor not in ("postgresql", "sqlite"):
        return False
    if model.save is not models.Model.save:  # the model's own save() logic must run
        return False
    if signals.pre_save.has_listeners(model) or signals.post_save.has_listeners(model):
        return False
    pk = model._meta.pk
    return pk is not None and not isinstance(pk, models.AutoField | models.BigAutoField | models.SmallAutoField)


def _cached(key: tuple[Any, ...], build: Any) -> str:
    cache: dict[tuple[Any, ...], str] = _sql_cache.__dict__.setdefault("sql", {})
    sql = cache.get(key)
    if sql is None:
        sql = cache[key] = build()
    return sql


def row_insert(obj: M) -> M:
    """INSERT `obj` (a new instance) as `obj.save(force_insert=True)` would."""
    model = type(obj)
    connection = connections[DEFAULT_DB_ALIAS]
    if not _direct(model, connection):
        obj.save(force_insert=True)
        return obj
    meta = model._meta
    fields = [f for f in meta.local_concrete_fields if not getattr(f, "generated", False)]
    if obj.pk is None:
        obj.pk = meta.pk.get_pk_value_on_save(obj)  # type: ignore[union-attr, attr-defined]
    values = [f.get_db_prep_save(f.pre_save(obj, add=True), connection) for f in fields]
    quote = connection.ops.quote_name

    def build() -> str:
        columns = ", ".join(quote(f.column) for f in fields)
        placeholders = ", ".join(["%s"] * len(fields))
        return f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({placeholders})"  # noqa: S608 - names from the model

    sql = _cached(("insert", meta.label), build)
    with prepared_cursor(connection) as cursor:
        cursor.execute(sql, values)
    obj._state.adding = False
    obj._state.db = DEFAULT_DB_ALIAS
    return obj


def row_update(obj: models.Model, fields: list[str]) -> None:
    """UPDATE the named fields of `obj` (and `auto_now` ones among them) as `obj.save(update_fields=fields)` would."""
    model = type(obj)
    connection = connections[DEFAULT_DB_ALIAS]
    if not _direct(model, connection):
        obj.save(update_fields=fields)
        return
    meta = model._meta
    targets = [meta.get_field(name) for name in fields]
    values = [f.get_db_prep_save(f.pre_save(obj, add=False), connection) for f in targets]  # type: ignore[union-attr]
    values.append(meta.pk.get_db_prep_value(obj.pk, connection))  # type: ignore[union-attr]
    quote = connection.ops.quote_name

    def build() -> str:
        assignments = ", ".join(f"{quote(f.column)} = %s" for f in targets)  # type: ignore[union-attr, arg-type]
        key = quote(str(meta.pk.column))  # type: ignore[union-attr]
        return f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {key} = %s"  # noqa: S608 - names from the model

    sql = _cached(("update", meta.label, tuple(fields)), build)
    with prepared_cursor(connection) as cursor:
        cursor.execute(sql, values)
        if cursor.rowcount != 1:
            raise DatabaseError("Save with update_fields did not affect any rows.")
