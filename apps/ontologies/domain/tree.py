"""The ontology tree: shape checks and normalization of the API payload, flattening and diffs. No Django here.

A normalized tree is `{"tools": [...], "classifications": [...]}` where every node carries all of its fields:

- tool: `schema_id, name, tool, color, description, instructions, archived, classifications`
- classification: `schema_id, name, type, required, description, instructions, archived` plus `options`
  (radio/checklist) or `max_length` (text)
- option: `schema_id, value, description, archived, classifications`

`schema_id` is `None` on nodes that do not have one yet (the service assigns them).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

TOOL_KINDS: tuple[str, ...] = ("bbox", "polygon", "polyline", "point", "ner", "mask")
CLASSIFICATION_TYPES: tuple[str, ...] = ("radio", "checklist", "text")
NAME_MAX_LENGTH = 200
TEXT_MAX_LENGTH_DEFAULT = 10_000
TEXT_MAX_LENGTH_LIMIT = 1_000_000
DESCRIPTION_MAX_LENGTH = 10_000
MAX_DEPTH = 16
MAX_NODES = 10_000
PALETTE: tuple[str, ...] = (
    "#e6194b",
    "#3cb44b",
    "#4363d8",
    "#f58231",
    "#911eb4",
    "#46f0f0",
    "#f032e6",
    "#bcf60c",
    "#008080",
    "#9a6324",
)
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")

_TOOL_KEYS = frozenset(
    {"schema_id", "name", "tool", "color", "description", "instructions", "archived", "classifications"}
)
_CLASSIFICATION_KEYS = frozenset(
    {"schema_id", "name", "type", "required", "description", "instructions", "archived", "options", "max_length"}
)
_OPTION_KEYS = frozenset({"schema_id", "value", "description", "archived", "classifications"})

Tree = dict[str, list[dict[str, Any]]]


@dataclass(frozen=True)
class TreeError:
    path: str
    message: str


class _Normalizer:
    def __init__(self) -> None:
        self.errors: list[TreeError] = []
        self.nodes = 0
        self.schema_ids: set[str] = set()

    def error(self, path: str, message: str) -> None:
        self.errors.append(TreeError(path, message))

    # -- field helpers -------------------------------------------------------------------------------------------
    def _unknown(self, node: dict[str, Any], allowed: frozenset[str], path: str) -> None:
        for key in sorted(set(node) - allowed, key=str):
            self.error(f"{path}.{key}", "Unknown field.")

    def _name(self, node: dict[str, Any], key: str, path: str) -> str:
        value = node.get(key)
        if not isinstance(value, str) or not value.strip():
            self.error(f"{path}.{key}", "A non-empty string is required.")
            return ""
        value = value.strip()
        if len(value) > NAME_MAX_LENGTH:
            self.error(f"{path}.{key}", f"At most {NAME_MAX_LENGTH} characters.")
        if "\x00" in value:
            self.error(f"{path}.{key}", "Must not contain NUL characters.")
        return value

    def _text(self, node: dict[str, Any], key: str, path: str) -> str:
        value = node.get(key, "")
        if value is None:
            return ""
        if not isinstance(value, str):
            self.error(f"{path}.{key}", "Must be a string.")
            return ""
        if len(value) > DESCRIPTION_MAX_LENGTH:
            self.error(f"{path}.{key}", f"At most {DESCRIPTION_MAX_LENGTH} characters.")
        if "\x00" in value:
            self.error(f"{path}.{key}", "Must not contain NUL characters.")
        return value

    def _bool(self, node: dict[str, Any], key: str, path: str) -> bool:
        value = node.get(key, False)
        if not isinstance(value, bool):
            self.error(f"{path}.{key}", "Must be true or false.")
            return False
        return value

    def _schema_id(self, node: dict[str, Any], path: str) -> str | None:
        value = node.get("schema_id")
        if value is None:
            return None
        try:
            parsed = str(uuid.UUID(str(value)))
        except (ValueError, AttributeError, TypeError):
            self.error(f"{path}.schema_id", "Must be a UUID.")
            return None
        if not isinstance(value, str):
            self.error(f"{path}.schema_id", "Must be a UUID string.")
            return None
        if parsed in self.schema_ids:
            self.error(f"{path}.schema_id", "This schema_id is used by another node of the tree.")
            return None
        self.schema_ids.add(parsed)
        return parsed

    def _list(self, node: dict[str, Any], key: str, path: str) -> list[Any]:
        value = node.get(key, [])
        if value is None:
            return []
        if not isinstance(value, list):
            self.error(f"{path}.{key}", "Must be a list.")
            return []
        return value

    def _count(self, path: str, depth: int) -> bool:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            if self.nodes == MAX_NODES + 1:
                self.error(path, f"An ontology has at most {MAX_NODES} nodes.")
            return False
        if depth > MAX_DEPTH:
            self.error(path, f"Nesting deeper than {MAX_DEPTH} levels is not supported.")
            return False
        return True

    def _unique(self, names: list[tuple[str, str]], what: str) -> None:
        seen: set[str] = set()
        for name, path in names:
            if not name:
                continue
            if name in seen:
                self.error(path, f"Another {what} here has the name {name!r}.")
            seen.add(name)

    # -- nodes ---------------------------------------------------------------------------------------------------
    def tool(self, raw: Any, path: str, index: int) -> dict[str, Any] | None:
        if not isinstance(raw, dict):
            self.error(path, "Must be an object.")
            return None
        if not self._count(path, 1):
            return None
        self._unknown(raw, _TOOL_KEYS, path)
        kind = raw.get("tool")
        if kind not in TOOL_KINDS:
            self.error(f"{path}.tool", f"Must be one of: {', '.join(TOOL_KINDS)}.")
        color = raw.get("color")
        if color is None or color == "":
            color = PALETTE[index % len(PALETTE)]
        elif not isinstance(color, str) or not _COLOR.match(color):
            self.error(f"{path}.color", "Must be a color like #ff0000.")
            color = PALETTE[0]
        return {
            "schema_id": self._schema_id(raw, path),
            "name": self._name(raw, "name", path),
            "tool": kind if isinstance(kind, str) else "",
            "color": color.lower(),
            "description": self._text(raw, "description", path),
            "instructions": self._text(raw, "instructions", path),
            "archived": self._bool(raw, "archived", path),
            "classifications": self.classifications(self._list(raw, "classifications", path), path, 2),
        }

    def classifications(self, raws: list[Any], parent_path: str, depth: int) -> list[dict[str, Any]]:
        result = []
        for i, raw in enumerate(raws):
            node = self.classification(
                raw, f"{parent_path}.classifications[{i}]" if parent_path else f"classifications[{i}]", depth
            )
            if node is not None:
                result.append(node)
        self._unique(
            [(n["name"], f"{parent_path}.classifications[{i}].name".lstrip(".")) for i, n in enumerate(result)],
            "classification",
        )
        return result

    def classification(self, raw: Any, path: str, depth: int) -> dict[str, Any] | None:
        if not isinstance(raw, dict):
            self.error(path, "Must be an object.")
            return None
        if not self._count(path, depth):
            return None
        self._unknown(raw, _CLASSIFICATION_KEYS, path)
        kind = raw.get("type")
        if kind not in CLASSIFICATION_TYPES:
            self.error(f"{path}.type", f"Must be one of: {', '.join(CLASSIFICATION_TYPES)}.")
        node: dict[str, Any] = {
            "schema_id": self._schema_id(raw, path),
            "name": self._name(raw, "name", path),
            "type": kind if isinstance(kind, str) else "",
            "required": self._bool(raw, "required", path),
            "description": self._text(raw, "description", path),
            "instructions": self._text(raw, "instructions", path),
            "archived": self._bool(raw, "archived", path),
        }
        if kind == "text":
            if raw.get("options"):
                self.error(f"{path}.options", "A text classification has no options.")
            max_length = raw.get("max_length", TEXT_MAX_LENGTH_DEFAULT)
            if max_length is None:
                max_length = TEXT_MAX_LENGTH_DEFAULT
            if (
                not isinstance(max_length, int)
                or isinstance(max_length, bool)
                or not 1 <= max_length <= TEXT_MAX_LENGTH_LIMIT
            ):
                self.error(f"{path}.max_length", f"Must be an integer from 1 to {TEXT_MAX_LENGTH_LIMIT}.")
                max_length = TEXT_MAX_LENGTH_DEFAULT
            node["max_length"] = max_length
        else:
            if raw.get("max_length") is not None:
                self.error(f"{path}.max_length", "Only text classifications have a max_length.")
            options = []
            raw_options = self._list(raw, "options", path)
            if kind in ("radio", "checklist") and not raw_options:
                self.error(f"{path}.options", f"A {kind} classification needs at least one option.")
            for i, raw_option in enumerate(raw_options):
                option = self.option(raw_option, f"{path}.options[{i}]", depth + 1)
                if option is not None:
                    options.append(option)
            self._unique([(o["value"], f"{path}.options[{i}].value") for i, o in enumerate(options)], "option")
            node["options"] = options
        return node

    def option(self, raw: Any, path: str, depth: int) -> dict[str, Any] | None:
        if isinstance(raw, str):  # shorthand: "police" is {"value": "police"}
            raw = {"value": raw}
        if not isinstance(raw, dict):
            self.error(path, "Must be an object.")
            return None
        if not self._count(path, depth):
            return None
        self._unknown(raw, _OPTION_KEYS, path)
        return {
            "schema_id": self._schema_id(raw, path),
            "value": self._name(raw, "value", path),
            "description": self._text(raw, "description", path),
            "archived": self._bool(raw, "archived", path),
            "classifications": self.classifications(self._list(raw, "classifications", path), path, depth + 1),
        }


def normalize_tree(payload: dict[str, Any]) -> tuple[Tree, list[TreeError]]:
    """Check the shape of `{"tools": [...], "classifications": [...]}` and fill every default.

    Returns the normalized tree and the list of errors (empty when valid). Tool names and top-level classification
    names share one namespace, since annotations reference both by name at the top level.
    """
    normalizer = _Normalizer()
    tools_raw = payload.get("tools", [])
    classifications_raw = payload.get("classifications", [])
    tools: list[dict[str, Any]] = []
    if tools_raw is None:
        tools_raw = []
    if not isinstance(tools_raw, list):
        normalizer.error("tools", "Must be a list.")
        tools_raw = []
    if classifications_raw is None:
        classifications_raw = []
    if not isinstance(classifications_raw, list):
        normalizer.error("classifications", "Must be a list.")
        classifications_raw = []
    for i, raw in enumerate(tools_raw):
        tool = normalizer.tool(raw, f"tools[{i}]", i)
        if tool is not None:
            tools.append(tool)
    classifications = normalizer.classifications(classifications_raw, "", 1)
    normalizer._unique(
        [(t["name"], f"tools[{i}].name") for i, t in enumerate(tools)]
        + [(c["name"], f"classifications[{i}].name") for i, c in enumerate(classifications)],
        "top-level tool or classification",
    )
    return {"tools": tools, "classifications": classifications}, normalizer.errors


# -- walking ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FlatNode:
    """One node of a tree with where it sits: `parent` is the parent's schema_id (None at the top)."""

    schema_id: str | None
    kind: str  # "tool" | "classification" | "option"
    subtype: str  # tool kind, classification type, "" for options
    name: str
    parent: str | None
    index: int
    path: str  # human path of names, e.g. "vehicle / kind / ambulance"
    json_path: str  # e.g. "tools[0].classifications[0].options[1]"
    node: dict[str, Any]


