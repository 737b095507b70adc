"""Parsing untrusted JSON without a 500: nesting too deep for the parser's recursion becomes a `ValueError` like
any other malformed JSON, and `depth_exceeds` bounds how deep an accepted document may be. No Django imports:
domain code uses it too."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

MAX_JSON_DEPTH = 64


class TooDeep(ValueError):
    def __init__(self, limit: int | None = None) -> None:
        where = f"more than {limit} levels" if limit else "too deeply"
        super().__init__(f"The JSON is nested {where}.")
        self.limit = limit


def loads(text: str | bytes, *, max_depth: int | None = None) -> Any:
    """`json.loads`, with RecursionError (a few thousand `[`) reported as the ValueError `TooDeep`, and documents
    deeper than `max_depth` refused the same way."""
    try:
        value = json.loads(text)
    except RecursionError:
        raise TooDeep(max_depth) from None
    if max_depth is not None and depth_exceeds(value, max_depth):
        raise TooDeep(max_depth)
    return value


def depth_exceeds(value: Any, limit: int) -> bool:
    """Whether lists/objects nest deeper than `limit` levels (a scalar is depth 0, `[]` depth 1). Iterative."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        children: Iterable[Any]
        if isinstance(node, dict):
            children = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        depth += 1
        if depth > limit:
            return True
        stack.extend((child, depth) for child in children if isinstance(child, dict | list))
    return False
