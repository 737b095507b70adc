"""Datasets, metadata fields, data rows (import from iterables, files or DataFrames), uploads, storage integrations."""

from __future__ import annotations

import builtins
import io
import json
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from tdp_sdk._http import route
from tdp_sdk.errors import RowErrors
from tdp_sdk.resources._base import Resource, body, metadata_params, upload
from tdp_sdk.resources._file_parts import SharedProgress, line_aligned_ranges, read_range, rows_before

PARALLEL_MIN_BYTES = 8 << 20  # below this a second request costs more than it saves
ProgressFn = Callable[[int, int], None]
"""progress(done, total): bytes sent of a file import, or rows of an iterable import."""


def _ndjson_chunks(rows: Iterable[dict[str, Any]], rows_per_request: int) -> Iterator[tuple[bytes, int]]:
    lines: list[bytes] = []
    for row in rows:
        lines.append(json.dumps(row, separators=(",", ":")).encode())
        if len(lines) >= rows_per_request:
            yield b"\n".join(lines) + b"\n", len(lines)
            lines = []
    if lines:
        yield b"\n".join(lines) + b"\n", len(lines)


def _merge(total: dict[str, Any], part: dict[str, Any], offset: int) -> None:
    for key in ("created", "updated", "failed"):
        total[key] = total.get(key, 0) + int(part.get(key) or 0)
    for error in part.get("errors") or []:
        total.setdefault("errors", []).append({**error, "index": int(error.get("index", 0)) + offset})


