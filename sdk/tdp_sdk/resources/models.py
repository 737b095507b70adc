"""Pre-labels, models, model runs, predictions, ground truth, metrics, errors, comparison, quality figures."""

from __future__ import annotations

import builtins
import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from tdp_sdk._http import route
from tdp_sdk.resources._base import Resource, metadata_params


def _ndjson(lines: Iterable[dict[str, Any]] | bytes) -> bytes:
    if isinstance(lines, bytes):
        return lines
    return b"".join(json.dumps(line, separators=(",", ":")).encode() + b"\n" for line in lines)


class Models(Resource):
    # -- pre-labels ---------------------------------------------------------------------------------------------

    @route("POST", "/projects/{project_id}/prelabels")
    def import_prelabels(
        self,
        project_id: str,
        annotations: Iterable[dict[str, Any]] | bytes,
        *,
        wait: bool = True,
        progress: Callable[[dict[str, Any]], None] | None = None,
    ) -> Any:
        """NDJSON lines in the API.md annotation format, each with its `data_row`; per-line errors in the result."""
        response = self._http.send(
            "POST",
            f"/projects/{project_id}/prelabels",
            content=_ndjson(annotations),
            content_type="application/x-ndjson",
        )
        return self._http.result_or_job(response, wait=wait, progress=progress)

    @route("GET", "/projects/{project_id}/prelabels/imports")
    def prelabel_imports(self, project_id: str) -> Iterator[dict[str, Any]]:
        return self._http.pages(f"/projects/{project_id}/prelabels/imports")

    @route("GET", "/projects/{project_id}/prelabels/stats")
    def prelabel_stats(self, project_id: str) -> dict[str, Any]:
        return self._http.json("GET", f"/projects/{project_id}/prelabels/stats")

    # -- models and runs ----------------------------------------------------------------------------------------

    @route("GET", "/models")
    def list(self) -> Iterator[dict[str, Any]]:
        return self._http.pages("/models")

    @route("POST", "/models")
    def create(self, name: str, ontology: str, **fields: Any) -> dict[str, Any]:
        return self._http.json("POST", "/models", json_body={"name": name, "ontology": ontology, **fields})

    @route("GET", "/models/{model_id}")
    def get(self, model_id: str) -> dict[str, Any]:
        return self._http.json("GET", f"/models/{model_id}")

    @route("GET", "/models/{model_id}/runs")
    def runs(self, model_id: str) -> Iterator[dict[str, Any]]:
        return self._http.pages(f"/models/{model_id}/runs")

    @route("POST", "/models/{model_id}/runs")
    def create_run(self, model_id: str, name: str, **fields: Any) -> dict[str, Any]:
        return self._http.json("POST", f"/models/{model_id}/runs", json_body={"name": name, **fields})

    @route("GET", "/model_runs/{run_id}")
    def run(self, run_id: str) -> dict[str, Any]:
        return self._http.json("GET", f"/model_runs/{run_id}")

    @route("POST", "/model_runs/{run_id}/data_rows")
    def add_run_rows(self, run_id: str, **fields: Any) -> dict[str, Any]:
        """Add rows to a run with their split (`data_rows`/`global_keys`, `split`)."""
        return self._http.json("POST", f"/model_runs/{run_id}/data_rows", json_body=fields)

    @route("POST", "/model_runs/{run_id}/predictions")
    def import_predictions(
        self,
        run_id: str,
        predictions: Iterable[dict[str, Any]] | bytes,
        *,
        wait: bool = True,
        progress: Callable[[dict[str, Any]], None] | None = None,
    ) -> Any:
        response = self._http.send(
            "POST",
            f"/model_runs/{run_id}/predictions",
            content=_ndjson(predictions),
            content_type="application/x-ndjson",
        )
        return self._http.result_or_job(response, wait=wait, progress=progress)

    def import_coco_results(self, run_id: str, results: builtins.list[dict[str, Any]] | dict[str, Any]) -> Any:
        """COCO detection results (`[{"image_id","category_id","bbox","score"}]`, or `{annotations, images,
        categories}`) as the run's predictions; images match global keys by `file_name`."""
        response = self._http.send("POST", f"/model_runs/{run_id}/predictions", json_body=results)
        return self._http.result_or_job(response, wait=True)

    @route("POST", "/model_runs/{run_id}/ground_truth")
    def attach_ground_truth(self, run_id: str, project: str, *, wait: bool = True, **fields: Any) -> Any:
        response = self._http.send(
            "POST", f"/model_runs/{run_id}/ground_truth", json_body={"project": project, **fields}
        )
        return self._http.result_or_job(response, wait=wait)

    @route("GET", "/model_runs/{run_id}/ground_truth")
    def ground_truth(self, run_id: str) -> Any:
        return self._http.json("GET", f"/model_runs/{run_id}/ground_truth")

    @route("GET", "/model_runs/{run_id}/metrics")
    def metrics(
        self,
        run_id: str,
        *,
        iou: float | None = None,
        confidence: float | None = None,
        metadata: dict[str, Any] | None = None,
        wait: bool = True,
        **params: Any,
    ) -> Any:
        """Per-class precision/recall/AP, mAP and the confusion matrix; a 202 (large runs) is awaited."""
        query = {"iou": iou, "confidence": confidence, **metadata_params(metadata), **params}
        while True:
            response = self._http.send("GET", f"/model_runs/{run_id}/metrics", params=query)
            if response.status_code != 202 or not wait:
                return response.json()
            job = response.json().get("job")
            if job:
                self._http.wait_job(job)  # then read the cached answer

    @route("GET", "/model_runs/{run_id}/rows")
    def match_rows(self, run_id: str, **filters: Any) -> Iterator[dict[str, Any]]:
        """`class=`, `iou_lt=`, `confidence_gt=` … (`class` is a Python keyword: pass `**{"class": "car"}`)."""
        return self._http.pages(f"/model_runs/{run_id}/rows", filters)

    @route("GET", "/model_runs/{run_id}/errors")
    def errors(self, run_id: str, **params: Any) -> dict[str, Any]:
        return self._http.json("GET", f"/model_runs/{run_id}/errors", params=params)

    @route("POST", "/model_runs/{run_id}/send_to_labeling")
    def send_to_labeling(self, run_id: str, **fields: Any) -> dict[str, Any]:
        return self._http.json("POST", f"/model_runs/{run_id}/send_to_labeling", json_body=fields)

    @route("POST", "/model_runs/{run_id}/mine_similar")
    def mine_similar(self, run_id: str, **fields: Any) -> dict[str, Any]:
        return self._http.json("POST", f"/model_runs/{run_id}/mine_similar", json_body=fields)

    @route("GET", "/model_runs/{run_id}/training_data")
    def training_data(self, run_id: str) -> Iterator[dict[str, Any]]:
        """The run's reproducible training data, streamed line by line."""
        response = self._http.send("GET", f"/model_runs/{run_id}/training_data", stream=True)
        try:
            for line in response.iter_lines():
                if line.strip():
                    yield json.loads(line)
        finally:
            response.close()

    @route("GET", "/model_runs/compare")
    def compare(self, runs: builtins.list[str], **params: Any) -> dict[str, Any]:
        return self._http.json("GET", "/model_runs/compare", params={"runs": ",".join(runs), **params})

    @route("GET", "/model_runs/compare/flipped")
    def compare_flipped(self, runs: builtins.list[str], **params: Any) -> Iterator[dict[str, Any]]:
        return self._http.pages("/model_runs/compare/flipped", {"runs": ",".join(runs), **params})


