"""Exports: NDJSON streamed as dicts, COCO/YOLO/VOC files, background exports; COCO ground-truth import."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx

from tdp_sdk._http import route
from tdp_sdk.resources._base import Resource, body, write_stream


class Exports(Resource):
    @route("GET", "/projects/{project_id}/export.ndjson")
    def stream(self, project_id: str, **filters: Any) -> Iterator[dict[str, Any]]:
        """Every exported row of a project as a dict, streamed (memory stays flat however large the project)."""
        response = self._http.send("GET", f"/projects/{project_id}/export.ndjson", params=filters, stream=True)
        try:
            for line in response.iter_lines():
                if line.strip():
                    yield json.loads(line)
        finally:
            response.close()

    @route("GET", "/projects/{project_id}/exports")
    def list(self, project_id: str) -> Iterator[dict[str, Any]]:
        return self._http.pages(f"/projects/{project_id}/exports")

    @route("POST", "/projects/{project_id}/exports")
    def start(
        self, project_id: str, format: str = "ndjson", filters: dict[str, Any] | None = None, **fields: Any
    ) -> dict[str, Any]:
        """Start a background export: `{"job","export"}`."""
        return self._http.json(
            "POST", f"/projects/{project_id}/exports", json_body=body(format=format, filters=filters, **fields)
        )

    @route("GET", "/exports/{export_id}")
    def get(self, export_id: str) -> dict[str, Any]:
        return self._http.json("GET", f"/exports/{export_id}")

    @route("POST", "/exports/{export_id}/retry")
    def retry(self, export_id: str) -> dict[str, Any]:
        return self._http.json("POST", f"/exports/{export_id}/retry", json_body={})

    @route("GET", "/exports/{export_id}/download")
    def download(self, export_id: str, path: str | os.PathLike[str]) -> Path:
        """Write an export's file to `path` in chunks (following the signed-URL redirect of cloud storage)."""
        target = Path(path)
        response = self._http.send("GET", f"/exports/{export_id}/download", stream=True)
        try:
            if response.status_code in (301, 302, 303, 307) and response.headers.get("Location"):
                response.close()
                with httpx.stream("GET", response.headers["Location"], timeout=300) as redirected:
                    redirected.raise_for_status()
                    write_stream(redirected, target)
            else:
                write_stream(response, target)
        finally:
            response.close()
        return target

    def export_to_file(
        self,
        project_id: str,
        path: str | os.PathLike[str],
        *,
        format: str = "coco",
        filters: dict[str, Any] | None = None,
        progress: Callable[[dict[str, Any]], None] | None = None,
        timeout: float | None = None,
    ) -> Path:
        """Start an export (`coco`, `yolo`, `voc`, `ndjson`, …), wait for its job with `progress(job)`, download it."""
        started = self.start(project_id, format=format, filters=filters)
        self._http.wait_job(started["job"], progress=progress, timeout=timeout)
        return self.download(started["export"], path)

    @route("POST", "/projects/{project_id}/ground_truth/coco")
    def import_coco_ground_truth(self, project_id: str, coco: dict[str, Any] | str | os.PathLike[str]) -> Any:
        """A COCO instances file (dict or path) stored as the project's ground-truth labels."""
        payload = coco if isinstance(coco, dict) else json.loads(Path(coco).read_text())
        response = self._http.send("POST", f"/projects/{project_id}/ground_truth/coco", json_body=payload)
        return self._http.result_or_job(response, wait=True)

    @route("GET", "/schemas/export-ndjson.json")
    def ndjson_schema(self) -> dict[str, Any]:
        """The JSON Schema of one NDJSON export line."""
        return self._http.json("GET", "/schemas/export-ndjson.json")
