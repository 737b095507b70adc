"""Embeddings, similarity, projections, outliers, drift, slices."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from tdp_sdk._http import route
from tdp_sdk.resources._base import Resource


class Catalog(Resource):
    @route("GET", "/embeddings")
    def embeddings(self) -> Iterator[dict[str, Any]]:
        return self._http.pages("/embeddings")

    @route("POST", "/embeddings")
    def create_embedding(self, name: str, dims: int, **fields: Any) -> dict[str, Any]:
        return self._http.json("POST", "/embeddings", json_body={"name": name, "dims": dims, **fields})

    @route("GET", "/embeddings/{space_id}")
    def embedding(self, space_id: str) -> dict[str, Any]:
        return self._http.json("GET", f"/embeddings/{space_id}")

    @route("POST", "/embeddings/{space_id}/vectors")
    def upload_vectors(
        self, space_id: str, vectors: Iterable[dict[str, Any]], *, per_request: int = 5_000
    ) -> dict[str, Any]:
        """`[{"data_row": id | "global_key": key, "vector": [...]}, ...]`, sent in requests of `per_request`."""
        total: dict[str, Any] = {}
        chunk: list[dict[str, Any]] = []

        def flush() -> None:
            answer = self._http.json("POST", f"/embeddings/{space_id}/vectors", json_body=chunk) or {}
            for key, value in answer.items():
                if isinstance(value, int):
                    total[key] = total.get(key, 0) + value
                elif isinstance(value, list):
                    total.setdefault(key, []).extend(value)

        for vector in vectors:
            chunk.append({k: (list(v) if k == "vector" else v) for k, v in vector.items()})
            if len(chunk) >= per_request:
                flush()
                chunk = []
        if chunk:
            flush()
        return total

    @route("POST", "/embeddings/{space_id}/analyses")
    def analyse(self, space_id: str, **fields: Any) -> Any:
        return self._http.json("POST", f"/embeddings/{space_id}/analyses", json_body=fields)

    @route("GET", "/embeddings/{space_id}/similar")
    def similar_in_space(self, space_id: str, **params: Any) -> Any:
        return self._http.json("GET", f"/embeddings/{space_id}/similar", params=params)

    @route("POST", "/embeddings/{space_id}/similar")
    def similar_to_vector(self, space_id: str, vector: list[float], k: int = 10, **fields: Any) -> Any:
        return self._http.json(
            "POST", f"/embeddings/{space_id}/similar", json_body={"vector": vector, "k": k, **fields}
        )

    @route("GET", "/datasets/{dataset_id}/similar")
    def similar(self, dataset_id: str, *, data_row: str, embedding: str, k: int = 10, **params: Any) -> Any:
        """The `k` rows nearest to `data_row` in the embedding space."""
        return self._http.json(
            "GET",
            f"/datasets/{dataset_id}/similar",
            params={"data_row": data_row, "embedding": embedding, "k": k, **params},
        )

    @route("POST", "/datasets/{dataset_id}/similar")
    def similar_to(self, dataset_id: str, **fields: Any) -> Any:
        return self._http.json("POST", f"/datasets/{dataset_id}/similar", json_body=fields)

    @route("GET", "/datasets/{dataset_id}/projection")
    def projection(self, dataset_id: str, embedding: str, **params: Any) -> Any:
        return self._http.json("GET", f"/datasets/{dataset_id}/projection", params={"embedding": embedding, **params})

    @route("GET", "/datasets/{dataset_id}/outliers")
    def outliers(self, dataset_id: str, embedding: str, **params: Any) -> Any:
        return self._http.json("GET", f"/datasets/{dataset_id}/outliers", params={"embedding": embedding, **params})

    @route("GET", "/datasets/{dataset_id}/drift")
    def drift(self, dataset_id: str, embedding: str, **params: Any) -> Any:
        return self._http.json("GET", f"/datasets/{dataset_id}/drift", params={"embedding": embedding, **params})

    @route("POST", "/datasets/{dataset_id}/embed")
    def embed(self, dataset_id: str, **fields: Any) -> Any:
        """Compute the built-in embedding for a dataset's rows (a job)."""
        return self._http.json("POST", f"/datasets/{dataset_id}/embed", json_body=fields)

    @route("GET", "/slices")
    def slices(self) -> Iterator[dict[str, Any]]:
        return self._http.pages("/slices")

    @route("POST", "/slices")
    def create_slice(self, name: str, **fields: Any) -> dict[str, Any]:
        return self._http.json("POST", "/slices", json_body={"name": name, **fields})

    @route("GET", "/slices/{slice_id}")
    def slice(self, slice_id: str) -> dict[str, Any]:
        return self._http.json("GET", f"/slices/{slice_id}")

    @route("DELETE", "/slices/{slice_id}")
    def delete_slice(self, slice_id: str) -> None:
        self._http.json("DELETE", f"/slices/{slice_id}")

    @route("POST", "/slices/{slice_id}/send")
    def send_slice(self, slice_id: str, **fields: Any) -> Any:
        """Send a slice's rows to a project as a batch (`project`, `priority`, …)."""
        return self._http.json("POST", f"/slices/{slice_id}/send", json_body=fields)

    @route("GET", "/selection_targets")
    def selection_targets(self) -> Any:
        return self._http.json("GET", "/selection_targets")