def walk(tree: Tree) -> Iterator[FlatNode]:
    """Every node, parents before children. A parent's schema_id is read after it was yielded, so a caller may
    assign schema_ids while walking and the children see their parent's."""

    def classifications(
        items: list[dict[str, Any]], parent: dict[str, Any] | None, prefix: str, jprefix: str
    ) -> Iterator[FlatNode]:
        for i, c in enumerate(items):
            path = f"{prefix}{c['name']}"
            jpath = f"{jprefix}classifications[{i}]"
            parent_id = parent.get("schema_id") if parent is not None else None
            yield FlatNode(c.get("schema_id"), "classification", c["type"], c["name"], parent_id, i, path, jpath, c)
            for j, o in enumerate(c.get("options", [])):
                opath = f"{path} / {o['value']}"
                ojpath = f"{jpath}.options[{j}]"
                yield FlatNode(o.get("schema_id"), "option", "", o["value"], c.get("schema_id"), j, opath, ojpath, o)
                yield from classifications(o.get("classifications", []), o, f"{opath} / ", f"{ojpath}.")

    for i, t in enumerate(tree.get("tools", [])):
        yield FlatNode(t.get("schema_id"), "tool", t["tool"], t["name"], None, i, t["name"], f"tools[{i}]", t)
        yield from classifications(t.get("classifications", []), t, f"{t['name']} / ", f"tools[{i}].")
    yield from classifications(tree.get("classifications", []), None, "", "")


