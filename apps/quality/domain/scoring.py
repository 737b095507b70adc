"""Per-feature agreement of pairs of labels of one data row (the engine behind `agreement` and `consensus`).

Every document is grouped by feature once (`documents.prepare`), not once per pair. When more than two labels have a
tool feature and its objects are few (at most `POOL_LIMIT` over all labels), their geometry is prepared and scored
all against all in one matrix call and each pair of labels reads its block; otherwise each pair computes its own
nA×nB matrix from geometry prepared once per label.

Rules for one feature of a pair (a, b) — see `agreement` for the whole list:
- present in only one label → 0;
- a tool feature: objects paired by the Hungarian assignment on the geometric score (the nested agreement only
  breaks ties, see `matching`); each pair scores
  geometric score × `classifications_agreement` of the two objects' nested classifications (1.0 when neither has
  any); feature score = Σ pair scores / max(nA, nB). The same schema_id with different tool kinds → 0, except a
  mask against a box or polygon: those are rasterised at the mask's size and scored by mask IoU;
- masks score their IoU on the COCO RLE runs (`masks.mask_iou_matrix`);
- a top-level classification: `answer_agreement`; a classification on one side and a tool on the other → 0.

Points and polylines score exp(-d²/(2σ²)) with σ = point_sigma × the image diagonal, or, when the image size is not
given (or has no positive diagonal), × the diagonal of the bounding box of every point-tool point and polyline
vertex of the two labels (all features), or × 1 when that box is degenerate (a single place, or no finite point).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from apps.quality.domain import geometry, masks
from apps.quality.domain.classifications import answer_agreement, classifications_agreement
from apps.quality.domain.documents import PreparedDocument, ToolGroup, prepare, prepare_shapes
from apps.quality.domain.matching import matched_score

POOL_LIMIT = 256  # at most this many objects of one feature over all labels are scored in one matrix

_MATRIX: dict[str, Callable[[Any, Any], geometry.FloatArray]] = {
    "bbox": geometry.box_iou_matrix,
    "polygon": geometry.polygon_iou_matrix,
    "ner": geometry.span_iou_matrix,
    "point": geometry.point_sq_distance_matrix,
    "polyline": geometry.polyline_distance_matrix,
    "mask": masks.mask_iou_matrix,
}
_MISSING: Any = object()


class _Pool:
    """One matrix over the objects of a feature in all labels that have it, and where each label's block starts."""

    __slots__ = ("matrix", "offsets")

    def __init__(self, kind: str, groups: dict[int, ToolGroup]) -> None:
        self.offsets: dict[int, int] = {}
        shapes: list[Any] = []
        for k, group in groups.items():
            self.offsets[k] = len(shapes)
            shapes += group.shapes
        everything = prepare_shapes(kind, shapes)
        self.matrix = _MATRIX[kind](everything, everything)


