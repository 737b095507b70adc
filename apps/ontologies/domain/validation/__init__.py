"""The one annotation validator: labels, pre-labels, predictions and imports all come through here.

`compile_ontology(tree)` turns a normalized ontology version into lookup tables once (cache the result per
version: versions are immutable). `validate_annotations(compiled, annotations, ...)` checks a list of annotations in
the API.md format and returns `(normalized, errors)`:

- `normalized[i]` is the normalized annotation `i` (features referenced by `schema_id`, names kept) or `None` when
  that annotation has an error;
- `errors` is a list of `{"index": i, "path": "annotations[i]....", "message": "..."}`, sorted by index.

Speed: per annotation the work is a few dict lookups and one output dict; box coordinates are checked in bulk with
numpy after the loop, polygons with shapely's array functions.

The package, by concern: `compiled` (the ontology as lookup tables), `base` (the validator's state and error list),
`classifications` (feature lookup and answers), `geometry` (points, lines, NER spans and the bulk box/polygon checks),
`tools` (one annotation: the tool kinds and top-level classifications), `validator` (the fast path and
`validate_annotations`).
"""

from apps.ontologies.domain.validation.compiled import (
    GEOMETRY_KEYS,
    CompiledClassification,
    CompiledOntology,
    CompiledOption,
    CompiledScope,
    CompiledTool,
    compile_ontology,
)
from apps.ontologies.domain.validation.geometry import box_checks
from apps.ontologies.domain.validation.validator import validate_annotations

__all__ = [
    "GEOMETRY_KEYS",
    "CompiledClassification",
    "CompiledOntology",
    "CompiledOption",
    "CompiledScope",
    "CompiledTool",
    "box_checks",
    "compile_ontology",
    "validate_annotations",
]
