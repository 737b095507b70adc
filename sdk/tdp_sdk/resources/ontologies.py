"""Ontologies: create from a dict or the builder, versions, diffs, clone, archive, features."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tdp_sdk._http import route
from tdp_sdk.resources._base import Resource, body


class Ontologies(Resource):
    @route("GET", "/ontologies")
    def list(self) -> Iterator[dict[str, Any]]:
        return self._http.pages("/ontologies")

    @route("POST", "/ontologies")
    def create(self, tree: dict[str, Any] | Any) -> dict[str, Any]:
        """`tree` is the API's ontology dict (`{"name","tools","classifications"}`) or an `OntologyBuilder`."""
        payload = tree.build() if hasattr(tree, "build") else tree
        return self._http.json("POST", "/ontologies", json_body=payload)

    @route("GET", "/ontologies/{ontology_id}")
    def get(self, ontology_id: str) -> dict[str, Any]:
        return self._http.json("GET", f"/ontologies/{ontology_id}")

    @route("PUT", "/ontologies/{ontology_id}")
    def update(self, ontology_id: str, tree: dict[str, Any] | Any) -> dict[str, Any]:
        """The whole tree → a new version (features keep their schema ids by id or by name and place)."""
        payload = tree.build() if hasattr(tree, "build") else tree
        return self._http.json("PUT", f"/ontologies/{ontology_id}", json_body=payload)

    @route("GET", "/ontologies/{ontology_id}/versions")
    def versions(self, ontology_id: str) -> Iterator[dict[str, Any]]:
        return self._http.pages(f"/ontologies/{ontology_id}/versions")

    @route("GET", "/ontologies/{ontology_id}/diff")
    def diff(self, ontology_id: str, **params: Any) -> dict[str, Any]:
        """Difference between two versions (`from_version=`, `to_version=`, as the API names them)."""
        return self._http.json("GET", f"/ontologies/{ontology_id}/diff", params=params)

    @route("POST", "/ontologies/{ontology_id}/clone")
    def clone(self, ontology_id: str, name: str) -> dict[str, Any]:
        return self._http.json("POST", f"/ontologies/{ontology_id}/clone", json_body={"name": name})

    @route("POST", "/ontologies/{ontology_id}/archive")
    def archive(self, ontology_id: str) -> dict[str, Any]:
        return self._http.json("POST", f"/ontologies/{ontology_id}/archive", json_body={})

    @route("POST", "/ontologies/{ontology_id}/unarchive")
    def unarchive(self, ontology_id: str) -> dict[str, Any]:
        return self._http.json("POST", f"/ontologies/{ontology_id}/unarchive", json_body={})

    @route("GET", "/features/{schema_id}")
    def feature(self, schema_id: str) -> dict[str, Any]:
        return self._http.json("GET", f"/features/{schema_id}")

    @route("GET", "/features/{schema_id}/annotations")
    def feature_annotations(self, schema_id: str) -> Iterator[dict[str, Any]]:
        return self._http.pages(f"/features/{schema_id}/annotations")


class Classification:
    """A question: `radio`, `checklist` or `text`; options may carry nested questions."""

    def __init__(self, name: str, type: str, *, required: bool = False) -> None:
        self.name, self.type, self.required = name, type, required
        self.options: list[tuple[str, list[Classification]]] = []

    def option(self, value: str, *nested: Classification) -> Classification:
        self.options.append((value, list(nested)))
        return self

    def build(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "type": self.type}
        if self.required:
            out["required"] = True
        if self.type != "text":
            out["options"] = [
                body(value=value, classifications=[c.build() for c in nested] or None) for value, nested in self.options
            ]
        return out


class OntologyBuilder:
    """Build an ontology in code: `OntologyBuilder("vehicles").tool("car", "bbox", color="#f00").build()`."""

    def __init__(self, name: str, description: str = "") -> None:
        self.name, self.description = name, description
        self.tools: list[dict[str, Any]] = []
        self.classifications: list[Classification] = []

    def tool(
        self, name: str, kind: str, *, color: str | None = None, questions: list[Classification] | None = None
    ) -> OntologyBuilder:
        self.tools.append(
            body(name=name, tool=kind, color=color, classifications=[q.build() for q in questions or []] or None)
        )
        return self

    def question(self, classification: Classification) -> OntologyBuilder:
        self.classifications.append(classification)
        return self

    def build(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "tools": self.tools,
            "classifications": [c.build() for c in self.classifications],
        }
