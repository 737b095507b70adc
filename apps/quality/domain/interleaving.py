"""When the queue serves a benchmark row: the first few tasks always, then a reproducible draw per claim."""

from __future__ import annotations

import zlib

FIRST_BENCHMARKS = 5


def benchmark_draw(*, project: str, labeler: str, served: int) -> float:
    """A number in [0, 1) fixed by (project name, labeler's username, how many tasks they have had): seeded, so a
    test or a retried claim sees the same sequence, and so does a project set up again with the same names (the
    demo loads the same history every time, whatever ids its rows get)."""
    return zlib.crc32(f"{project}:{labeler}:{served}".encode()) / 0x1_0000_0000


def benchmark_due(*, project: str, labeler: str, served: int, rate: float) -> bool:
    """Whether this claim should be a benchmark row (if one is left for the labeler)."""
    if served < FIRST_BENCHMARKS:
        return True
    return benchmark_draw(project=project, labeler=labeler, served=served) < rate