class Quality(Resource):
    @route("GET", "/projects/{project_id}/quality")
    def summary(self, project_id: str) -> dict[str, Any]:
        return self._http.json("GET", f"/projects/{project_id}/quality")

    @route("GET", "/projects/{project_id}/quality/rows")
    def rows(self, project_id: str, **params: Any) -> Iterator[dict[str, Any]]:
        return self._http.pages(f"/projects/{project_id}/quality/rows", params)

    @route("POST", "/projects/{project_id}/quality/recompute")
    def recompute(self, project_id: str) -> Any:
        return self._http.json("POST", f"/projects/{project_id}/quality/recompute", json_body={})

    @route("GET", "/projects/{project_id}/data_rows/{data_row_id}/consensus")
    def consensus(self, project_id: str, data_row_id: str) -> dict[str, Any]:
        return self._http.json("GET", f"/projects/{project_id}/data_rows/{data_row_id}/consensus")

    @route("POST", "/labels/{label_id}/benchmark")
    def make_benchmark(self, label_id: str) -> Any:
        return self._http.json("POST", f"/labels/{label_id}/benchmark", json_body={})

    @route("DELETE", "/labels/{label_id}/benchmark")
    def unmake_benchmark(self, label_id: str) -> None:
        self._http.json("DELETE", f"/labels/{label_id}/benchmark")

    @route("GET", "/projects/{project_id}/performance")
    def performance(self, project_id: str, group_by: str = "labeler", **params: Any) -> Any:
        return self._http.json("GET", f"/projects/{project_id}/performance", params={"group_by": group_by, **params})

    @route("GET", "/projects/{project_id}/performance.csv")
    def performance_csv(self, project_id: str, group_by: str = "labeler", **params: Any) -> str:
        response = self._http.send(
            "GET", f"/projects/{project_id}/performance.csv", params={"group_by": group_by, **params}
        )
        return response.text
