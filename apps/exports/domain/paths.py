"""File names inside export archives, derived from global keys. Pure."""

from __future__ import annotations

import re

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def file_stem(global_key: str, data_row_id: str) -> str:
    """A safe file name stem for a row: the global key when it is already safe, else a cleaned key plus the start of
    the row id (so two keys that clean to the same text never collide, and `../x` cannot escape the folder)."""
    cleaned = _UNSAFE.sub("_", global_key).strip("._")[:150]
    if cleaned == global_key and cleaned:
        return cleaned
    return f"{cleaned or 'row'}__{data_row_id.replace('-', '')[:12]}"
