"""Hooks for other apps: where a catalog selection can be sent, and extra sections of a data row's lineage.

The labeling app (projects, batches) plugs in here when it is installed, e.g. in its `AppConfig.ready()`:

    register_selection_target(SelectionTarget(
        key="labeling.batch", label="Create a batch in a project",
        options=lambda actor: [{"value": str(p.id), "label": p.name} for p in projects_visible_to(actor=actor)],
        send=lambda actor, row_ids, option, name: {"batch": str(batch_create(...).id)},
    ))
    register_lineage_section(lambda actor, data_row: LineageSection(key="labels", title="Labels", items=[...]))
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from apps.accounts.models import User
    from apps.datasets.models import DataRow


@dataclass(frozen=True)
class SelectionTarget:
    key: str
    label: str
    # choices shown to the actor (e.g. the projects they may add batches to): [{"value", "label"}]
    options: Callable[[User], list[dict[str, str]]]
    # does the work; raises ApplicationError subclasses for bad input; returns a JSON-able result
    send: Callable[[User, list[str], str, str], dict[str, Any]]


@dataclass
class LineageSection:
    key: str
    title: str
    items: list[dict[str, Any]] = field(default_factory=list)
    empty_text: str = "Nothing recorded."


LineageProvider = Callable[["User", "DataRow"], "LineageSection | None"]

_targets: dict[str, SelectionTarget] = {}
_lineage: list[LineageProvider] = []


def register_selection_target(target: SelectionTarget) -> SelectionTarget:
    _targets[target.key] = target
    return target


def unregister_selection_target(key: str) -> None:
    _targets.pop(key, None)


def selection_targets() -> list[SelectionTarget]:
    return list(_targets.values())


def selection_target(key: str) -> SelectionTarget | None:
    return _targets.get(key)


def register_lineage_section(provider: LineageProvider) -> LineageProvider:
    if provider not in _lineage:
        _lineage.append(provider)
    return provider


def unregister_lineage_section(provider: LineageProvider) -> None:
    if provider in _lineage:
        _lineage.remove(provider)


def lineage_providers() -> list[LineageProvider]:
    return list(_lineage)


# (actor, data row ids) -> {data row id: label class}: what the scatter plot can be coloured by ("label class").
LabelClassSource = Callable[["User", list[Any]], dict[Any, str]]
_label_class_sources: list[LabelClassSource] = []


def register_label_class_source(source: LabelClassSource) -> LabelClassSource:
    if source not in _label_class_sources:
        _label_class_sources.append(source)
    return source


def label_classes(actor: User, row_ids: list[Any]) -> dict[Any, str]:
    classes: dict[Any, str] = {}
    for source in _label_class_sources:
        for row_id, name in source(actor, row_ids).items():
            classes.setdefault(row_id, name)
    return classes
