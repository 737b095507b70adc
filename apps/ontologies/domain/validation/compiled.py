"""The compiled ontology: a normalized version turned into lookup tables once (versions are immutable)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from apps.ontologies.domain.tree import TEXT_MAX_LENGTH_DEFAULT, Tree

GEOMETRY_KEYS: dict[str, str] = {
    "bbox": "bbox",
    "polygon": "polygon",
    "polyline": "line",
    "point": "point",
    "ner": "location",
    "mask": "mask",
}


@dataclass(eq=False)
class CompiledOption:
    schema_id: str
    value: str
    archived: bool
    scope: CompiledScope
    where: str


@dataclass(eq=False)
class CompiledClassification:
    schema_id: str
    name: str
    type: str
    required: bool
    archived: bool
    max_length: int
    options_by_value: dict[str, CompiledOption]
    options_by_id: dict[str, CompiledOption]
    where: str

    fast: bool = False  # answers can take the fast path (an active radio); set by compile_ontology


@dataclass(eq=False)
class CompiledScope:
    """The classifications allowed under one parent (a tool, an option, or the top level)."""

    by_name: dict[str, CompiledClassification] = field(default_factory=dict)
    by_id: dict[str, CompiledClassification] = field(default_factory=dict)
    required: tuple[CompiledClassification, ...] = ()


@dataclass(eq=False)
class CompiledTool:
    schema_id: str
    name: str
    tool: str
    geometry_key: str
    archived: bool
    color: str
    scope: CompiledScope


@dataclass(eq=False)
class CompiledOntology:
    tools_by_name: dict[str, CompiledTool]
    tools_by_id: dict[str, CompiledTool]
    top: CompiledScope
    # Where every nested feature lives, to explain "nested under the wrong parent" errors.
    nested_by_name: dict[str, str]
    nested_by_id: dict[str, str]
    schema_ids: frozenset[str]


def _compile_scope(
    items: list[dict[str, Any]], where: str, nested_by_name: dict[str, str], nested_by_id: dict[str, str], top: bool
) -> CompiledScope:
    scope = CompiledScope()
    for c in items:
        cwhere = f"{where} / {c['name']}" if where else c["name"]
        options_by_value: dict[str, CompiledOption] = {}
        options_by_id: dict[str, CompiledOption] = {}
        for o in c.get("options", []):
            owhere = f"{cwhere} / {o['value']}"
            option = CompiledOption(
                schema_id=str(o["schema_id"]),
                value=o["value"],
                archived=bool(o.get("archived")),
                scope=_compile_scope(o.get("classifications", []), owhere, nested_by_name, nested_by_id, False),
                where=owhere,
            )
            options_by_value[option.value] = option
            options_by_id[option.schema_id] = option
        compiled = CompiledClassification(
            schema_id=str(c["schema_id"]),
            name=c["name"],
            type=c["type"],
            required=bool(c.get("required")),
            archived=bool(c.get("archived")),
            max_length=int(c.get("max_length") or TEXT_MAX_LENGTH_DEFAULT),
            options_by_value=options_by_value,
            options_by_id=options_by_id,
            where=cwhere,
        )
        compiled.fast = compiled.type == "radio" and not compiled.archived
        scope.by_name[compiled.name] = compiled
        scope.by_id[compiled.schema_id] = compiled
        if not top:
            nested_by_name.setdefault(compiled.name, where)
            nested_by_id.setdefault(compiled.schema_id, where)
    scope.required = tuple(c for c in scope.by_name.values() if c.required and not c.archived)
    return scope


def compile_ontology(tree: Tree) -> CompiledOntology:
    """Lookup tables for a normalized tree whose nodes all have schema_ids (an OntologyVersion's snapshot)."""
    nested_by_name: dict[str, str] = {}
    nested_by_id: dict[str, str] = {}
    tools_by_name: dict[str, CompiledTool] = {}
    tools_by_id: dict[str, CompiledTool] = {}
    for t in tree.get("tools", []):
        tool = CompiledTool(
            schema_id=str(t["schema_id"]),
            name=t["name"],
            tool=t["tool"],
            geometry_key=GEOMETRY_KEYS[t["tool"]],
            archived=bool(t.get("archived")),
            color=t.get("color", ""),
            scope=_compile_scope(t.get("classifications", []), t["name"], nested_by_name, nested_by_id, False),
        )
        tools_by_name[tool.name] = tool
        tools_by_id[tool.schema_id] = tool
    top = _compile_scope(tree.get("classifications", []), "", nested_by_name, nested_by_id, True)
    schema_ids = frozenset(
        [
            *tools_by_id,
            *top.by_id,
            *nested_by_id,
            *_option_ids(top),
            *(i for t in tools_by_id.values() for i in _option_ids(t.scope)),
        ]
    )
    return CompiledOntology(tools_by_name, tools_by_id, top, nested_by_name, nested_by_id, schema_ids)


def _option_ids(scope: CompiledScope) -> list[str]:
    ids: list[str] = []
    for c in scope.by_id.values():
        for o in c.options_by_id.values():
            ids.append(o.schema_id)
            ids.extend(_option_ids(o.scope))
    return ids
