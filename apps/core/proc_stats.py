"""CPU time of local processes, for benchmarks: a figure that a loaded machine does not inflate the way wall time is.

Linux only (`/proc`); every function answers `None` where the numbers cannot be read (another OS, a remote
database), and benchmarks then print null rather than a made-up figure.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.db import connection

_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat_fields(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def process_cpu_seconds(pid: int, *, with_reaped_children: bool = False) -> float | None:
    """User + system CPU of `pid`; with its children that have already exited and been waited for, if asked."""
    fields = _stat_fields(pid)
    if fields is None:
        return None
    ticks = int(fields[11]) + int(fields[12])
    if with_reaped_children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / _TICKS


def children_of(pid: int) -> list[int]:
    found: list[int] = []
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return found
    for task in tasks:
        try:
            found += [int(x) for x in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def backend_pid() -> int | None:
    """The process id of this connection's PostgreSQL backend (None on SQLite)."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return int(cursor.fetchone()[0])


def backend_cpu_seconds() -> float | None:
    """CPU spent so far by this connection's own PostgreSQL backend (None on SQLite or a remote server)."""
    pid = backend_pid()
    return None if pid is None else process_cpu_seconds(pid)


def database_cpu_seconds() -> float | None:
    """CPU spent so far by the whole local PostgreSQL server of the default connection: the postmaster, every live
    backend and background process, and the backends that already exited (reaped by the postmaster). Take the
    difference of two calls around a workload. None on SQLite or when the server is not a local process."""
    backend = backend_pid()
    if backend is None:
        return None
    fields = _stat_fields(backend)
    if fields is None:
        return None
    postmaster = int(fields[1])
    total = process_cpu_seconds(postmaster, with_reaped_children=True)
    if total is None:
        return None
    for child in children_of(postmaster):
        total += process_cpu_seconds(child) or 0.0
    return total
