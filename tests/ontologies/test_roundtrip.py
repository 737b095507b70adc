"""Property: a valid ontology round-trips create → get → clone unchanged except ids (and filled-in defaults)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.ontologies.domain.tree import CLASSIFICATION_TYPES, TOOL_KINDS

pytestmark = pytest.mark.django_db

printable = st.characters(blacklist_categories=("Cs", "Cc"))  # NUL is refused with a 400 (see test_api)
names = st.text(alphabet=printable, min_size=1, max_size=12).filter(lambda s: s.strip() == s and s != "")
texts = st.text(alphabet=printable, max_size=20)


def unique_by(key: str):
    return lambda items: len({i[key] for i in items}) == len(items)


def classification_strategy(depth: int) -> st.SearchStrategy[dict[str, Any]]:
    children = (
        st.lists(classification_strategy(depth - 1), max_size=2).filter(unique_by("name")) if depth > 0 else st.just([])
    )
    option = st.fixed_dictionaries(
        {"value": names, "description": texts, "archived": st.booleans(), "classifications": children}
    )
    choice = st.fixed_dictionaries(
        {
            "name": names,
            "type": st.sampled_from(["radio", "checklist"]),
            "required": st.booleans(),
            "description": texts,
            "instructions": texts,
            "archived": st.booleans(),
            "options": st.lists(option, min_size=1, max_size=3).filter(unique_by("value")),
        }
    )
    text = st.fixed_dictionaries(
        {
            "name": names,
            "type": st.just("text"),
            "required": st.booleans(),
            "description": texts,
            "instructions": texts,
            "archived": st.booleans(),
            "max_length": st.integers(1, 5000),
        }
    )
    return st.one_of(choice, text)


tool_strategy = st.fixed_dictionaries(
    {
        "name": names,
        "tool": st.sampled_from(TOOL_KINDS),
        "color": st.from_regex(r"\A#[0-9a-f]{6}\Z"),
        "description": texts,
        "instructions": texts,
        "archived": st.booleans(),
        "classifications": st.lists(classification_strategy(2), max_size=2).filter(unique_by("name")),
    }
)
tree_strategy = st.tuples(st.lists(tool_strategy, max_size=3), st.lists(classification_strategy(1), max_size=3)).filter(
    lambda t: (t[0] or t[1]) and len({x["name"] for x in t[0] + t[1]}) == len(t[0]) + len(t[1])
)


def strip_ids(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: strip_ids(v) for k, v in node.items() if k != "schema_id"}
    if isinstance(node, list):
        return [strip_ids(v) for v in node]
    return node


def test_classification_types_cover_the_strategy():
    assert set(CLASSIFICATION_TYPES) == {"radio", "checklist", "text"}


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(tree=tree_strategy)
def test_create_get_clone_round_trip(org_admin, client_for, tree):
    tools, classifications = tree
    client = client_for(org_admin)
    payload = {"name": f"o-{uuid.uuid4()}", "description": "d", "tools": tools, "classifications": classifications}
    created = client.post("/api/v1/ontologies", payload, format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    # Everything sent comes back as sent, plus a schema_id on every node.
    assert strip_ids(body["tools"]) == tools
    assert strip_ids(body["classifications"]) == classifications
    fetched = client.get(f"/api/v1/ontologies/{body['id']}").json()
    assert fetched == body
    clone = client.post(f"/api/v1/ontologies/{body['id']}/clone", {"name": "copy"}, format="json").json()
    assert clone["tools"] == body["tools"] and clone["classifications"] == body["classifications"]
    assert clone["id"] != body["id"]
    # Sending the tree back unchanged is not a change.
    again = client.put(f"/api/v1/ontologies/{body['id']}", fetched, format="json")
    assert again.status_code == 200 and again.json()["version"] == 1
