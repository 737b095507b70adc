"""Extension points of the exports: per-row sections of the NDJSON line and label choosers.

A *row section* adds one top-level key to every NDJSON line. Its loader answers a whole page of rows at once
(`load(project, data_row_ids) -> {data_row_id: value}`, ids as strings), so an export of a page costs one or two
queries per section, never one per row. Rows missing from the answer get `null` under that key.

A *label chooser* answers "which label is the one to export for these rows" for a `label=` filter mode the exports
app cannot compute itself (the quality app registers `consensus_winner`): `choose(project, data_row_ids) ->
{data_row_id: label_id}`. Without a chooser, or for rows it does not answer, the export falls back to `approved`.

A section may also give `sql`: the same value built by PostgreSQL inside the page query (see `apps.exports.sql`:
`SqlSection`, or `"labels"` for the exports app's own label section). On PostgreSQL such sections cost no Python
work per row; sections with only a loader still work there (their loader is called once per page and the value
added to each line). A chooser may declare `sql=True` when `apps.exports.sql` has its condition (the built-in
`consensus_winner`); a chooser without it makes `label=<mode>` exports use the Python path.

Apps register from their `AppConfig.ready()`. This module imports no models, so registering is cheap.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

RowSectionLoader = Callable[[Any, Sequence[str]], "dict[str, Any]"]
LabelChooser = Callable[[Any, Sequence[str]], "dict[str, str]"]

# Keys the exports app writes itself; a section may not replace them.
RESERVED_KEYS = frozenset({"data_row", "project", "workflow"})


@dataclass(frozen=True)
class RowSection:
    name: str
    loader: RowSectionLoader
    sql: Any = None  # an `apps.exports.sql.SqlSection`, "labels", or None (loader only)


_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")
_sections: dict[str, RowSection] = {}
_choosers: dict[str, LabelChooser] = {}
_sql_choosers: set[str] = set()


def register_row_section(name: str, loader: RowSectionLoader, *, sql: Any = None) -> None:
    """Add (or replace, when registered again under the same name) a top-level key of the NDJSON line."""
    if not _NAME.fullmatch(name) or name in RESERVED_KEYS:
        raise ValueError(f"{name!r} is not a usable section name (lower-case letters, digits, underscores).")
    _sections[name] = RowSection(name=name, loader=loader, sql=sql)


def unregister_row_section(name: str) -> None:
    _sections.pop(name, None)


def row_sections() -> list[RowSection]:
    return list(_sections.values())


def register_label_chooser(mode: str, chooser: LabelChooser, *, sql: bool = False) -> None:
    _choosers[mode] = chooser
    if sql:
        _sql_choosers.add(mode)
    else:
        _sql_choosers.discard(mode)


def unregister_label_chooser(mode: str) -> None:
    _choosers.pop(mode, None)
    _sql_choosers.discard(mode)


def label_chooser_has_sql(mode: str) -> bool:
    """Whether the chooser of `mode` (if any) is the one the SQL page query implements."""
    return mode not in _choosers or mode in _sql_choosers


def label_chooser(mode: str) -> LabelChooser | None:
    return _choosers.get(mode)
