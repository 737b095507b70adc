"""Catalog math without a database: k-NN, PCA, k-means, outlier scores, KS/PSI and drift flags."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from apps.catalog.domain import analysis, drift, search, vectors


def unit(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    return vectors.normalize_rows(rng.standard_normal((n, d)).astype(np.float32))


# --- vectors ----------------------------------------------------------------------------------------------------


def test_parse_vector_rejects_wrong_dims_nan_inf_and_non_numbers():
    assert vectors.parse_vector([1, 2.5, -3], 3).dtype == np.float32
    for bad, message in [
        ([1, 2], "dimensions"),
        ([1, float("nan"), 2], "NaN"),
        ([1, float("inf"), 2], "NaN"),
        ([1, "2", 3], "numbers"),
        ([1, True, 3], "numbers"),
        ("1,2,3", "list"),
        ([0, 0, 0], "zeros"),
        ([1e39, 0, 0], "float32"),
    ]:
        with pytest.raises(vectors.VectorError, match=message):
            vectors.parse_vector(bad, 3)


def test_encode_decode_roundtrip_is_4_bytes_per_dimension():
    v = np.array([0.25, -1.5, 3.0], dtype=np.float32)
    blob = vectors.encode(v)
    assert len(blob) == 12
    assert np.array_equal(vectors.decode(blob, 3), v)


# --- k-NN -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n,d,k", [(1, 4, 3), (50, 8, 5), (2000, 64, 10), (5000, 32, 100)])
def test_knn_matches_brute_force(n, d, k):
    rng = np.random.default_rng(n + d)
    matrix = unit(rng, n, d)
    for _ in range(5):
        query = unit(rng, 1, d)[0]
        got, got_scores = search.knn(matrix, query, k)
        want, want_scores = search.brute_force_knn(matrix, query, k)
        assert got.tolist() == want.tolist()
        assert np.allclose(got_scores, want_scores, atol=1e-5)
        assert np.all(np.diff(got_scores) <= 1e-7)


def test_knn_mask_and_exclude_restrict_the_candidates():
    rng = np.random.default_rng(7)
    matrix = unit(rng, 300, 16)
    mask = np.zeros(300, dtype=bool)
    mask[::3] = True
    got, _ = search.knn(matrix, matrix[3], 10, mask=mask, exclude=3)
    assert 3 not in got.tolist()
    assert all(p % 3 == 0 for p in got)
    allowed = np.flatnonzero(mask & (np.arange(300) != 3))
    want, _ = search.brute_force_knn(matrix[allowed], matrix[3], 10)
    assert got.tolist() == allowed[want].tolist()
    # fewer candidates than k: all of them, no padding with masked rows
    small = np.zeros(300, dtype=bool)
    small[[5, 9]] = True
    got, _ = search.knn(matrix, matrix[0], 10, mask=small)
    assert sorted(got.tolist()) == [5, 9]


def test_knn_finds_the_row_itself_first():
    rng = np.random.default_rng(1)
    matrix = unit(rng, 1000, 32)
    got, scores = search.knn(matrix, matrix[123], 3)
    assert got[0] == 123 and scores[0] == pytest.approx(1.0, abs=1e-5)


# --- PCA --------------------------------------------------------------------------------------------------------


def test_pca_recovers_the_main_axis_independent_of_rotation_and_sign():
    rng = np.random.default_rng(0)
    latent = rng.standard_normal((2000, 3)) * np.array([10.0, 3.0, 0.1])
    rotation, _ = np.linalg.qr(rng.standard_normal((3, 3)))
    data = latent @ rotation.T + np.array([5.0, -2.0, 1.0])
    pca = analysis.pca_fit(data, 2)
    # the axes are the rotated latent axes (up to sign), orthonormal, and ordered by variance
    assert abs(abs(pca.components[0] @ rotation[:, 0]) - 1) < 1e-3
    assert abs(abs(pca.components[1] @ rotation[:, 1]) - 1) < 1e-3
    assert np.allclose(pca.components @ pca.components.T, np.eye(2), atol=1e-9)
    assert pca.explained_variance_ratio[0] > pca.explained_variance_ratio[1]
    coords, _ = analysis.project_2d(data)
    assert coords.var(axis=0)[0] == pytest.approx(100, rel=0.1)
    # pairwise distances in 2-D match the original ones (the dropped axis has almost no variance)
    i, j = rng.integers(0, 2000, 200), rng.integers(0, 2000, 200)
    assert np.allclose(
        np.linalg.norm(coords[i] - coords[j], axis=1), np.linalg.norm(data[i] - data[j], axis=1), rtol=0.05, atol=1
    )
    # flipping the sign of every input leaves the sign-fixed axes the same
    flipped = analysis.pca_fit(-data, 2)
    assert np.allclose(flipped.components, pca.components, atol=1e-9)


def test_pca_fit_on_a_sample_is_seeded_and_close_to_the_full_fit():
    rng = np.random.default_rng(3)
    data = rng.standard_normal((5000, 5)) * np.array([5, 2, 1, 1, 1])
    a = analysis.pca_fit(data, 2, sample_max=1000, seed=4)
    b = analysis.pca_fit(data, 2, sample_max=1000, seed=4)
    full = analysis.pca_fit(data, 2)
    assert np.array_equal(a.components, b.components)
    assert abs(a.components[0] @ full.components[0]) > 0.99


# --- k-means ----------------------------------------------------------------------------------------------------


def blobs(seed: int = 0, per: int = 200) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centers = np.array([[0, 0], [10, 0], [0, 10], [10, 10]], dtype=float)
    points = np.vstack([c + rng.standard_normal((per, 2)) for c in centers])
    return points, np.repeat(np.arange(4), per)


def test_kmeans_is_reproducible_with_a_seed_and_finds_separated_blobs():
    points, truth = blobs()
    a = analysis.kmeans(points, 4, seed=11)
    b = analysis.kmeans(points, 4, seed=11)
    assert np.array_equal(a.labels, b.labels)
    assert np.array_equal(a.centers, b.centers)
    # every true blob maps to exactly one cluster
    for blob in range(4):
        assert len(set(a.labels[truth == blob].tolist())) == 1
    assert len(set(a.labels.tolist())) == 4


def test_kmeans_validates_k():
    points, _ = blobs(per=2)
    with pytest.raises(ValueError):
        analysis.kmeans(points, 0)
    with pytest.raises(ValueError):
        analysis.kmeans(points, 9)
    assert analysis.kmeans(points, 8).labels.max() <= 7


# --- outliers ---------------------------------------------------------------------------------------------------


def test_outlier_score_ranks_the_isolated_point_highest():
    rng = np.random.default_rng(5)
    base = np.array([1.0, 0, 0, 0])
    cluster = base + 0.05 * rng.standard_normal((300, 4))
    lonely = np.array([[0, 0, 0, 1.0]])
    matrix = vectors.normalize_rows(np.vstack([cluster, lonely]))
    scores = analysis.knn_mean_distance(matrix, 5)
    ranks = analysis.percentile_rank(scores)
    assert int(np.argmax(scores)) == 300
    assert ranks[300] == pytest.approx(1.0)
    # the exact mean distance to 5 neighbours for one row, by brute force
    sims = matrix @ matrix[17]
    sims[17] = -np.inf
    assert scores[17] == pytest.approx(float(np.mean(1 - np.sort(sims)[::-1][:5])), abs=1e-5)
    # a reference sample gives the same ordering of the extreme point
    sampled = analysis.knn_mean_distance(matrix, 5, reference_max=100)
    assert int(np.argmax(sampled)) == 300


def test_percentile_rank_handles_ties():
    assert analysis.percentile_rank([1, 2, 2, 3]).tolist() == pytest.approx([0, 0.5, 0.5, 1])


# --- KS and PSI -------------------------------------------------------------------------------------------------


def test_ks_statistic_by_hand_and_against_scipy():
    # a = {1,2,3}, b = {2.5, 4}: at x=3 F_a = 1, F_b = 0.5; at x=2 F_a = 2/3, F_b = 0 → D = 2/3
    assert drift.ks_statistic([1, 2, 3], [2.5, 4]) == pytest.approx(2 / 3)
    assert drift.ks_statistic([1, 2], [1, 2]) == 0
    rng = np.random.default_rng(9)
    for _ in range(5):
        a, b = rng.normal(0, 1, 300), rng.normal(0.3, 1.2, 250)
        assert drift.ks_statistic(a, b) == pytest.approx(stats.ks_2samp(a, b).statistic)
    ties_a, ties_b = rng.integers(0, 5, 100), rng.integers(1, 6, 80)
    assert drift.ks_statistic(ties_a, ties_b) == pytest.approx(stats.ks_2samp(ties_a, ties_b).statistic)


def test_psi_by_hand():
    # shares 0.5/0.5 → 0.25/0.75: (0.25-0.5)ln(0.5) + (0.75-0.5)ln(1.5)
    want = -0.25 * math.log(0.5) + 0.25 * math.log(1.5)
    assert drift.psi_from_shares([0.5, 0.5], [0.25, 0.75]) == pytest.approx(want)
    assert drift.psi_categorical(["a", "b"], ["a", "b", "b", "b"]) == pytest.approx(want)
    # a category the reference lacks is floored at epsilon
    got = drift.psi_categorical(["a"] * 4, ["a", "a", "a", "c"])
    e = drift.PSI_EPSILON
    assert got == pytest.approx((0.75 - 1) * math.log(0.75) + (0.25 - e) * math.log(0.25 / e))
    assert drift.psi_categorical(["x", "y"] * 50, ["y", "x"] * 50) == 0


def test_psi_numeric_uses_reference_quantile_bins():
    reference = np.arange(100, dtype=float)  # deciles: 10 equal bins of 10
    assert drift.psi_numeric(reference, reference) == pytest.approx(0)
    current = np.arange(50, dtype=float)  # all in the lower 5 bins: shares 0.2 each, the rest floored
    e = drift.PSI_EPSILON
    want = 5 * (0.2 - 0.1) * math.log(2) + 5 * (e - 0.1) * math.log(e / 0.1)
    assert drift.psi_numeric(reference, current) == pytest.approx(want)


def test_embedding_shift_and_cluster_shares_flag_a_shifted_slice():
    rng = np.random.default_rng(2)
    a = rng.standard_normal((500, 16))
    same = rng.standard_normal((500, 16))
    shifted = rng.standard_normal((500, 16)) + 1.5
    assert drift.embedding_shift(a, same).relative_shift < 0.2
    assert drift.embedding_shift(a, shifted).relative_shift > drift.EMBEDDING_THRESHOLD
    shares = drift.cluster_shares([0, 0, 1, 1], [0, 1, 1, 1], 3)
    assert shares["clusters"][1] == {"cluster": 1, "share_a": 0.5, "share_b": 0.75}
    assert shares["psi"] == pytest.approx(drift.psi_from_shares([0.5, 0.5, 0], [0.25, 0.75, 0]))
