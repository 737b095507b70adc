"""Peak memory and time of building one pyramid, measured in a fresh child process (spawned, not forked: libvips
is not fork-safe once its threads run, and a fresh process is what a worker's memory looks like: Python, Django,
pyvips), plus a generator of large synthetic sources. Used by `python manage.py benchmark tiles` and by the
memory-bound test."""

from __future__ import annotations

import multiprocessing
import resource
import time
from typing import Any


def synthetic_source(path: str, width: int, height: int) -> None:
    """A width × height RGB image written without ever holding it: JPEG (a `.jpg` path, up to JPEG's 65,535 px),
    else a tiled JPEG-compressed BigTIFF with 128 px tiles. Red/green encode x/y mod 256, blue a 1,024 px checker.

    The tile height matters: libvips' TIFF reader caches two whole rows of tiles (2 × tile height × width × bands
    bytes: 97 MB for a 126,491 px wide RGB image with 128 px tiles, 388 MB with 512 px tiles), so a build that reads
    a tiled TIFF in place peaks that much above its flat part."""
    import pyvips

    xy = pyvips.Image.xyz(width, height)
    red = (xy[0] % 256).cast("uchar")
    green = (xy[1] % 256).cast("uchar")
    blue = (((xy[0] / 1024).floor() + (xy[1] / 1024).floor()) % 2 * 160).cast("uchar")
    image = red.bandjoin([green, blue])
    if path.endswith(".jpg"):
        image.jpegsave(path, Q=90)
    else:
        image.tiffsave(path, tile=True, tile_width=128, tile_height=128, compression="jpeg", Q=90, bigtiff=True)


def peak_rss_kb() -> int:
    """This process's own peak resident set (`VmHWM`). Not `ru_maxrss`: Linux carries that across `exec`, so a
    spawned child would report at least its parent's size at the fork (the parent writes the large sources)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def _child(root: str, source_name: str, prefix: str, tile_size: int, conn: Any) -> None:
    try:
        import django

        django.setup()
        from django.core.files.storage import FileSystemStorage

        from apps.imagery.services.tiles import build_pyramid

        started = time.perf_counter()
        tiles = build_pyramid(source_name, prefix, tile_size=tile_size, storage=FileSystemStorage(location=root))
        seconds = time.perf_counter() - started
        conn.send({"tiles": tiles, "seconds": seconds, "peak_rss_mb": peak_rss_kb() / 1024})
    except Exception as exc:  # reported to the parent, which raises
        conn.send({"error": f"{type(exc).__name__}: {exc}"})
    finally:
        conn.close()


def measure_pyramid_build(root: str, source_name: str, prefix: str, *, tile_size: int = 256) -> dict[str, Any]:
    """Build the pyramid of `root/source_name` into `root/prefix` (local storage) in a spawned child; its peak RSS,
    seconds and tile count."""
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(root, source_name, prefix, tile_size, child))
    process.start()
    child.close()
    result = parent.recv()
    process.join()
    if "error" in result:
        raise RuntimeError(result["error"])
    return result