class PairScorer:
    """Scores pairs of documents of one data row, feature by feature."""

    def __init__(
        self,
        documents: Sequence[Sequence[dict[str, Any]]],
        *,
        image_size: tuple[float, float] | None = None,
        point_sigma: float = 0.01,
    ) -> None:
        if not (isinstance(point_sigma, int | float) and math.isfinite(point_sigma) and point_sigma > 0):
            raise ValueError(f"point_sigma must be a positive number, got {point_sigma!r}.")
        self.point_sigma = float(point_sigma)
        self.diagonal: float | None = None
        if image_size is not None:
            diagonal = math.hypot(float(image_size[0]), float(image_size[1]))
            if math.isfinite(diagonal) and diagonal > 0:
                self.diagonal = diagonal
        self.documents: list[PreparedDocument] = [prepare(d) for d in documents]
        self._pools: dict[tuple[str, str], _Pool | None] = {}

    # -- one pair ------------------------------------------------------------------------------------------------
    def features(self, i: int, j: int) -> dict[str, float]:
        """{schema_id: score} over the features present in label i or label j (first appearance order)."""
        a = self.documents[i]
        b = self.documents[j]
        tools_b = b.tools
        answers_b = b.classifications
        out: dict[str, float] = {}
        for feature in a.features:
            group_a = a.tools.get(feature)
            if group_a is None:  # a top-level classification in a
                answer_b = answers_b.get(feature, _MISSING)
                out[feature] = 0.0 if answer_b is _MISSING else answer_agreement(a.classifications[feature], answer_b)
            else:
                group_b = tools_b.get(feature)
                if group_b is not None and group_b.kind != group_a.kind and _mixed_mask(group_a, group_b):
                    scores = masks.mixed_iou_matrix(group_a.kind, group_a.shapes, group_b.kind, group_b.shapes)
                    out[feature] = self._matched(scores, group_a, group_b)
                elif group_b is None or group_b.kind != group_a.kind:
                    out[feature] = 0.0
                else:
                    out[feature] = self._tool(feature, i, j, group_a, group_b)
        for feature in b.features:
            if feature not in out:
                out[feature] = 0.0  # not in a
        return out

    def _tool(self, feature: str, i: int, j: int, a: ToolGroup, b: ToolGroup) -> float:
        kind = a.kind
        pool = self._pool(feature, kind)
        if pool is None:
            raw = _MATRIX[kind](a.geometry, b.geometry)
        else:
            row = pool.offsets[i]
            col = pool.offsets[j]
            raw = pool.matrix[row : row + a.count, col : col + b.count]
        if kind == "point":
            scores = geometry.proximity(raw, self._sigma(i, j))
        elif kind == "polyline":
            scores = geometry.proximity(raw * raw, self._sigma(i, j))
        else:
            scores = raw
        return self._matched(scores, a, b)

    def _matched(self, scores: geometry.FloatArray, a: ToolGroup, b: ToolGroup) -> float:
        weight: Callable[[int, int], float] | None = None
        if a.has_nested or b.has_nested:
            nested_a = a.nested
            nested_b = b.nested

            def weight(r: int, c: int) -> float:
                return classifications_agreement(nested_a[r], nested_b[c])

        return matched_score(scores, weight)

    def _sigma(self, i: int, j: int) -> float:
        diagonal = self.diagonal
        if diagonal is None:
            diagonal = _extent_diagonal(self.documents[i], self.documents[j])
        return self.point_sigma * diagonal

    def _pool(self, feature: str, kind: str) -> _Pool | None:
        key = (feature, kind)
        found = self._pools.get(key, _MISSING)
        if found is not _MISSING:
            return found
        groups = {}
        for k, document in enumerate(self.documents):
            group = document.tools.get(feature)
            if group is not None and group.kind == kind:
                groups[k] = group
        total = sum(g.count for g in groups.values())
        pool = _Pool(kind, groups) if len(groups) > 2 and total <= POOL_LIMIT else None
        self._pools[key] = pool
        return pool


def _mixed_mask(a: ToolGroup, b: ToolGroup) -> bool:
    """A mask against a box or polygon (an ontology that changed a feature's tool): rasterised and compared."""
    kinds = {a.kind, b.kind}
    return "mask" in kinds and kinds <= masks.RASTERISABLE


def _extent_diagonal(a: PreparedDocument, b: PreparedDocument) -> float:
    """Diagonal of the bounding box of both labels' points and polyline vertices; 1 when degenerate or empty."""
    boxes = [e for e in (a.extent, b.extent) if e is not None]
    if not boxes:
        return 1.0
    width = max(e[2] for e in boxes) - min(e[0] for e in boxes)
    height = max(e[3] for e in boxes) - min(e[1] for e in boxes)
    diagonal = math.hypot(width, height)
    return diagonal if math.isfinite(diagonal) and diagonal > 0 else 1.0


def mean_score(features: dict[str, float]) -> float:
    """The label-level agreement: the mean of the feature scores, 1.0 when neither label has any feature."""
    if not features:
        return 1.0
    return sum(features.values()) / len(features)
