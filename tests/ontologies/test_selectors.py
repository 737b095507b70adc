"""Validating against a stored version (what labels, pre-labels and predictions will call)."""

from __future__ import annotations

import copy

import pytest

from apps.ontologies import selectors, services
from tests.ontologies.helpers import schema_id_of, vehicles_payload

pytestmark = pytest.mark.django_db


def test_annotations_validate_against_a_stored_version_and_the_compiled_tree_is_cached(org, org_admin):
    ontology = services.ontology_create(organization=org, actor=org_admin, **vehicles_payload())
    version = selectors.ontology_version_get(ontology=ontology)
    assert selectors.compiled_version(version) is selectors.compiled_version(version)
    annotation = {
        "name": "vehicle",
        "bbox": {"top": 1, "left": 2, "height": 3, "width": 4},
        "classifications": [{"name": "kind", "answer": {"name": "ambulance"}}],
    }
    normalized, errors = selectors.annotations_validate(version=version, annotations=[annotation], image_size=(10, 10))
    assert errors == []
    assert normalized[0]["classifications"][0]["answer"]["schema_id"] == schema_id_of(
        version.tree, "vehicle / kind / ambulance"
    )
    # A later version renames the option; labels pinned to version 1 still validate against version 1.
    tree = copy.deepcopy(version.tree)
    tree["tools"][0]["classifications"][0]["options"][1]["value"] = "paramedic"
    ontology = services.ontology_update(ontology=ontology, actor=org_admin, name="vehicles", **tree)
    v2 = selectors.ontology_version_get(ontology=ontology)
    assert v2.number == 2
    assert selectors.annotations_validate(version=version, annotations=[annotation])[1] == []
    _, errors = selectors.annotations_validate(version=v2, annotations=[annotation])
    assert "not in the list" in errors[0]["message"]