class Datasets(Resource):
    @route("GET", "/datasets")
    def list(self) -> Iterator[dict[str, Any]]:
        return self._http.pages("/datasets")

    @route("POST", "/datasets")
    def create(self, name: str, description: str = "") -> dict[str, Any]:
        return self._http.json("POST", "/datasets", json_body={"name": name, "description": description})

    @route("GET", "/datasets/{dataset_id}")
    def get(self, dataset_id: str) -> dict[str, Any]:
        return self._http.json("GET", f"/datasets/{dataset_id}")

    @route("PATCH", "/datasets/{dataset_id}")
    def update(self, dataset_id: str, **fields: Any) -> dict[str, Any]:
        return self._http.json("PATCH", f"/datasets/{dataset_id}", json_body=fields)

    @route("DELETE", "/datasets/{dataset_id}")
    def delete(self, dataset_id: str) -> None:
        self._http.json("DELETE", f"/datasets/{dataset_id}")

    @route("GET", "/metadata_fields")
    def metadata_fields(self) -> Iterator[dict[str, Any]]:
        return self._http.pages("/metadata_fields")

    @route("POST", "/metadata_fields")
    def create_metadata_field(self, name: str, kind: str, options: builtins.list[str] | None = None) -> dict[str, Any]:
        return self._http.json("POST", "/metadata_fields", json_body=body(name=name, kind=kind, options=options))

    # -- data rows ----------------------------------------------------------------------------------------------

    @route("GET", "/datasets/{dataset_id}/data_rows")
    def data_rows(
        self, dataset_id: str, *, metadata: dict[str, Any] | None = None, page_size: int = 1000, **params: Any
    ) -> Iterator[dict[str, Any]]:
        """Every row of a dataset, lazily, filtered by `metadata={"field": value}` and other API filters."""
        return self._http.pages(
            f"/datasets/{dataset_id}/data_rows", {"page_size": page_size, **metadata_params(metadata), **params}
        )

    @route("POST", "/datasets/{dataset_id}/data_rows")
    def import_rows(
        self,
        dataset_id: str,
        rows: Iterable[dict[str, Any]] | Any,
        *,
        rows_per_request: int = 10_000,
        raise_on_errors: bool = False,
        progress: ProgressFn | None = None,
    ) -> dict[str, Any]:
        """Upsert rows by `global_key` from any iterable of dicts (or a pandas DataFrame), in requests of
        `rows_per_request` rows. Returns `{"created","updated","failed","errors"}` with row indexes counted over the
        whole iterable; `raise_on_errors=True` raises `RowErrors` (after every good row is stored) instead."""
        if hasattr(rows, "to_dict") and hasattr(rows, "columns"):  # a pandas DataFrame, without importing pandas
            rows = (
                {k: v for k, v in record.items() if v is not None and v == v}  # drop None/NaN cells
                for record in rows.to_dict(orient="records")
            )
        total: dict[str, Any] = {"created": 0, "updated": 0, "failed": 0, "errors": []}
        done = 0
        for chunk, count in _ndjson_chunks(rows, rows_per_request):
            response = self._http.send(
                "POST", f"/datasets/{dataset_id}/data_rows", content=chunk, content_type="application/x-ndjson"
            )
            _merge(total, self._http.result_or_job(response, wait=True) or {}, done)
            done += count
            if progress:
                progress(done, done)
        if raise_on_errors and total["errors"]:
            raise RowErrors(total)
        return total

    def import_file(
        self,
        dataset_id: str,
        path: str | os.PathLike[str],
        *,
        content_type: str | None = None,
        progress: ProgressFn | None = None,
        raise_on_errors: bool = False,
        chunk_bytes: int = 4 << 20,
        parallel: int = 1,
    ) -> dict[str, Any]:
        """Import an NDJSON, JSON array or CSV file as one streamed request (memory stays flat whatever the file's
        size); `progress(bytes_sent, file_size)`. Large files become a server job, awaited here.

        `parallel` > 1 cuts an NDJSON file of at least `PARALLEL_MIN_BYTES` at line ends into that many parts sent
        side by side (the server stores them in parallel); error indexes still count from the file's first row.
        Parts are separate imports: a `global_key` repeated in two parts is stored once and updated by the later
        write, where one request would report the repeat as an error. CSV and JSON files are always sent whole."""
        path = Path(path)
        size = path.stat().st_size
        kind = content_type or {".csv": "text/csv", ".json": "application/json"}.get(
            path.suffix.lower(), "application/x-ndjson"
        )
        split = parallel > 1 and kind == "application/x-ndjson" and size >= PARALLEL_MIN_BYTES
        ranges = line_aligned_ranges(path, size, parallel) if split else [(0, size)]
        shared = SharedProgress(progress, size)

        def send(part: tuple[int, int]) -> dict[str, Any]:
            start, end = part
            response = self._http.send(
                "POST",
                f"/datasets/{dataset_id}/data_rows",
                content=read_range(path, start, end, chunk_bytes, shared),
                content_type=kind,
                headers_extra={"Content-Length": str(end - start)},
            )
            return dict(self._http.result_or_job(response, wait=True) or {})

        if len(ranges) == 1:
            result = send(ranges[0])
        else:
            with ThreadPoolExecutor(max_workers=len(ranges), thread_name_prefix="tdp-import") as pool:
                answers = list(pool.map(send, ranges))
            result = {"created": 0, "updated": 0, "failed": 0, "errors": []}
            for (start, _end), answer in zip(ranges, answers, strict=True):
                offset = rows_before(path, start) if start and answer.get("errors") else 0
                _merge(result, answer, offset)
            result["errors"].sort(key=lambda error: error["index"])
        if raise_on_errors and result.get("errors"):
            raise RowErrors(result)
        return result

    @route("POST", "/datasets/{dataset_id}/uploads")
    def upload_files(
        self, dataset_id: str, paths: Iterable[str | os.PathLike[str]], *, media_type: str | None = None
    ) -> dict[str, Any]:
        """Upload local files as rows (multipart; the file name becomes the global key unless the server says
        otherwise)."""
        return upload(self._http, f"/datasets/{dataset_id}/uploads", paths, form=body(media_type=media_type))

    @route("POST", "/datasets/{dataset_id}/data_rows/from_storage")
    def import_from_storage(
        self, dataset_id: str, integration: str, prefix: str = "", *, media_type: str = "image", **fields: Any
    ) -> dict[str, Any]:
        """Add one row per object under `prefix` of a storage integration's bucket (re-running updates, never
        duplicates); the answer counts `created`, `updated`, `failed` and lists the `global_keys`."""
        return self._http.json(
            "POST",
            f"/datasets/{dataset_id}/data_rows/from_storage",
            json_body={"integration": integration, "prefix": prefix, "media_type": media_type, **fields},
        )

    @route("GET", "/data_rows")
    def search_rows(self, *, metadata: dict[str, Any] | None = None, **params: Any) -> Iterator[dict[str, Any]]:
        """Rows across datasets (`global_key=`, `external_id=`, metadata filters …)."""
        return self._http.pages("/data_rows", {**metadata_params(metadata), **params})

    @route("GET", "/data_rows/{data_row_id}")
    def row(self, data_row_id: str) -> dict[str, Any]:
        return self._http.json("GET", f"/data_rows/{data_row_id}")

    @route("DELETE", "/data_rows/{data_row_id}")
    def delete_row(self, data_row_id: str) -> None:
        self._http.json("DELETE", f"/data_rows/{data_row_id}")

    @route("GET", "/data_rows/{data_row_id}/content")
    def row_content(self, data_row_id: str) -> bytes:
        """The asset's bytes (following the signed-URL redirect of cloud storage)."""
        response = self._http.send("GET", f"/data_rows/{data_row_id}/content")
        if response.status_code in (301, 302, 303, 307) and response.headers.get("Location"):
            import httpx

            return httpx.get(response.headers["Location"], timeout=120).raise_for_status().content
        return response.content

    @route("GET", "/data_rows/{data_row_id}/lineage")
    def row_lineage(self, data_row_id: str) -> dict[str, Any]:
        return self._http.json("GET", f"/data_rows/{data_row_id}/lineage")

    # -- storage integrations -----------------------------------------------------------------------------------

    @route("GET", "/storage_integrations")
    def storage_integrations(self) -> Iterator[dict[str, Any]]:
        return self._http.pages("/storage_integrations")

    @route("POST", "/storage_integrations")
    def create_storage_integration(self, name: str, bucket: str, **fields: Any) -> dict[str, Any]:
        """`provider="aws"`, `region`, `role_arn`, `endpoint_url`…; the answer holds the generated `external_id`."""
        return self._http.json(
            "POST", "/storage_integrations", json_body={"name": name, "bucket": bucket, "provider": "aws", **fields}
        )

    @route("GET", "/storage_integrations/{integration_id}")
    def storage_integration(self, integration_id: str) -> dict[str, Any]:
        return self._http.json("GET", f"/storage_integrations/{integration_id}")

    @route("PATCH", "/storage_integrations/{integration_id}")
    def update_storage_integration(self, integration_id: str, **fields: Any) -> dict[str, Any]:
        return self._http.json("PATCH", f"/storage_integrations/{integration_id}", json_body=fields)

    @route("DELETE", "/storage_integrations/{integration_id}")
    def delete_storage_integration(self, integration_id: str) -> None:
        self._http.json("DELETE", f"/storage_integrations/{integration_id}")

    @route("POST", "/storage_integrations/{integration_id}/validate")
    def validate_storage_integration(self, integration_id: str) -> dict[str, Any]:
        return self._http.json("POST", f"/storage_integrations/{integration_id}/validate", json_body={})


def ndjson_bytes(rows: Iterable[dict[str, Any]]) -> bytes:
    """Rows as an NDJSON body (for the methods that take one)."""
    out = io.BytesIO()
    for row in rows:
        out.write(json.dumps(row, separators=(",", ":")).encode() + b"\n")
    return out.getvalue()
