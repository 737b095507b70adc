"""Consensus of the N labels of one data row.

- `matrix[i][j]` = agreement(label i, label j).score: symmetric, diagonal 1.0 (each pair is scored once, i < j).
- `label_means[i]` = the mean of row i without the diagonal (its mean agreement with the other labels); N=1 → [1.0].
- `winner` = the label with the highest mean; ties (within 1e-12, so float rounding cannot reorder equal means) go
  to the earliest index.
- `score` = Σᵢ agreement(labelᵢ, winner) / N, the winner counting agreement 1 with itself. Labels {A, A, B} that
  differ on one radio score (1 + 1 + 0) / 3 = 2/3.
- `features[f]` = Σᵢ sᵢ / N over every feature present in any label, where sᵢ is the score of feature f between label
  i and the winner: the pair's feature score when either of the two has f (0 if only one has it), 1.0 when neither
  has it (they agree it is absent), 1.0 for the winner itself.

N=0 raises ValueError; N=1 gives score 1.0, winner 0, matrix [[1.0]] and 1.0 for each of its features.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from apps.quality.domain.scoring import PairScorer, mean_score

_TIE = 1e-12


@dataclass(frozen=True)
class Consensus:
    score: float
    winner: int
    label_means: list[float]
    matrix: list[list[float]]
    features: dict[str, float]


def consensus(
    documents: list[list[dict[str, Any]]],
    *,
    image_size: tuple[float, float] | None = None,
    point_sigma: float = 0.01,
) -> Consensus:
    """Consensus of the labels `documents` of one data row (rules in the module docstring)."""
    n = len(documents)
    if n == 0:
        raise ValueError("Consensus needs at least one label.")
    scorer = PairScorer(documents, image_size=image_size, point_sigma=point_sigma)
    matrix = [[1.0] * n for _ in range(n)]
    pair_features: dict[tuple[int, int], dict[str, float]] = {}
    for i in range(n):
        for j in range(i + 1, n):
            features = scorer.features(i, j)
            pair_features[i, j] = features
            matrix[i][j] = matrix[j][i] = mean_score(features)
    means = [1.0] * n
    if n > 1:
        for i, row in enumerate(matrix):
            means[i] = (sum(row[:i]) + sum(row[i + 1 :])) / (n - 1)
    best = max(means)
    winner = 0
    while means[winner] < best - _TIE:
        winner += 1
    score = sum(row[winner] for row in matrix) / n

    breakdown: dict[str, float] = {}
    for document in scorer.documents:
        for feature in document.features:
            if feature not in breakdown:
                breakdown[feature] = 0.0
    for i in range(n):
        if i == winner:
            for feature in breakdown:
                breakdown[feature] += 1.0
            continue
        features = pair_features[(i, winner) if i < winner else (winner, i)]
        for feature in breakdown:
            breakdown[feature] += features.get(feature, 1.0)
    for feature in breakdown:
        breakdown[feature] /= n
    return Consensus(score=score, winner=winner, label_means=means, matrix=matrix, features=breakdown)