def tree_schema_ids(tree: Tree) -> list[str]:
    return [n.schema_id for n in walk(tree) if n.schema_id]


_COMPARED = ("required", "description", "instructions", "max_length")


def diff_trees(old: Tree, new: Tree) -> dict[str, list[dict[str, Any]]]:
    """What changed between two normalized trees, matched by schema_id.

    Keys: added, removed, renamed, recolored, archived, unarchived, moved (other parent), reordered (same parent,
    other position), changed (required/description/instructions/max_length). Each item names the schema_id.
    """
    before = {n.schema_id: n for n in walk(old) if n.schema_id}
    after = {n.schema_id: n for n in walk(new) if n.schema_id}
    result: dict[str, list[dict[str, Any]]] = {
        key: []
        for key in (
            "added",
            "removed",
            "renamed",
            "recolored",
            "archived",
            "unarchived",
            "moved",
            "reordered",
            "changed",
        )
    }

    def ref(n: FlatNode) -> dict[str, Any]:
        return {"schema_id": n.schema_id, "kind": n.kind, "name": n.name, "path": n.path}

    for sid, n in after.items():
        if sid not in before:
            result["added"].append(ref(n))
            continue
        o = before[sid]
        if o.name != n.name:
            result["renamed"].append({**ref(n), "from": o.name, "to": n.name})
        if n.kind == "tool" and o.node.get("color") != n.node.get("color"):
            result["recolored"].append({**ref(n), "from": o.node.get("color"), "to": n.node.get("color")})
        if o.node.get("archived") != n.node.get("archived"):
            result["archived" if n.node.get("archived") else "unarchived"].append(ref(n))
        if o.parent != n.parent:
            result["moved"].append({**ref(n), "from_parent": o.parent, "to_parent": n.parent, "from_path": o.path})
        elif o.index != n.index:
            result["reordered"].append({**ref(n), "from": o.index, "to": n.index})
        changes = {k: {"from": o.node.get(k), "to": n.node.get(k)} for k in _COMPARED if o.node.get(k) != n.node.get(k)}
        if changes:
            result["changed"].append({**ref(n), "fields": changes})
    for sid, o in before.items():
        if sid not in after:
            result["removed"].append(ref(o))
    return result
