"""The API.md vehicles ontology as a payload, and a compiled version of it for domain tests (no database)."""

from __future__ import annotations

import copy
import uuid
from typing import Any

from apps.ontologies.demo import VEHICLES
from apps.ontologies.domain import compile_ontology, normalize_tree, walk
from apps.ontologies.domain.validation import CompiledOntology


def vehicles_payload(**overrides: Any) -> dict[str, Any]:
    payload = copy.deepcopy(VEHICLES)
    payload.update(overrides)
    return payload


def compiled_vehicles(mutate: Any = None) -> tuple[CompiledOntology, dict[str, Any]]:
    """The vehicles tree with random schema_ids; `mutate(tree)` may change the normalized tree first."""
    payload = vehicles_payload()
    tree, errors = normalize_tree({"tools": payload["tools"], "classifications": payload["classifications"]})
    assert errors == []
    for node in walk(tree):
        node.node["schema_id"] = str(uuid.uuid4())
    if mutate is not None:
        mutate(tree)
    return compile_ontology(tree), tree


def schema_id_of(tree: dict[str, Any], path: str) -> str:
    """schema_id of the node at a name path like "vehicle / kind / ambulance"."""
    for node in walk(tree):
        if node.path == path:
            return str(node.schema_id)
    raise KeyError(path)
