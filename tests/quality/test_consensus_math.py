"""Consensus of the labels of one data row, against values computed by hand. Pure: no database."""

from __future__ import annotations

import random
from typing import Any

import pytest

from apps.quality.domain import consensus as consensus_module
from apps.quality.domain import scoring
from apps.quality.domain.agreement import agreement
from apps.quality.domain.consensus import Consensus, consensus

RADIO = "f-radio"
TEXT = "f-text"
BOX = "f-box"
POINT = "f-point"


def radio(choice: str) -> dict[str, Any]:
    return {"schema_id": RADIO, "name": "weather", "answer": {"schema_id": choice, "name": choice}}


def text(value: str) -> dict[str, Any]:
    return {"schema_id": TEXT, "name": "note", "answer": value}


def box(left: float, top: float, width: float, height: float) -> dict[str, Any]:
    return {
        "schema_id": BOX,
        "name": "car",
        "tool": "bbox",
        "bbox": {"top": top, "left": left, "height": height, "width": width},
        "classifications": [],
    }


def point(x: float, y: float) -> dict[str, Any]:
    return {"schema_id": POINT, "name": "wheel", "tool": "point", "point": {"x": x, "y": y}, "classifications": []}


def test_two_equal_labels_and_one_different_on_a_radio_score_two_thirds() -> None:
    a, b = [radio("sunny")], [radio("rainy")]
    result = consensus([a, a, b])
    assert result.score == pytest.approx(2 / 3)
    assert result.winner == 0
    assert result.label_means == [0.5, 0.5, 0.0]
    assert result.matrix == [[1.0, 1.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
    assert result.features == pytest.approx({RADIO: 2 / 3})


def test_the_winner_is_one_of_the_agreeing_labels_wherever_they_are() -> None:
    a, b = [radio("sunny")], [radio("rainy")]
    assert consensus([b, a, a]).winner == 1
    assert consensus([a, b, a]).winner == 0
    assert consensus([b, a, a]).score == pytest.approx(2 / 3)


def test_a_single_label() -> None:
    result = consensus([[radio("sunny"), box(0, 0, 5, 5)]])
    assert result == Consensus(score=1.0, winner=0, label_means=[1.0], matrix=[[1.0]], features={RADIO: 1.0, BOX: 1.0})


def test_a_single_empty_label_and_empty_labels() -> None:
    assert consensus([[]]) == Consensus(score=1.0, winner=0, label_means=[1.0], matrix=[[1.0]], features={})
    both = consensus([[], []])
    assert (both.score, both.winner, both.features) == (1.0, 0, {})


def test_no_label_is_an_error() -> None:
    with pytest.raises(ValueError):
        consensus([])


def test_ties_go_to_the_earliest_label() -> None:
    result = consensus([[radio("a")], [radio("b")]])
    assert (result.winner, result.label_means, result.score) == (0, [0.0, 0.0], 0.5)
    # three labels that all disagree: every mean is 0
    assert consensus([[radio("a")], [radio("b")], [radio("c")]]).winner == 0
    # equal means reached through different sums of floats (1/3 + 1/3 + 1/3 vs 1.0) still tie
    result = consensus([[box(0, 0, 10, 10)], [box(5, 0, 10, 10)], [box(0, 0, 10, 10)], [box(5, 0, 10, 10)]])
    assert result.label_means == pytest.approx([(1 / 3 + 1 + 1 / 3) / 3] * 4)
    assert result.winner == 0


def test_label_means_and_per_feature_breakdown() -> None:
    # L0 = {radio x}, L1 = {radio x}, L2 = {radio y, text "t"}
    # pairs: L0-L1 = 1 (radio 1); L0-L2 = 0 (radio 0, text only in L2); L1-L2 = 0
    # means: [0.5, 0.5, 0]; winner L0; score (1 + 1 + 0) / 3
    # features against the winner: radio (1 + 1 + 0) / 3;
    #   text: L0 itself 1, L1 (neither has text: they agree it is absent) 1, L2 (only L2 has it) 0 → 2/3
    labels = [[radio("x")], [radio("x")], [radio("y"), text("t")]]
    result = consensus(labels)
    assert result.label_means == [0.5, 0.5, 0.0]
    assert result.winner == 0
    assert result.score == pytest.approx(2 / 3)
    assert result.features == pytest.approx({RADIO: 2 / 3, TEXT: 2 / 3})


def test_per_label_means_with_boxes() -> None:
    # IoUs: L0-L1 = 1/3 ([0,10] vs [5,15]), L0-L2 = 1, L1-L2 = 1/3
    labels = [[box(0, 0, 10, 10)], [box(5, 0, 10, 10)], [box(0, 0, 10, 10)]]
    result = consensus(labels)
    assert result.label_means == pytest.approx([2 / 3, 1 / 3, 2 / 3])
    assert result.winner == 0
    assert result.score == pytest.approx((1 + 1 / 3 + 1) / 3)
    assert result.features == pytest.approx({BOX: (1 + 1 / 3 + 1) / 3})


def _random_label(rng: random.Random) -> list[dict[str, Any]]:
    document: list[dict[str, Any]] = []
    for _ in range(rng.randint(0, 4)):
        document.append(box(rng.randint(0, 40), rng.randint(0, 40), rng.randint(1, 20), rng.randint(1, 20)))
    for _ in range(rng.randint(0, 3)):
        document.append(point(rng.randint(0, 50), rng.randint(0, 50)))
    if rng.random() < 0.7:
        document.append(radio(rng.choice("ab")))
    rng.shuffle(document)
    return document


@pytest.mark.parametrize("pool_limit", [scoring.POOL_LIMIT, 0])
def test_matrix_matches_pairwise_agreement(monkeypatch: pytest.MonkeyPatch, pool_limit: int) -> None:
    # consensus scores several labels' objects in one matrix (or pair by pair when there are many): the result
    # must be the pairwise agreement either way
    monkeypatch.setattr(scoring, "POOL_LIMIT", pool_limit)
    rng = random.Random(7)
    for _ in range(30):
        labels = [_random_label(rng) for _ in range(rng.randint(2, 5))]
        result = consensus(labels)
        for i, a in enumerate(labels):
            for j, b in enumerate(labels):
                expected = 1.0 if i == j else agreement(a, b).score
                assert result.matrix[i][j] == pytest.approx(expected, abs=1e-12)
        n = len(labels)
        w = result.winner
        assert result.score == pytest.approx(sum(result.matrix[i][w] for i in range(n)) / n)
        assert max(result.label_means) == result.label_means[w]
        for feature, value in result.features.items():
            expected = 0.0
            for i, label in enumerate(labels):
                if i == w:
                    expected += 1.0
                else:
                    expected += agreement(label, labels[w]).features.get(feature, 1.0)
            assert value == pytest.approx(expected / n)


def test_points_use_the_image_size_given_to_consensus() -> None:
    # image 300×400: σ = 0.01 × 500 = 5; the points are 5 apart
    labels = [[point(10, 10)], [point(13, 14)]]
    result = consensus(labels, image_size=(300, 400))
    assert result.matrix[0][1] == pytest.approx(0.6065306597126334)  # exp(-0.5)


def test_means_equal_up_to_float_rounding_tie_to_the_earliest(monkeypatch: pytest.MonkeyPatch) -> None:
    # Pair agreements chosen so that label 0's mean sums (0.3 + 0.2) + 0.1 = 0.6 and label 1's sums
    # 0.3 + (0.2 + 0.1) = 0.6000000000000001: equal means, the earlier label wins.
    values = {(0, 1): 0.3, (0, 2): 0.2, (0, 3): 0.1, (1, 2): 0.2, (1, 3): 0.1, (2, 3): 0.0}

    class FixedScorer:
        def __init__(self, documents: list, **kwargs: Any) -> None:
            self.documents = [type("Doc", (), {"features": ["f"]})() for _ in documents]

        def features(self, i: int, j: int) -> dict[str, float]:
            return {"f": values[i, j]}

    monkeypatch.setattr(consensus_module, "PairScorer", FixedScorer)
    result = consensus([[], [], [], []])
    assert result.label_means[0] != result.label_means[1]  # the rounding this test is about
    assert result.label_means[0] == pytest.approx(result.label_means[1])
    assert result.winner == 0
    assert result.score == pytest.approx((1 + 0.3 + 0.2 + 0.1) / 4)
