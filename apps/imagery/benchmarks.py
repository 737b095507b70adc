"""`python manage.py benchmark tiles [--option gigapixels=1,4,16] [--option source=tiff|jpeg]`

For each size: a synthetic square RGB source of that many pixels (written by pyvips without holding it; a tiled,
JPEG-compressed BigTIFF by default, which the build reads in place: `source=jpeg` measures JPEG sources instead, up
to JPEG's 65,535 px, whose one sequential decoding pass grows with the width, see docs/imagery.md), then the
tiling job's work (`build_pyramid`: pyvips, vertical bands, each tile copied into the storage backend) in a spawned
child process, as a worker runs it. Reports megapixels/s and the child's own peak RSS (`VmHWM`) per size; the
pyramid's time should grow linearly with the pixels (flat megapixels/s) and its memory stay flat.
"""

from __future__ import annotations

import math
import os
import tempfile
import time
from typing import Any

from apps.core.benchmarks import benchmark
from apps.imagery.tile_measure import measure_pyramid_build, synthetic_source


@benchmark("tiles")
def tiles(params: dict[str, Any]) -> dict[str, Any]:
    sizes = [float(v) for v in str(params.get("gigapixels", "1,4,16")).split(",") if v.strip()]
    kind = str(params.get("source", "tiff"))
    if kind not in ("tiff", "jpeg"):
        raise ValueError("source is tiff or jpeg")
    out: dict[str, Any] = {"tile_size": 256, "source": kind, "runs": []}
    for gigapixels in sizes:
        side = int(math.sqrt(gigapixels * 1e9))
        with tempfile.TemporaryDirectory(prefix="tdp-bench-tiles-") as root:
            name = "source.jpg" if kind == "jpeg" and side <= 65_000 else "source.tif"
            started = time.perf_counter()
            synthetic_source(os.path.join(root, name), side, side)
            source_seconds = time.perf_counter() - started
            result = measure_pyramid_build(root, name, "tiles")
            megapixels = side * side / 1e6
            out["runs"].append(
                {
                    "gigapixels": round(side * side / 1e9, 3),
                    "side": side,
                    "tiles": result["tiles"],
                    "seconds": round(result["seconds"], 2),
                    "source_seconds": round(source_seconds, 2),
                    "megapixels_per_s": round(megapixels / result["seconds"], 1),
                    "peak_rss_mb": round(result["peak_rss_mb"], 1),
                }
            )
    runs = out["runs"]
    if len(runs) > 1:
        rates = [r["megapixels_per_s"] for r in runs]
        out["throughput_spread"] = round(max(rates) / min(rates), 2)  # 1.0 = perfectly linear time
        out["memory_growth_mb"] = round(runs[-1]["peak_rss_mb"] - runs[0]["peak_rss_mb"], 1)
    return out
