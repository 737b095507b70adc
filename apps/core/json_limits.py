"""Parsing untrusted JSON without a 500: nesting too deep for the parser's recursion becomes a `ValueError` like
any other malformed JSON, and `depth_exceeds` bounds how deep an accepted document may be. No Django imports:
domain code uses it too."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

MAX_JSON_DEPTH = 64


class TooDeep(ValueError):
    def __init__(self, limit: int | None = None) -> None:
        where = f"more than {limit} levels" if limit else "too deeply"
        super().__init__(f"The JSON is nested {where}.")
        self.limit = limit


class NumberOutOfRange(ValueError):
    pass


def finite_float(text: str) -> float:
    """`parse_float` hook: `1e400` would be `inf`, which no field accepts and arithmetic turns into NaN."""
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise NumberOutOfRange(f"The number {text[:20]}… is out of range (beyond ±1.8e308).")
    return value


def float_sized_int(text: str) -> int:
    """`parse_int` hook: an integer no float can hold (`1` and 400 zeros) would raise OverflowError in whatever
    field converts it (seconds, positions, confidences, vectors, settings): refused while parsing instead."""
    value = int(text)
    try:
        float(value)
    except OverflowError:
        raise NumberOutOfRange(f"The number {text[:20]}… is out of range (beyond ±1.8e308).") from None
    return value


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def lone_surrogate(value: Any) -> bool:
    """Whether a parsed document holds a string (key or value) with a lone UTF-16 surrogate (`"\\ud800"` is valid
    JSON but not Unicode text: UTF-8 cannot encode it, so storing or echoing it fails). Iterative."""
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            try:
                node.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(node, dict):
            stack.extend(node.keys())
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return False


def may_hold_surrogates(text: str | bytes) -> bool:
    """A cheap pre-check on the raw text: only a `\\uD800`-`\\uDFFF` escape can produce a lone surrogate."""
    if isinstance(text, bytes):
        return _SURROGATE_ESCAPE.search(text.decode("utf-8", "replace")) is not None
    return _SURROGATE_ESCAPE.search(text) is not None


class LoneSurrogate(ValueError):
    def __init__(self) -> None:
        super().__init__("The JSON holds a lone UTF-16 surrogate (e.g. \\ud800): not valid Unicode text.")


def reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def loads(text: str | bytes, *, max_depth: int | None = None) -> Any:
    """`json.loads`, with RecursionError (a few thousand `[`) reported as the ValueError `TooDeep`, and documents
    deeper than `max_depth` refused the same way; numbers beyond a float's range and NaN/Infinity refused with a
    ValueError (`NumberOutOfRange`) like any other malformed JSON."""
    try:
        value = json.loads(text, parse_int=float_sized_int, parse_float=finite_float, parse_constant=reject_constant)
    except RecursionError:
        raise TooDeep(max_depth) from None
    if max_depth is not None and depth_exceeds(value, max_depth):
        raise TooDeep(max_depth)
    if may_hold_surrogates(text) and lone_surrogate(value):
        raise LoneSurrogate()
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
