"""The tiling job's memory bound (issue #27's proof: a 30,000 × 30,000 image tiles with a peak RSS under 500 MB,
measured in a spawned child as a worker runs it) and `benchmark tiles` on small sizes."""

from __future__ import annotations

import os

import pytest

from apps.imagery.benchmarks import tiles as tiles_benchmark
from apps.imagery.domain.deepzoom import total_tiles
from apps.imagery.tile_measure import measure_pyramid_build, synthetic_source

SIDE = 30_000


def test_a_30000_square_image_tiles_under_500_mb(tmp_path):
    synthetic_source(os.path.join(tmp_path, "big.jpg"), SIDE, SIDE)
    result = measure_pyramid_build(str(tmp_path), "big.jpg", "tiles")
    print(result)
    assert result["tiles"] == total_tiles(SIDE, SIDE, 256) == len(list((tmp_path / "tiles").rglob("*.jpeg")))
    assert result["peak_rss_mb"] < 500, result


@pytest.mark.django_db
def test_benchmark_reports_throughput_and_memory_per_size():
    out = tiles_benchmark({"gigapixels": "0.01,0.04"})
    assert [r["side"] for r in out["runs"]] == [3162, 6324]
    for run in out["runs"]:
        assert run["tiles"] == total_tiles(run["side"], run["side"], 256)
        assert run["megapixels_per_s"] > 0 and 0 < run["peak_rss_mb"] < 500
    assert out["throughput_spread"] >= 1.0 and "memory_growth_mb" in out
