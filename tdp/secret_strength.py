"""Refuses weak `SECRET_KEY`s in production (`tdp.settings.prod`): too short, Django's insecure default, or low
entropy (a word or a short pattern repeated, a small alphabet), not only short ones. Pure: no Django imports."""

from __future__ import annotations

import math
import zlib
from collections import Counter

MIN_LENGTH = 50
MIN_DISTINCT = 12
MIN_ENTROPY_BITS = 200  # Shannon entropy of the characters times the length; a random 50-char key has ~250+
MIN_COMPRESSED_RATIO = 0.8  # a random key does not compress; a repeated word does


def secret_key_problem(key: str) -> str | None:
    """Why `key` is too weak to sign sessions and tasks, or None when it looks random enough."""
    if len(key) < MIN_LENGTH:
        return f"it has {len(key)} characters; at least {MIN_LENGTH} are needed"
    if key.startswith("django-insecure"):
        return "it is Django's insecure development key"
    if len(set(key)) < MIN_DISTINCT:
        return f"it uses only {len(set(key))} distinct characters"
    for period in range(1, len(key) // 2 + 1):
        if all(key[i] == key[i % period] for i in range(len(key))):
            return "it is a short pattern repeated"
    counts = Counter(key)
    per_char = -sum(n / len(key) * math.log2(n / len(key)) for n in counts.values())
    if per_char * len(key) < MIN_ENTROPY_BITS:
        return f"its characters carry about {per_char * len(key):.0f} bits of entropy; at least {MIN_ENTROPY_BITS}"
    if len(zlib.compress(key.encode(), 9)) < MIN_COMPRESSED_RATIO * len(key.encode()):
        return "it repeats itself (it compresses well)"
    return None
