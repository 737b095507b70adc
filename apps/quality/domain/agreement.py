"""Agreement of two labels of the same data row: a score in [0, 1] and its per-feature breakdown.

A label is its normalized annotation document (`Label.annotations`, the output of the ontology validator).

**Label score** — the mean of the feature scores over the features (schema_ids of top-level tools and top-level
classifications) present in either label. A feature present in only one label scores 0. Two empty labels agree
completely: score 1.0 with an empty breakdown (they are identical; there is nothing to disagree on).

**Tool features** — the objects of the feature in A and in B are paired one-to-one by the Hungarian assignment that
maximises the total *geometric* score; an unpaired object scores 0; the feature score is Σ pair scores / max(nA, nB).
Geometric scores (see `geometry`):
- bbox, polygon: IoU (an invalid polygon is repaired with make_valid; a degenerate one has IoU 0);
- ner: IoU of the character intervals [start, end);
- mask: IoU of the pixel masks, computed on their COCO RLE runs; a mask against a box or polygon of the same
  feature (a changed tool) rasterises the box/polygon at the mask's size as pycocotools does;
- point: exp(-d²/(2σ²)); polyline: the same with d = symmetric mean nearest-point distance;
  σ = point_sigma × image diagonal; without an image size, × the diagonal of the bounding box of all point-tool
  points and polyline vertices of both labels, or × 1 when that box is degenerate.

**Nested classifications** — one rule at every level: a matched parent's score is multiplied by the agreement of its
children. For a paired object: pair score = geometric score × classification agreement, where classification
agreement is the mean answer agreement over the nested classification features present in either object (a feature
answered by one object only scores 0; 1.0 if neither object has nested classifications). The pairing itself uses
the geometric score only; the nested agreement is applied after pairing. It only breaks ties: among pairings with
the same geometric total, the one with the best nested agreement is used (so a label always agrees 1.0 with itself,
even with two identical boxes that carry different answers).

**Answers** (top-level or nested; see `classifications`):
- radio: different options → 0; the same option → 1 × the agreement of the questions nested under that option
  (1.0 when there are none);
- checklist: Σ over options chosen by both of their nested agreement (1 without nested questions) / |options chosen
  by either| — the Jaccard index; both empty → 1.0;
- text: 1 if equal after collapsing whitespace, trimming and casefolding, else 0.

Malformed documents (an item that is neither a tool object nor a classification, a schema_id used by two tools or by
a tool and a classification in one label) raise `ValueError`. Bad coordinates never raise: a shape that cannot be
used (NaN, too few points, zero area) matches nothing. agreement(a, b) = agreement(b, a), and agreement(a, a) = 1.0
as long as every shape of `a` has an area (boxes, polygons) or a length (spans).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from apps.quality.domain.scoring import PairScorer, mean_score


@dataclass(frozen=True)
class Agreement:
    score: float
    features: dict[str, float]


def agreement(
    a: list[dict[str, Any]],
    b: list[dict[str, Any]],
    *,
    image_size: tuple[float, float] | None = None,
    point_sigma: float = 0.01,
) -> Agreement:
    """Agreement of label `a` with label `b` (the rules are in the module docstring).

    `image_size` is (width, height) in pixels when known; `point_sigma` is the fraction of the image diagonal used as
    σ for points and polylines (the project's `quality.point_sigma`). A benchmark score is
    `agreement(label, reference).score`.
    """
    features = PairScorer([a, b], image_size=image_size, point_sigma=point_sigma).features(0, 1)
    return Agreement(score=mean_score(features), features=features)
