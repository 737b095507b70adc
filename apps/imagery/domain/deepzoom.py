"""Deep Zoom pyramid geometry (the layout pyvips' `dzsave` writes and OpenSeadragon reads). Pure.

Level L of an image W × H has size ceil(W / 2^(max−L)) × ceil(H / 2^(max−L)), max = ceil(log2(max(W, H))); level
max is the full resolution, level 0 is 1 × 1. Tiles are `tile_size` squares (the last column and row smaller),
without overlap, named `<level>/<col>_<row>.<ext>`.
"""

from __future__ import annotations

import math
import re

TILE_NAME = re.compile(r"^(\d{1,2})/(\d{1,6})_(\d{1,6})\.jpeg$")


def max_level(width: int, height: int) -> int:
    return max(0, math.ceil(math.log2(max(width, height, 1))))


def level_size(width: int, height: int, level: int) -> tuple[int, int]:
    scale = 2 ** (max_level(width, height) - level)
    return max(1, math.ceil(width / scale)), max(1, math.ceil(height / scale))


def tile_counts(width: int, height: int, level: int, tile_size: int) -> tuple[int, int]:
    w, h = level_size(width, height, level)
    return math.ceil(w / tile_size), math.ceil(h / tile_size)


def tile_exists(width: int, height: int, tile_size: int, level: int, col: int, row: int) -> bool:
    if not 0 <= level <= max_level(width, height):
        return False
    cols, rows = tile_counts(width, height, level, tile_size)
    return 0 <= col < cols and 0 <= row < rows


def thumbnail_level(width: int, height: int, tile_size: int) -> int:
    """The deepest level that fits in one tile: its `0_0` tile is the whole image, the row's thumbnail."""
    level = max_level(width, height)
    while level > 0 and max(level_size(width, height, level)) > tile_size:
        level -= 1
    return level


def total_tiles(width: int, height: int, tile_size: int) -> int:
    return sum(
        cols * rows
        for cols, rows in (tile_counts(width, height, lv, tile_size) for lv in range(max_level(width, height) + 1))
    )
