"""Querysets built and compiled to SQL once per thread, then run again with new parameter values.

Building the claim's querysets (anti-join subqueries, annotations, select_related) and compiling them costs several
milliseconds of Python per request, many times what PostgreSQL takes to run them. A `CompiledQuery` builds its
queryset once with stand-in values (sentinels) for the parameters that change between calls, notes where each
stand-in landed among the SQL parameters, and from then on only swaps in the real values, executes the same SQL and
turns the rows into model instances the way Django's `ModelIterable` does (select_related objects, annotations).

The SQL is the ORM's own, so it follows the models; a stand-in that does not come out as a plain parameter (inlined in
the SQL text, or transformed) is refused when the query is first compiled.
"""

from __future__ import annotations

import os
import re
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, Literal, TypeVar

from django.db import DEFAULT_DB_ALIAS, connections, models
from django.db.models import QuerySet
from django.db.models.query import (  # type: ignore[attr-defined]
    ModelIterable,
    ValuesListIterable,
    get_related_populators,
)

M = TypeVar("M", bound=models.Model)
SlotKind = Literal["uuid", "datetime", "str"]

_FIELDS: dict[SlotKind, models.Field[Any, Any]] = {
    "uuid": models.UUIDField(),
    "datetime": models.DateTimeField(),
    "str": models.TextField(),
}


def _sentinel(kind: SlotKind, index: int) -> Any:
    if kind == "uuid":
        return uuid.uuid4()
    if kind == "str":
        return f"compiled-query-stand-in-{uuid.uuid4().hex}"
    # A distinct instant per slot, far from any real one.
    return datetime(1901, 2, 3, 4, 5, 6, tzinfo=UTC) + timedelta(microseconds=uuid.uuid4().int % 10**6, days=index)


# PostgreSQL: these statements run on every request, so they are prepared on the connection (parsed and planned
# once; generic plans after a few runs) with server-side parameters. Django leaves psycopg's automatic preparation off
# (`prepare_threshold=None`, for transaction-pooling proxies); only these statements are prepared, explicitly.
# PgBouncer in transaction mode needs `max_prepared_statements` (1.21+) for this, or TDP_PREPARED_STATEMENTS=0.
PREPARE = os.environ.get("TDP_PREPARED_STATEMENTS", "1") not in ("0", "false", "no")
_NEVER_AUTOMATICALLY = 2**31 - 1
# Each of these statements is planned once per connection, for any values ("generic plan"), not on every run. Left to
# itself PostgreSQL keeps planning the claim on every run (a custom plan looks cheaper when it knows the project), and
# planning cost more than running it. Only prepared statements follow this setting: the ORM's other queries are sent
# with their values in the SQL and planned as before. The statements are key lookups and index-ordered `LIMIT 1`
# scans whose generic plans are the same as their custom ones (tests/core/test_compiled.py checks the claim's).
_GENERIC_PLANS = "_tdp_generic_plans"


_preparing_cursor: Any = None


def _preparing_cursor_class() -> Any:
    global _preparing_cursor
    if _preparing_cursor is None:
        from django.db.backends.postgresql.base import (  # type: ignore[attr-defined]
            ServerBindingCursor,
        )

        class PreparingCursor(ServerBindingCursor):  # type: ignore[misc]
            def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
                return super().execute(query, params, prepare=True)

        _preparing_cursor = PreparingCursor
    return _preparing_cursor


def prepared_cursor(connection: Any) -> Any:
    """A cursor whose statements are prepared on the connection (PostgreSQL; a plain cursor elsewhere or while queries
    are logged)."""
    if not (PREPARE and connection.vendor == "postgresql") or connection.queries_logged:
        # (Query logging, DEBUG or tests capturing queries, needs the SQL text a prepared run does not keep.)
        return connection.cursor()
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    raw = connection.connection
    if raw.prepare_threshold is None:
        raw.prepare_threshold = _NEVER_AUTOMATICALLY  # explicit `prepare=True` only (see above)
    if not getattr(raw, _GENERIC_PLANS, False) and connection.get_autocommit():
        # In autocommit (no atomic block), so the setting lasts for the session: a rollback would undo it.
        raw.execute("SET plan_cache_mode = force_generic_plan")
        setattr(raw, _GENERIC_PLANS, True)
    cursor = _preparing_cursor_class()(raw)
    return connection.make_cursor(cursor)


_PLACEHOLDER = re.compile(r"%[%s]")


def _constants_inlined(
    sql: str, params: list[Any], slots: list[tuple[int, str]], connection: Any
) -> tuple[str, list[Any], list[tuple[int, str]]]:
    """The SQL with every parameter that is not a slot written in as a literal (quoted by the driver), and the slots
    renumbered. Why: a prepared statement is planned once for all values ("generic plan") only when PostgreSQL
    judges that plan no worse than planning each run; with the queryset's constants (task states, kinds) as unknown
    parameters the generic plan of the claim cannot use its partial index and is far worse, so every run was planned
    again (most of the database time of a claim)."""
    slot_at = dict(slots)
    kept: list[Any] = []
    new_slots: list[tuple[int, str]] = []
    position = 0

    def replace(match: re.Match[str]) -> str:
        nonlocal position
        if match.group() == "%%":
            return "%%"
        index = position
        position += 1
        if index in slot_at:
            new_slots.append((len(kept), slot_at[index]))
            kept.append(params[index])
            return "%s"
        return connection.ops.compose_sql("%s", [params[index]]).replace("%", "%%")  # type: ignore[no-any-return]

    inlined = _PLACEHOLDER.sub(replace, sql)
    if position != len(params):
        raise ValueError("The compiled SQL has not one placeholder per parameter.")
    return inlined, kept, new_slots


