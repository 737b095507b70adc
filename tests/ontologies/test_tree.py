"""Tree normalization and diffs (no database)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from apps.ontologies.domain import diff_trees, normalize_tree
from apps.ontologies.domain.tree import MAX_DEPTH, TEXT_MAX_LENGTH_DEFAULT


def test_defaults_are_filled_in():
    tree, errors = normalize_tree(
        {"tools": [{"name": " box ", "tool": "bbox"}], "classifications": [{"name": "t", "type": "text"}]}
    )
    assert errors == []
    assert tree["tools"][0] == {
        "schema_id": None,
        "name": "box",
        "tool": "bbox",
        "color": tree["tools"][0]["color"],
        "description": "",
        "instructions": "",
        "archived": False,
        "classifications": [],
    }
    assert tree["tools"][0]["color"].startswith("#")
    assert tree["classifications"][0]["max_length"] == TEXT_MAX_LENGTH_DEFAULT
    assert "options" not in tree["classifications"][0]


def test_option_shorthand_and_errors_with_paths():
    tree, errors = normalize_tree({"classifications": [{"name": "c", "type": "radio", "options": ["a", "b"]}]})
    assert errors == [] and [o["value"] for o in tree["classifications"][0]["options"]] == ["a", "b"]
    _, errors = normalize_tree({"tools": "nope", "classifications": [{"name": "t", "type": "text", "options": ["x"]}]})
    assert {e.path for e in errors} == {"tools", "classifications[0].options"}


def test_too_deep_trees_are_refused():
    node: dict = {"name": "c0", "type": "radio", "options": [{"value": "v"}]}
    root = node
    for i in range(1, MAX_DEPTH + 2):
        child = {"name": f"c{i}", "type": "radio", "options": [{"value": "v"}]}
        node["options"][0]["classifications"] = [child]
        node = child
    _, errors = normalize_tree({"classifications": [root]})
    assert any("deeper" in e.message for e in errors)


def test_diff_of_identical_trees_is_empty():
    tree = {"tools": [{"schema_id": "a", "name": "x", "tool": "bbox", "color": "#000000", "classifications": []}]}
    assert all(v == [] for v in diff_trees(tree, tree).values())


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=4),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=4), children, max_size=3),
    max_leaves=8,
)
node_keys = st.sampled_from(
    ["name", "tool", "type", "value", "color", "options", "classifications", "required", "archived", "schema_id"]
)
nodes = st.recursive(
    st.dictionaries(node_keys, json_values | st.sampled_from(["bbox", "radio", "text", "#00ff00", "a"]), max_size=5),
    lambda children: st.dictionaries(node_keys, st.lists(children, max_size=3) | json_values, max_size=5),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(["tools", "classifications"]), st.lists(nodes, max_size=3) | json_values))
def test_normalize_never_raises_on_arbitrary_json(payload):
    tree, errors = normalize_tree(payload)
    assert isinstance(tree["tools"], list) and isinstance(tree["classifications"], list)
    assert all(isinstance(e.path, str) and isinstance(e.message, str) for e in errors)
