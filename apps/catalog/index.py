"""The in-process search index of an embedding space: unit-length float32 matrix + row ids + dataset codes.

Loaded lazily on the first query of a space, kept per process, and reloaded when the space's `version` (bumped on
every vector upload) differs from the loaded one. Thread-safe: one lock per space serialises loading; queries read
an immutable snapshot.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from django.conf import settings

from apps.catalog.domain.vectors import normalize_rows
from apps.catalog.models import EmbeddingSpace, EmbeddingVector

LOAD_CHUNK = 5000


@dataclass(frozen=True)
class SpaceIndex:
    space_id: str
    version: int
    matrix: npt.NDArray[np.float32]  # (n, dims), unit rows
    row_ids: list[str]
    dataset_codes: npt.NDArray[np.int32]
    datasets: list[str]  # code → dataset id
    position: dict[str, int] = field(repr=False)

    def __len__(self) -> int:
        return len(self.row_ids)

    def dataset_mask(self, dataset_id: str) -> npt.NDArray[np.bool_]:
        try:
            code = self.datasets.index(dataset_id)
        except ValueError:
            return np.zeros(len(self.row_ids), dtype=bool)
        return self.dataset_codes == code

    def rows_mask(self, row_ids: Any) -> npt.NDArray[np.bool_]:
        mask = np.zeros(len(self.row_ids), dtype=bool)
        positions = [p for p in (self.position.get(str(r)) for r in row_ids) if p is not None]
        if positions:
            mask[np.asarray(positions, dtype=np.intp)] = True
        return mask


_indexes: OrderedDict[str, SpaceIndex] = OrderedDict()  # least recently used first
_locks: dict[str, threading.Lock] = {}
_registry_lock = threading.Lock()


def _lock_for(space_id: str) -> threading.Lock:
    with _registry_lock:
        return _locks.setdefault(space_id, threading.Lock())


def build_index(space: EmbeddingSpace) -> SpaceIndex:
    """Read every vector of the space (bounded chunks) into one matrix."""
    count = EmbeddingVector.objects.filter(space=space).count()
    matrix = np.empty((count, space.dims), dtype=np.float32)
    row_ids: list[str] = []
    codes = np.empty(count, dtype=np.int32)
    datasets: dict[str, int] = {}
    rows = (
        EmbeddingVector.objects.filter(space=space)
        .order_by("id")
        .values_list("data_row_id", "data_row__dataset_id", "vector")
        .iterator(chunk_size=LOAD_CHUNK)
    )
    i = 0
    for row_id, dataset_id, blob in rows:
        if i >= count:  # rows added while loading: the version bump makes the next query reload
            break
        matrix[i] = np.frombuffer(bytes(blob), dtype="<f4")
        row_ids.append(str(row_id))
        codes[i] = datasets.setdefault(str(dataset_id), len(datasets))
        i += 1
    matrix, codes = matrix[:i], codes[:i]
    return SpaceIndex(
        space_id=str(space.pk),
        version=space.version,
        matrix=normalize_rows(matrix),
        row_ids=row_ids,
        dataset_codes=codes,
        datasets=list(datasets),
        position={r: p for p, r in enumerate(row_ids)},
    )


def get_index(space: EmbeddingSpace) -> SpaceIndex:
    """The index of the space at its current version (loads or reloads it when needed)."""
    key = str(space.pk)
    current = _indexes.get(key)
    if current is not None and current.version == space.version:
        _touch(key)
        return current
    with _lock_for(key):
        current = _indexes.get(key)
        if current is not None and current.version == space.version:
            return current
        fresh = build_index(space)
        with _registry_lock:
            _indexes[key] = fresh
            _indexes.move_to_end(key)
            limit = max(1, int(getattr(settings, "TDP_CATALOG_MAX_INDEXES", 4)))
            while len(_indexes) > limit:  # bounded memory: evict the least recently used space
                _indexes.popitem(last=False)
        return fresh


def _touch(key: str) -> None:
    with _registry_lock:
        if key in _indexes:
            _indexes.move_to_end(key)


def invalidate(space_id: object) -> None:
    with _registry_lock:
        _indexes.pop(str(space_id), None)


def clear() -> None:
    with _registry_lock:
        _indexes.clear()