@dataclass(frozen=True)
class _Plan:
    sql: str
    params: tuple[Any, ...]
    slots: tuple[tuple[int, str], ...]  # (parameter position, slot name)
    compiler: Any
    converters: Any
    values: bool  # rows as tuples (values_list) rather than model instances
    model: type[models.Model]
    init_list: list[str]
    start: int
    end: int
    populators: list[Any]
    annotations: dict[str, int]


class CompiledQuery(Generic[M]):
    """`build(**slots)` must return a model queryset (limited as wanted) whose only varying inputs are the slots."""

    def __init__(self, build: Callable[..., QuerySet[M]], **slots: SlotKind) -> None:
        self._build = build
        self._slots = slots
        self._local = threading.local()

    def _plan(self, alias: str) -> _Plan:
        plans: dict[str, _Plan] = self._local.__dict__.setdefault("plans", {})
        plan = plans.get(alias)
        if plan is None:
            plan = plans[alias] = self._compile(alias)
        return plan

    def _compile(self, alias: str) -> _Plan:
        connection = connections[alias]
        sentinels = {name: _sentinel(kind, i) for i, (name, kind) in enumerate(self._slots.items())}
        queryset = self._build(**sentinels).using(alias)
        values = queryset._iterable_class is ValuesListIterable
        if not (values or queryset._iterable_class is ModelIterable):
            raise TypeError("CompiledQuery runs model querysets and plain values_list() only.")
        compiler = queryset.query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        prepared = {name: self._prepare(name, value, connection) for name, value in sentinels.items()}
        slots: list[tuple[int, str]] = []
        for position, param in enumerate(params):
            for name, value in prepared.items():
                if type(param) is type(value) and param == value:
                    slots.append((position, name))
        for name, value in sentinels.items():
            if name not in {slot for _pos, slot in slots} or str(value) in sql or str(prepared[name]) in sql:
                raise ValueError(f"The stand-in for {name!r} is not a plain parameter of the compiled SQL.")
        if connection.vendor == "postgresql":
            sql, params, slots = _constants_inlined(sql, list(params), slots, connection)
        converters = compiler.get_converters([column[0] for column in compiler.select[: compiler.col_count]])
        if values:
            return _Plan(sql, tuple(params), tuple(slots), compiler, converters, True, queryset.model, [], 0, 0, [], {})
        klass_info = compiler.klass_info
        select_fields = klass_info["select_fields"]
        start, end = select_fields[0], select_fields[-1] + 1
        return _Plan(
            sql=sql,
            params=tuple(params),
            slots=tuple(slots),
            compiler=compiler,
            converters=converters,
            values=False,
            model=klass_info["model"],
            init_list=[column[0].target.attname for column in compiler.select[start:end]],
            start=start,
            end=end,
            populators=get_related_populators(klass_info, compiler.select, alias),
            annotations=dict(compiler.annotation_col_map or {}),
        )

    def _prepare(self, name: str, value: Any, connection: Any) -> Any:
        return _FIELDS[self._slots[name]].get_db_prep_value(value, connection, prepared=False)

    def _execute(self, values: dict[str, Any]) -> tuple[_Plan, list[Any]]:
        if values.keys() != self._slots.keys():
            raise TypeError(f"Expected values for {sorted(self._slots)}, got {sorted(values)}.")
        connection = connections[DEFAULT_DB_ALIAS]
        plan = self._plan(DEFAULT_DB_ALIAS)
        params = list(plan.params)
        for position, name in plan.slots:
            params[position] = self._prepare(name, values[name], connection)
        with prepared_cursor(connection) as cursor:
            cursor.execute(plan.sql, params)
            rows: list[Any] = cursor.fetchall()
        if plan.compiler.has_extra_select:
            rows = [row[: plan.compiler.col_count] for row in rows]
        if plan.converters:
            rows = list(plan.compiler.apply_converters(rows, plan.converters))
        return plan, rows

    def rows(self, **values: Any) -> list[tuple[Any, ...]]:
        """The rows of a `values_list()` queryset, as tuples."""
        plan, rows = self._execute(values)
        if not plan.values:
            raise TypeError("rows() is for values_list() querysets; use all() or first().")
        return [tuple(row) for row in rows]

    def all(self, **values: Any) -> list[M]:
        plan, rows = self._execute(values)
        if plan.values:
            raise TypeError("all() and first() are for model querysets; use rows().")
        objects: list[M] = []
        for row in rows:
            obj = plan.model.from_db(DEFAULT_DB_ALIAS, plan.init_list, row[plan.start : plan.end])
            for populator in plan.populators:
                populator.populate(row, obj)
            for attr, position in plan.annotations.items():
                setattr(obj, attr, row[position])
            objects.append(obj)  # type: ignore[arg-type]
        return objects

    def first(self, **values: Any) -> M | None:
        found = self.all(**values)
        return found[0] if found else None
