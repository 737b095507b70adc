"""Pure ontology logic (no Django): tree normalization and diffs, compiling, annotation validation."""

from apps.ontologies.domain.tree import TreeError, diff_trees, normalize_tree, walk
from apps.ontologies.domain.validation import CompiledOntology, compile_ontology, validate_annotations

__all__ = [
    "CompiledOntology",
    "TreeError",
    "compile_ontology",
    "diff_trees",
    "normalize_tree",
    "validate_annotations",
    "walk",
]
