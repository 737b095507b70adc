"""Consensus of the N video labels of one row (pure): the image consensus rules (`consensus.py`) with the video
agreement (`video_agreement.py`) as the pair score."""

from __future__ import annotations

from typing import Any

from apps.quality.domain.consensus import _TIE, Consensus
from apps.quality.domain.video_agreement import video_agreement


def video_consensus(
    documents: list[list[dict[str, Any]]],
    *,
    frame_count: int,
    image_size: tuple[float, float] | None = None,
    point_sigma: float = 0.01,
) -> Consensus:
    n = len(documents)
    if n == 0:
        raise ValueError("Consensus needs at least one label.")
    matrix = [[1.0] * n for _ in range(n)]
    pair_features: dict[tuple[int, int], dict[str, float]] = {}
    for i in range(n):
        for j in range(i + 1, n):
            result = video_agreement(
                documents[i], documents[j], frame_count=frame_count, image_size=image_size, point_sigma=point_sigma
            )
            pair_features[i, j] = result.features
            matrix[i][j] = matrix[j][i] = result.score
    means = [1.0] * n
    if n > 1:
        means = [(sum(row[:i]) + sum(row[i + 1 :])) / (n - 1) for i, row in enumerate(matrix)]
    best = max(means)
    winner = 0
    while means[winner] < best - _TIE:
        winner += 1
    score = sum(row[winner] for row in matrix) / n
    names = {f for features in pair_features.values() for f in features}
    breakdown = dict.fromkeys(sorted(names), 0.0)
    for i in range(n):
        features = {} if i == winner else pair_features[(i, winner) if i < winner else (winner, i)]
        for feature in breakdown:
            breakdown[feature] += features.get(feature, 1.0)
    return Consensus(
        score=score,
        winner=winner,
        label_means=means,
        matrix=matrix,
        features={f: v / n for f, v in breakdown.items()},
    )
