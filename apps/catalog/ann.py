"""Approximate nearest neighbours (USearch HNSW graph) for embedding spaces of `TDP_CATALOG_ANN_MIN_VECTORS` or more
vectors, persisted per space and updated incrementally.

The graph's keys are the positions of the space's in-process index (`apps.catalog.index.SpaceIndex`: vectors in id
order). Beside the graph file a small JSON file records the space version, how many positions it covers, a digest
of their row ids and a per-row checksum (the vector's dot product with a fixed probe vector). When the space changes
(`version`), the graph is brought up to date instead of rebuilt whenever the positions it covers still hold the same
rows: rows appended since (new vectors have larger ids) are added, rows whose vector changed (checksum) are replaced.
A removed vector shifts the positions: then the graph is rebuilt.

Queries never wait for a build: `searcher()` returns a graph that covers the space's current version, or None (the
caller answers exactly) after starting the build or update on a background thread of this process. `build_now()`
builds synchronously (the `catalog_ann_build` command, the benchmark). Results are re-ranked with the exact cosine of
the float32 vectors, so scores are the same as exact search's.

Graph parameters (measured in `benchmark scale`, docs/deploy.md): half-precision vectors, 16 links per node,
expansion 64 on insert and search (`TDP_CATALOG_ANN_EXPANSION`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from django.conf import settings

from apps.catalog.index import SpaceIndex

log = logging.getLogger(__name__)

CONNECTIVITY = 16
ADD_CHUNK = 50_000
CHECKSUM_TOLERANCE = 1e-3  # float16 storage rounds; a changed vector moves its checksum far more


def min_vectors() -> int:
    return int(getattr(settings, "TDP_CATALOG_ANN_MIN_VECTORS", 50_000))


def expansion() -> int:
    return int(getattr(settings, "TDP_CATALOG_ANN_EXPANSION", 64))


def directory() -> Path:
    configured = getattr(settings, "TDP_CATALOG_ANN_DIR", "")
    return Path(configured) if configured else Path(settings.MEDIA_ROOT) / "catalog-ann"


@dataclass
class Graph:
    space_id: str
    version: int
    count: int  # positions 0..count-1 are in the graph
    digest: str  # of those positions' row ids
    checksums: npt.NDArray[np.float32]
    index: object  # usearch.index.Index
    rebuilt: bool  # built from scratch (False: loaded and/or extended)


_graphs: dict[str, Graph] = {}
_building: set[str] = set()
_lock = threading.Lock()


def _probe(dims: int) -> npt.NDArray[np.float32]:
    vector = np.random.default_rng(20260101).standard_normal(dims).astype(np.float32)
    return vector / np.linalg.norm(vector)


def _digest(row_ids: list[str]) -> str:
    return hashlib.sha256("\n".join(row_ids).encode()).hexdigest()


def _new_index(dims: int) -> object:
    from usearch.index import Index

    return Index(
        ndim=dims,
        metric="ip",
        dtype="f16",
        connectivity=CONNECTIVITY,
        expansion_add=expansion(),
        expansion_search=expansion(),
    )


def _paths(space_id: str) -> tuple[Path, Path]:
    base = directory() / space_id
    return base.with_suffix(".usearch"), base.with_suffix(".json")


def _add(index: object, matrix: npt.NDArray[np.float32], start: int, stop: int) -> None:
    for begin in range(start, stop, ADD_CHUNK):
        end = min(stop, begin + ADD_CHUNK)
        index.add(np.arange(begin, end, dtype=np.uint64), matrix[begin:end], threads=0)  # type: ignore[attr-defined]


def _load(space: SpaceIndex) -> Graph | None:
    graph_path, meta_path = _paths(space.space_id)
    if not graph_path.exists() or not meta_path.exists():
        return None
    try:
        meta = json.loads(meta_path.read_text())
        index = _new_index(space.matrix.shape[1])
        index.load(str(graph_path))  # type: ignore[attr-defined]
        checksums = np.asarray(meta["checksums"], dtype=np.float32)
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        log.warning("ANN graph of space %s unreadable (%s): rebuilding", space.space_id, exc)
        return None
    return Graph(space.space_id, int(meta["version"]), int(meta["count"]), meta["digest"], checksums, index, False)


def _save(graph: Graph) -> None:
    graph_path, meta_path = _paths(graph.space_id)
    graph_path.parent.mkdir(parents=True, exist_ok=True)
    tmp_graph, tmp_meta = graph_path.with_suffix(".usearch.tmp"), meta_path.with_suffix(".json.tmp")
    graph.index.save(str(tmp_graph))  # type: ignore[attr-defined]
    meta = {
        "version": graph.version,
        "count": graph.count,
        "digest": graph.digest,
        "checksums": [round(float(x), 6) for x in graph.checksums],
    }
    tmp_meta.write_text(json.dumps(meta))
    os.replace(tmp_graph, graph_path)
    os.replace(tmp_meta, meta_path)


def _update(space: SpaceIndex, graph: Graph | None) -> Graph:
    """A graph covering every position of `space`: `graph` extended and patched when it still matches, else new."""
    n = len(space)
    checksums = (space.matrix @ _probe(space.matrix.shape[1])).astype(np.float32)
    usable = (
        graph is not None
        and graph.count <= n
        and graph.checksums.shape[0] == graph.count
        and graph.digest == _digest(space.row_ids[: graph.count])
    )
    if graph is not None and usable:
        changed = np.flatnonzero(np.abs(checksums[: graph.count] - graph.checksums) > CHECKSUM_TOLERANCE)
        for position in changed:
            graph.index.remove(int(position))  # type: ignore[attr-defined]
        if changed.size:
            graph.index.add(changed.astype(np.uint64), space.matrix[changed], threads=0)  # type: ignore[attr-defined]
        _add(graph.index, space.matrix, graph.count, n)
        rebuilt = False
        index = graph.index
    else:
        index = _new_index(space.matrix.shape[1])
        _add(index, space.matrix, 0, n)
        rebuilt = True
    fresh = Graph(space.space_id, space.version, n, _digest(space.row_ids), checksums, index, rebuilt)
    _save(fresh)
    return fresh


def build_now(space: SpaceIndex) -> Graph:
    """Load, update or build the graph of the space at its current version, and keep it in this process."""
    with _lock:
        current = _graphs.get(space.space_id)
    if current is not None and current.version == space.version and current.count == len(space):
        return current
    loaded = current if current is not None else _load(space)
    if loaded is not None and loaded.version == space.version and loaded.count == len(space):
        fresh = loaded
    else:
        fresh = _update(space, loaded)
    with _lock:
        _graphs[space.space_id] = fresh
    return fresh


def _build_in_background(space: SpaceIndex) -> None:
    def run() -> None:
        try:
            build_now(space)
        except Exception:  # a failed build leaves exact search answering; logged for the operator
            log.exception("ANN graph of space %s failed", space.space_id)
        finally:
            from django.db import connection

            connection.close()
            with _lock:
                _building.discard(space.space_id)

    with _lock:
        if space.space_id in _building:
            return
        _building.add(space.space_id)
    threading.Thread(target=run, name=f"ann-{space.space_id}", daemon=True).start()


def searcher(space: SpaceIndex) -> Graph | None:
    """The graph for this version of the space, or None (answer exactly) when the space is below the threshold or
    its graph is still being built or updated (started here when needed)."""
    if len(space) < min_vectors():
        return None
    with _lock:
        current = _graphs.get(space.space_id)
    if current is not None and current.version == space.version and current.count == len(space):
        return current
    _build_in_background(space)
    return None


def search(
    graph: Graph,
    space: SpaceIndex,
    query: npt.NDArray[np.float32],
    k: int,
    *,
    mask: npt.NDArray[np.bool_] | None = None,
    exclude: int | None = None,
    oversample: int = 10,
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.float32]] | None:
    """Positions and exact cosine scores of (about) the `k` nearest rows, best first; None when a mask leaves fewer
    than `k` of the candidates (the caller then searches exactly)."""
    wanted = k + (1 if exclude is not None else 0)
    fetch = wanted if mask is None else wanted * oversample
    fetch = min(fetch, len(space))
    found = graph.index.search(query.astype(np.float32), fetch)  # type: ignore[attr-defined]
    positions = np.asarray(found.keys, dtype=np.intp)
    if exclude is not None:
        positions = positions[positions != exclude]
    if mask is not None:
        positions = positions[mask[positions]]
        if positions.shape[0] < k:
            return None
    scores = space.matrix[positions] @ query.astype(np.float32)
    order = np.lexsort((positions, -scores))[:k]
    return positions[order], scores[order].astype(np.float32)


def forget(space_id: object) -> None:
    """Drop the in-process graph of a space (the file stays for the next load)."""
    with _lock:
        _graphs.pop(str(space_id), None)
