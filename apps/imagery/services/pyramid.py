"""The Deep Zoom pyramid build in bounded memory (pyvips).

pyvips' `dzsave` keeps, per pyramid level, a strip of `tile_size` lines of the whole width, and libvips' sequential
JPEG/PNG readers cache a few hundred full-width lines: a single `dzsave` over the image costs memory proportional to
its width. So a wide image is built in **vertical bands** of `BAND_TILES × 2^BAND_DEPTH` pixels (8,192 px):

1. the source is made random-access: a tiled TIFF is read in place; any other format (JPEG, PNG, striped TIFF …) is
   streamed once into an uncompressed libvips file in the temporary folder (one sequential pass, the only step whose
   memory still follows the width: libvips' line cache of the reader, bounded for JPEG by its 65,535 px limit);
2. each band is cropped and `dzsave`d on its own; its levels down to 2^BAND_DEPTH reduction are exact pieces of the
   global levels (band origins are multiples of `tile_size × 2^depth` at every such depth) and are published with
   their columns shifted;
3. the deeper levels come from one small image (the 2^BAND_DEPTH-reduced level assembled from its tiles, at most a
   few thousand pixels a side), `dzsave`d once.

Peak memory is then set by the band width, not by the image. Narrow images (≤ one band) take the single `dzsave`.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import tempfile
from collections.abc import Callable
from typing import Any

from apps.imagery.domain.deepzoom import max_level

BAND_DEPTH = 5  # levels published from each band: reductions 1, 2, 4 … 32
BAND_TILES = 1  # band width = BAND_TILES × tile_size × 2^BAND_DEPTH (8,192 px for 256 px tiles)


def _normalized(image: Any) -> Any:
    """8-bit grey or RGB without alpha (JPEG tiles)."""
    if image.hasalpha():
        image = image.flatten(background=[255])
    if image.bands == 2:
        image = image[0]
    elif image.bands > 3:
        image = image.extract_band(0, n=3)
    if image.format != "uchar":
        image = image.colourspace("srgb" if image.bands == 3 else "b-w").cast("uchar")
    return image


def _is_tiled_tiff(path: str) -> bool:
    import tifffile

    try:
        with tifffile.TiffFile(path) as tif:
            return bool(tif.pages[0].is_tiled)  # type: ignore[union-attr]
    except Exception:
        return False


def _release_freed_memory() -> None:
    """Hand the memory a finished band freed back to the system (glibc keeps it in per-thread arenas otherwise, and
    each band's `dzsave` runs on fresh worker threads)."""
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to do
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def _dzsave(image: Any, folder: str, tile_size: int, quality: int) -> str:
    image.dzsave(
        os.path.join(folder, "pyramid"), tile_size=tile_size, overlap=0, suffix=f".jpeg[Q={quality}]", layout="dz"
    )
    return os.path.join(folder, "pyramid_files")


Publish = Callable[[int, int, int, str], None]  # level, column, row, local file


def _publish_levels(root: str, levels: dict[int, int], publish: Publish) -> None:
    """Publish the tiles of `root/<local level>/` as global level `levels[local level]`."""
    for local, level in levels.items():
        folder = os.path.join(root, str(local))
        for name in os.listdir(folder):
            col, row = name.split(".", 1)[0].split("_")
            publish(level, int(col), int(row), os.path.join(folder, name))


def build_local_pyramid(path: str, tmp: str, publish: Publish, *, tile_size: int, quality: int) -> int:
    """Build the Deep Zoom pyramid of the image at `path`, calling `publish(level, col, row, file)` once per tile
    (the file is removed afterwards). Temporary files go under `tmp`. Returns the number of tiles."""
    import pyvips

    pyvips.cache_set_max(0)  # no operation cache: nothing of a finished band stays referenced
    count = 0

    def counted(level: int, col: int, row: int, file: str) -> None:
        nonlocal count
        publish(level, col, row, file)
        count += 1

    source = pyvips.Image.new_from_file(path, access="sequential")
    width, height = int(source.width), int(source.height)
    band = BAND_TILES * tile_size * 2**BAND_DEPTH
    if width <= band or height < 2**BAND_DEPTH:
        root = _dzsave(_normalized(source), os.path.join(tmp, "whole"), tile_size, quality)
        top = max_level(width, height)
        _publish_levels(root, {lv: lv for lv in range(top + 1)}, counted)
        return count

    if _is_tiled_tiff(path):
        image = _normalized(pyvips.Image.new_from_file(path, access="random"))
    else:
        flat = os.path.join(tmp, "source.v")
        _normalized(source).write_to_file(flat)
        image = pyvips.Image.new_from_file(flat, access="random")
    del source
    top = max_level(width, height)
    reduced = os.path.join(tmp, "reduced")  # the tiles of the 2^BAND_DEPTH level, kept for the deeper levels
    os.makedirs(reduced)
    for index, x0 in enumerate(range(0, width, band)):
        folder = os.path.join(tmp, f"band{index}")
        root = _dzsave(image.crop(x0, 0, min(band, width - x0), height), folder, tile_size, quality)
        band_top = max_level(min(band, width - x0), height)
        for depth in range(BAND_DEPTH + 1):
            shift = BAND_TILES * 2 ** (BAND_DEPTH - depth)  # this band's first column at that depth
            local_folder = os.path.join(root, str(band_top - depth))
            for name in os.listdir(local_folder):
                col, row = (int(v) for v in name.split(".", 1)[0].split("_"))
                file = os.path.join(local_folder, name)
                if depth == BAND_DEPTH:
                    shutil.copyfile(file, os.path.join(reduced, f"{col + index * shift}_{row}.jpeg"))
                counted(top - depth, col + index * shift, row, file)
        shutil.rmtree(folder)
        _release_freed_memory()
    del image

    # The deeper levels: the reduced level reassembled (lazily, from its tiles) and tiled once.
    small_w = -(-width // 2**BAND_DEPTH)
    small_h = -(-height // 2**BAND_DEPTH)
    cols, rows = -(-small_w // tile_size), -(-small_h // tile_size)
    tiles = [
        pyvips.Image.new_from_file(os.path.join(reduced, f"{c}_{r}.jpeg")) for r in range(rows) for c in range(cols)
    ]
    small = pyvips.Image.arrayjoin(tiles, across=cols, hspacing=tile_size, vspacing=tile_size).crop(
        0, 0, small_w, small_h
    )
    root = _dzsave(small, os.path.join(tmp, "small"), tile_size, quality)
    small_top = max_level(small_w, small_h)
    offset = top - BAND_DEPTH - small_top  # small level l is global level l + offset
    _publish_levels(root, {lv: lv + offset for lv in range(small_top)}, counted)
    return count


def build_pyramid_into(path: str, publish: Publish, *, tile_size: int, quality: int) -> int:
    with tempfile.TemporaryDirectory(prefix="tdp-tiles-") as tmp:
        return build_local_pyramid(path, tmp, publish, tile_size=tile_size, quality=quality)
