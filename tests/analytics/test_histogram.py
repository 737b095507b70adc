"""Log-scale seconds histograms (no database)."""

from __future__ import annotations

import pytest

from apps.analytics.domain import histogram as hist


def test_buckets_tile_the_seconds_line():
    assert hist.bucket_bounds(0) == (0.0, 1.0)
    for bucket in range(1, 200):
        low, high = hist.bucket_bounds(bucket)
        assert low == pytest.approx(hist.bucket_bounds(bucket - 1)[1]) if bucket > 1 else low == 1.0
        assert high / low == pytest.approx(hist.RATIO)
    assert hist.bucket_bounds(1 + hist.STEPS_PER_DOUBLING)[0] == pytest.approx(2.0)


def test_merged_adds_counts_and_reads_json_keys():
    assert hist.merged([{"3": 2, "5": 1}, {3: 1, 7: 4}, {}]) == {3: 3, 5: 1, 7: 4}


def test_quantile_interpolates_inside_the_bucket():
    assert hist.quantile({}) is None and hist.quantile({4: 0}) is None
    low, high = hist.bucket_bounds(20)
    # One value: the middle of its bucket. Three values in one bucket: the median is the middle one.
    assert hist.quantile({20: 1}) == pytest.approx((low + high) / 2)
    assert hist.quantile({20: 3}) == pytest.approx((low + high) / 2)
    # Two values in far apart buckets: halfway between the two estimates, like PERCENTILE_CONT.
    upper_low, upper_high = hist.bucket_bounds(30)
    assert hist.quantile({20: 1, 30: 1}) == pytest.approx(((low + high) / 2 + (upper_low + upper_high) / 2) / 2)
    assert hist.bucket_bounds(20)[0] <= hist.quantile({20: 5, 30: 1}) < hist.bucket_bounds(20)[1]
    assert hist.bucket_bounds(30)[0] <= hist.quantile({20: 1, 30: 5}) < hist.bucket_bounds(30)[1]
    assert hist.quantile({20: 1, 30: 1}, q=0.0) < hist.quantile({20: 1, 30: 1}, q=1.0)


def test_quantile_error_is_under_one_bucket():
    values = [10 + (i * 7919) % 128 for i in range(2001)]
    exact = sorted(values)[1000]
    counts: dict[int, int] = {}
    for value in values:
        bucket = next(b for b in range(400) if hist.bucket_bounds(b)[0] <= value < hist.bucket_bounds(b)[1])
        counts[bucket] = counts.get(bucket, 0) + 1
    estimate = hist.quantile(counts)
    assert estimate is not None and abs(estimate - exact) / exact < hist.RATIO - 1
