"""What saving a tree would change, before it is saved (the admin editor's "review changes" step). No Django here.

`provisional_ids` gives the nodes without a schema_id the one `ontology_update` would give them (the node with the
same name, kind and type under the same parent in the current version) or a placeholder `new:<n>`, so the version
diff (`diff_trees`) can be shown for an unsaved tree exactly as it will be stored.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from apps.ontologies.domain.tree import Tree, walk

NEW_PREFIX = "new:"


def provisional_ids(tree: Tree, previous: Tree | None) -> Tree:
    """A copy of the normalized `tree` where every node has a schema_id (see the module docstring)."""
    result = copy.deepcopy(tree)
    by_place: dict[tuple[str | None, str, str, str], str] = {}
    if previous is not None:
        for old in walk(previous):
            if old.schema_id:
                by_place.setdefault((old.parent, old.kind, old.subtype, old.name), old.schema_id)
    claimed = {n.schema_id for n in walk(result) if n.schema_id}
    counter = 0
    for node in walk(result):  # parents first: children see their parent's (provisional) id
        if node.schema_id is not None:
            continue
        candidate = by_place.get((node.parent, node.kind, node.subtype, node.name))
        if candidate is not None and candidate not in claimed:
            schema_id = candidate
        else:
            counter += 1
            schema_id = f"{NEW_PREFIX}{counter}"
        node.node["schema_id"] = schema_id
        claimed.add(schema_id)
    return result


def removed_schema_ids(current: Tree, new: Tree) -> dict[str, Any]:
    """schema_id → the FlatNode of the current version that `new` (with provisional ids) no longer has."""
    kept = {n.schema_id for n in walk(new) if n.schema_id}
    return {n.schema_id: n for n in walk(current) if n.schema_id and n.schema_id not in kept}


def in_use_features(removed: Mapping[str, Any], in_use: Mapping[str, int]) -> list[dict[str, Any]]:
    """The removed features that labels use, by path, as the API's 409 `details.features` lists them."""
    return [
        {"schema_id": sid, "name": removed[sid].name, "path": removed[sid].path, "labels": count}
        for sid, count in sorted(in_use.items(), key=lambda item: removed[item[0]].path)
    ]


def in_use_message(features: Sequence[Mapping[str, Any]], total: int) -> str:
    """The sentence of the API's 409 `feature_in_use` (and of the admin editor)."""
    names = ", ".join(repr(f["path"]) for f in features[:5])
    return f'{total} label(s) use feature(s) this change removes ({names}); archive them instead ("archived": true).'


def diff_lines(diff: Mapping[str, Sequence[Mapping[str, Any]]]) -> list[tuple[str, str]]:
    """(kind, human text) per change of a `diff_trees` answer, for pages."""
    rows: list[tuple[str, str]] = []
    for key, items in diff.items():
        if key in ("from", "to") or not isinstance(items, list):
            continue
        for item in items:
            if key == "renamed":
                text = f"{item['from']} → {item['to']}"
            elif key == "recolored":
                text = f"{item['path']}: {item['from']} → {item['to']}"
            elif key == "moved":
                text = f"{item['from_path']} → {item['path']}"
            elif key == "reordered":
                text = f"{item['path']}: position {item['from'] + 1} → {item['to'] + 1}"
            elif key == "changed":
                fields = ", ".join(sorted(item.get("fields", {})))
                text = f"{item['path']} ({fields})"
            else:
                text = item["path"]
            rows.append((key, text))
    return rows
