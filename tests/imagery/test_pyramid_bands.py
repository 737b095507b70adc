"""The pyramid built in vertical bands (`apps/imagery/services/pyramid.py`): the same tiles as one `dzsave` over the
whole image, and a peak memory that does not follow the width for a random-access (tiled TIFF) source."""

from __future__ import annotations

import os

import numpy as np
import pyvips

from apps.imagery.domain.deepzoom import level_size, max_level, total_tiles
from apps.imagery.services.pyramid import build_pyramid_into
from apps.imagery.tile_measure import measure_pyramid_build, synthetic_source


def build(path: str, out: str) -> int:
    def publish(level: int, col: int, row: int, file: str) -> None:
        os.makedirs(f"{out}/{level}", exist_ok=True)
        os.replace(file, f"{out}/{level}/{col}_{row}.jpeg")

    return build_pyramid_into(path, publish, tile_size=256, quality=85)


def pixels(path: str) -> np.ndarray:
    return np.asarray(pyvips.Image.new_from_file(path).numpy(), dtype=float)


def test_banded_pyramid_equals_one_dzsave(tmp_path):
    width, height = 19_000, 600  # three bands of 8,192 px, the last one narrower
    xy = pyvips.Image.xyz(width, height)
    red = ((xy[0] / 16).floor() % 256).cast("uchar")  # red = x / 16: a tile's column can be read back
    green = ((xy[1] / 4).floor() % 256).cast("uchar")
    source = str(tmp_path / "wide.jpg")
    red.bandjoin([green, green]).jpegsave(source, Q=95)

    count = build(source, str(tmp_path / "bands"))
    top = max_level(width, height)
    assert count == total_tiles(width, height, 256)
    pyvips.Image.new_from_file(source).dzsave(
        str(tmp_path / "ref"), tile_size=256, overlap=0, suffix=".jpeg[Q=85]", layout="dz"
    )
    for level in range(top + 1):
        ours = sorted(os.listdir(tmp_path / "bands" / str(level)))
        assert ours == sorted(os.listdir(tmp_path / "ref_files" / str(level))), level
        w, _ = level_size(width, height, level)
        assert pyvips.Image.new_from_file(str(tmp_path / "bands" / str(level) / "0_0.jpeg")).width == min(w, 256)
        for name in ours:
            a = pixels(str(tmp_path / "bands" / str(level) / name))
            b = pixels(str(tmp_path / "ref_files" / str(level) / name))
            assert a.shape == b.shape, (level, name)
            # Levels cut from the bands are the same pixels; the deeper ones are rebuilt from the 1/32 level's
            # JPEG tiles (one more JPEG generation on an overview).
            assert np.abs(a - b).mean() < (1.5 if top - level <= 5 else 8), (level, name)
    # A full-resolution tile of the third band sits where its column says: x = 69 × 256 + 100 = 17,764.
    tile = pixels(str(tmp_path / "bands" / str(top) / "69_0.jpeg"))
    assert abs(tile[0, 100, 0] - (17_764 // 16) % 256) <= 3


def test_peak_memory_does_not_follow_the_width_of_a_tiled_source(tmp_path):
    peaks = {}
    for width in (16_384, 65_536):
        root = tmp_path / str(width)
        root.mkdir()
        synthetic_source(str(root / "wide.tif"), width, 1024)
        result = measure_pyramid_build(str(root), "wide.tif", "tiles")
        assert result["tiles"] == total_tiles(width, 1024, 256)
        peaks[width] = result["peak_rss_mb"]
    print(peaks)
    # One dzsave over the whole width grows by about 160 MB between these widths (a 256-line strip per level plus the
    # reader's line cache); in bands it grew by about 20 MB (glibc arenas of the worker threads, not the image).
    assert peaks[65_536] - peaks[16_384] < 40, peaks
