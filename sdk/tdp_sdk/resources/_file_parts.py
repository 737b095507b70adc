"""An NDJSON file cut into byte ranges at line ends, each streamed as its own import request (`import_file`'s
`parallel`): the server parses and stores the parts side by side (one worker each) instead of one after the other.
Memory stays flat: every part is read from its range of the file in blocks."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator
from pathlib import Path


def line_aligned_ranges(path: Path, size: int, parts: int) -> list[tuple[int, int]]:
    """`parts` byte ranges covering the file, each ending just after a newline (the last at the end of the file);
    fewer when lines are long. Cut points are found by reading forward from equal divisions of the file."""
    cuts = [0]
    with path.open("rb") as handle:
        for k in range(1, parts):
            start = max(cuts[-1], size * k // parts)
            handle.seek(start)
            handle.readline()  # to the end of the line that `start` falls in
            cut = handle.tell()
            if cut >= size:
                break
            if cut > cuts[-1]:
                cuts.append(cut)
    cuts.append(size)
    return [(a, b) for a, b in itertools.pairwise(cuts) if b > a]


class SharedProgress:
    """Bytes sent over all parts, reported as `progress(sent, total)` from whichever part sent them."""

    def __init__(self, progress: Callable[[int, int], None] | None, total: int) -> None:
        self.progress, self.total, self.sent = progress, total, 0
        self._lock = threading.Lock()

    def add(self, n: int) -> None:
        if self.progress is None:
            return
        with self._lock:
            self.sent += n
            self.progress(self.sent, self.total)


def read_range(path: Path, start: int, end: int, block: int, progress: SharedProgress) -> Iterator[bytes]:
    with path.open("rb") as handle:
        handle.seek(start)
        left = end - start
        while left > 0:
            data = handle.read(min(block, left))
            if not data:
                raise OSError(f"{path} became shorter while it was being imported")
            left -= len(data)
            yield data
            progress.add(len(data))


def rows_before(path: Path, end: int) -> int:
    """The server's row index at byte `end` (a line end): the lines before it that are not blank, counted as the
    server counts them. Read only when a later part reports errors, to give them their index in the whole file."""
    count = position = 0
    with path.open("rb") as handle:
        while position < end and (raw := handle.readline()):
            position += len(raw)
            text = raw.decode("utf-8", errors="replace").rstrip("\n")
            if text and not text.isspace():
                count += 1
    return count
