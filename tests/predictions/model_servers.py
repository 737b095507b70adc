"""Model servers as real processes for the endpoint tests: the reference server and the Label Studio-protocol one of
examples/model_server/, and a faulty one (tests/predictions/fault_server.py)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "examples" / "model_server" / "server.py"
LABEL_STUDIO = ROOT / "examples" / "model_server" / "label_studio_backend.py"
FAULTY = Path(__file__).resolve().parent / "fault_server.py"


@contextmanager
def running_server(script: Path, *args: str) -> Iterator[str]:
    """Start `script --port 0 …`, wait for its "on http://host:port" line, yield that base URL."""
    process = subprocess.Popen(
        [sys.executable, str(script), "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        cwd=ROOT,
    )
    try:
        line = process.stdout.readline().decode() if process.stdout else ""
        found = re.search(r"(http://127\.0\.0\.1:\d+)", line)
        assert found, f"{script.name} did not start: {line!r}"
        yield found.group(1)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def host_of(url: str) -> str:
    return url.removeprefix("http://")
