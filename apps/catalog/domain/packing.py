"""Pack the per-row arrays of an analysis (row ids, x, y, cluster, outlier score/rank) into one npz blob."""

from __future__ import annotations

import io
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt


@dataclass
class AnalysisArrays:
    row_ids: list[str]
    coords: npt.NDArray[np.float32]
    clusters: npt.NDArray[np.int32]
    outlier_scores: npt.NDArray[np.float32]
    outlier_ranks: npt.NDArray[np.float32]


def pack(arrays: AnalysisArrays) -> bytes:
    ids = np.frombuffer(b"".join(uuid.UUID(r).bytes for r in arrays.row_ids), dtype="S16")
    buffer = io.BytesIO()
    np.savez_compressed(
        buffer,
        ids=ids,
        coords=arrays.coords.astype(np.float32),
        clusters=arrays.clusters.astype(np.int32),
        outlier_scores=arrays.outlier_scores.astype(np.float32),
        outlier_ranks=arrays.outlier_ranks.astype(np.float32),
    )
    return buffer.getvalue()


def unpack(blob: bytes | memoryview) -> AnalysisArrays:
    with np.load(io.BytesIO(bytes(blob)), allow_pickle=False) as data:
        ids: Sequence[bytes] = data["ids"].tolist()
        return AnalysisArrays(
            row_ids=[str(uuid.UUID(bytes=b.ljust(16, b"\0"))) for b in ids],
            coords=data["coords"],
            clusters=data["clusters"],
            outlier_scores=data["outlier_scores"],
            outlier_ranks=data["outlier_ranks"],
        )
