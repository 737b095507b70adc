"""Vector payload validation and the compact float32 encoding stored per (space, data row)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

MAX_DIMS = 4096
FloatMatrix = npt.NDArray[np.float32]


class VectorError(ValueError):
    pass


def parse_vector(raw: Any, dims: int) -> npt.NDArray[np.float32]:
    """A list of `dims` finite numbers → float32 array, else VectorError with a human message."""
    if not isinstance(raw, list):
        raise VectorError("vector must be a list of numbers.")
    if len(raw) != dims:
        raise VectorError(f"vector has {len(raw)} dimensions; this embedding has {dims}.")
    for value in raw:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise VectorError("vector must contain only numbers.")
    array = np.asarray(raw, dtype=np.float64)
    if not np.all(np.isfinite(array)):
        raise VectorError("vector contains NaN or infinite values.")
    if np.any(np.abs(array) > np.finfo(np.float32).max):
        raise VectorError("vector values exceed the float32 range.")
    if not np.any(array):
        raise VectorError("vector must not be all zeros (it has no direction).")
    single = array.astype(np.float32)
    with np.errstate(over="ignore", invalid="ignore"):
        length = float(np.linalg.norm(single))  # computed in float32, as the search does
    if not math.isfinite(length):
        raise VectorError("vector values are too large: its length exceeds the float32 range (about 1.8e19 each).")
    return single


def encode(vector: npt.NDArray[np.float32]) -> bytes:
    return np.ascontiguousarray(vector, dtype="<f4").tobytes()


def decode(blob: bytes | memoryview, dims: int) -> npt.NDArray[np.float32]:
    array = np.frombuffer(bytes(blob), dtype="<f4")
    if array.shape[0] != dims:
        raise VectorError(f"stored vector has {array.shape[0]} dimensions, expected {dims}.")
    return array.astype(np.float32)


def normalize_rows(matrix: npt.NDArray[np.floating[Any]]) -> FloatMatrix:
    """Unit-length rows (float32); zero rows stay zero."""
    matrix = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (matrix / norms).astype(np.float32, copy=False)
