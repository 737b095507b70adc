"""Peak memory and time of building one pyramid, measured in a forked child process (as a django-q2 worker runs
the job: a fork of a process that has Django loaded), plus a generator of large synthetic sources. Used by
`python manage.py benchmark tiles` and by the memory-bound test."""

from __future__ import annotations

import multiprocessing
import resource
import time
from typing import Any


def synthetic_source(path: str, width: int, height: int) -> None:
    """A width × height RGB image written without ever holding it: JPEG when it fits JPEG's 65,535 px limit, else a
    tiled JPEG-compressed BigTIFF. Red/green encode x/y mod 256, blue a 1,024 px checker."""
    import pyvips

    xy = pyvips.Image.xyz(width, height)
    red = (xy[0] % 256).cast("uchar")
    green = (xy[1] % 256).cast("uchar")
    blue = (((xy[0] / 1024).floor() + (xy[1] / 1024).floor()) % 2 * 160).cast("uchar")
    image = red.bandjoin([green, blue])
    if path.endswith(".jpg"):
        image.jpegsave(path, Q=90)
    else:
        image.tiffsave(path, tile=True, tile_width=512, tile_height=512, compression="jpeg", Q=90, bigtiff=True)


def _child(source_name: str, prefix: str, tile_size: int, conn: Any) -> None:
    from apps.imagery.services.tiles import build_pyramid

    try:
        started = time.perf_counter()
        tiles = build_pyramid(source_name, prefix, tile_size=tile_size)
        seconds = time.perf_counter() - started
        peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # Linux: kilobytes
        conn.send({"tiles": tiles, "seconds": seconds, "peak_rss_mb": peak_kb / 1024})
    except Exception as exc:  # reported to the parent, which raises
        conn.send({"error": f"{type(exc).__name__}: {exc}"})
    finally:
        conn.close()


def measure_pyramid_build(source_name: str, prefix: str, *, tile_size: int = 256) -> dict[str, Any]:
    """Build the pyramid of a stored source in a forked child; its peak RSS, seconds and tile count."""
    context = multiprocessing.get_context("fork")
    parent, child = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(source_name, prefix, tile_size, child))
    process.start()
    child.close()
    result = parent.recv()
    process.join()
    if "error" in result:
        raise RuntimeError(result["error"])
    return result
