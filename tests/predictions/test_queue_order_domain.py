"""Active learning scores and ranks without a database."""

from __future__ import annotations

import numpy as np
import pytest

from apps.catalog.domain.vectors import normalize_rows
from apps.predictions.domain import queue_order


def test_least_confidence_and_entropy_per_row():
    rows = np.array([0, 0, 2])
    conf = np.array([0.9, 0.3, 0.5])
    lc = queue_order.least_confidence(rows, conf, 3)
    assert lc[0] == pytest.approx(0.7) and np.isnan(lc[1]) and lc[2] == pytest.approx(0.5)
    ent = queue_order.max_entropy(rows, conf, 3)
    assert ent[2] == pytest.approx(1.0) and np.isnan(ent[1])
    assert ent[0] == pytest.approx(-(0.3 * np.log2(0.3) + 0.7 * np.log2(0.7)))
    assert queue_order.binary_entropy(np.array([0.0, 1.0])).tolist() == [0.0, 0.0]


def test_nearest_distance_matches_brute_force_in_any_batch_size():
    rng = np.random.default_rng(7)
    candidates = normalize_rows(rng.normal(size=(57, 8)))
    labeled = normalize_rows(rng.normal(size=(23, 8)))
    expected = 1 - (candidates.astype(np.float64) @ labeled.T.astype(np.float64)).max(axis=1)
    for pairs in (1, 10, 100, 10_000_000):
        got = queue_order.nearest_distance(candidates, labeled, pairs=pairs)
        assert np.allclose(got, expected, atol=1e-5), pairs
    assert queue_order.nearest_distance(candidates, labeled[:0]).tolist() == [1.0] * 57


def test_ranks_put_high_scores_first_and_unknown_last():
    scores = np.array([0.2, np.nan, 0.9, 0.2, np.nan, 0.5])
    ranks = queue_order.queue_ranks(scores)
    assert ranks == [-0.2, None, -0.9, -0.2, None, -0.5]
    known = sorted((r, i) for i, r in enumerate(ranks) if r is not None)
    assert [i for _, i in known] == [2, 5, 0, 3]


def test_percentiles_and_mix():
    assert queue_order.percentiles(np.array([3.0, np.nan, 1.0, 2.0])).tolist()[::2] == [1.0, 0.0]
    u = np.array([0.9, 0.1, np.nan, 0.5])
    d = np.array([0.0, 1.0, 0.5, np.nan])
    mixed = queue_order.mix({"uncertainty": u, "diversity": d}, {"uncertainty": 0.6, "diversity": 0.4})
    # percentiles: u → 1, 0, nan, .5 ; d → 0, 1, .5, nan
    assert mixed.tolist() == pytest.approx([0.6, 0.4, 0.2, 0.3])
    only_u = queue_order.mix({"uncertainty": u, "diversity": d}, {"uncertainty": 1.0, "diversity": 0.0})
    assert np.isnan(only_u[2]) and only_u[0] == 1.0
