"""Model endpoints: the team's model servers the platform calls (pre-labels), their check, a project's progress."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tdp_sdk._http import route
from tdp_sdk.resources._base import Resource, body


class ModelEndpoints(Resource):
    @route("GET", "/model_endpoints")
    def list(self) -> Iterator[dict[str, Any]]:
        return self._http.pages("/model_endpoints")

    @route("POST", "/model_endpoints")
    def create(self, name: str, url: str, **fields: Any) -> dict[str, Any]:
        """`kind` (detector, classifier, embedder, interactive), `protocol` (tdp, label_studio), `ontology`,
        `class_map`, `secret` (write-only: never returned), `secret_header`, `timeout_seconds`, `batch_size`,
        `max_concurrency`."""
        return self._http.json("POST", "/model_endpoints", json_body=body(name=name, url=url, **fields))

    @route("GET", "/model_endpoints/{endpoint_id}")
    def get(self, endpoint_id: str) -> dict[str, Any]:
        return self._http.json("GET", f"/model_endpoints/{endpoint_id}")

    @route("PATCH", "/model_endpoints/{endpoint_id}")
    def update(self, endpoint_id: str, **fields: Any) -> dict[str, Any]:
        return self._http.json("PATCH", f"/model_endpoints/{endpoint_id}", json_body=fields)

    @route("DELETE", "/model_endpoints/{endpoint_id}")
    def delete(self, endpoint_id: str) -> None:
        self._http.json("DELETE", f"/model_endpoints/{endpoint_id}")

    @route("POST", "/model_endpoints/{endpoint_id}/check")
    def check(self, endpoint_id: str) -> dict[str, Any]:
        """Calls the server's health and setup: `{"ok", "health", "setup", "errors"}`."""
        return self._http.json("POST", f"/model_endpoints/{endpoint_id}/check", json_body={})

    @route("GET", "/projects/{project_id}/model_status")
    def project_status(self, project_id: str) -> dict[str, Any]:
        """Automatic pre-labels of a project: rows sent / answered / failed / waiting, the reasons, the circuit."""
        return self._http.json("GET", f"/projects/{project_id}/model_status")

    @route("POST", "/projects/{project_id}/model_status/resend")
    def resend(self, project_id: str, failed_only: bool = True) -> dict[str, Any]:
        return self._http.json(
            "POST", f"/projects/{project_id}/model_status/resend", json_body={"failed_only": failed_only}
        )

    @route("POST", "/projects/{project_id}/model_retrain")
    def retrain(self, project_id: str) -> dict[str, Any]:
        """Call the project's retraining endpoint now (`settings.model.retrain_endpoint`) with a signed link to a
        training-data snapshot of its done labels; the call's record (202, queued or already done)."""
        return self._http.json("POST", f"/projects/{project_id}/model_retrain", json_body={})

    @route("GET", "/projects/{project_id}/model_retrain")
    def retrain_calls(self, project_id: str) -> Any:
        """The project's last training calls, newest first (a list): trigger, done labels, rows, status, error, model
        version."""
        return self._http.json("GET", f"/projects/{project_id}/model_retrain")["results"]

    @route("GET", "/training_data/{token}")
    def training_data(self, token: str) -> bytes:
        """The `training_data` NDJSON of a retraining call's snapshot, by its signed token (no credentials needed)."""
        return self._http.send("GET", f"/training_data/{token}").content

    @route("POST", "/tasks/{task_id}/assist")
    def assist(self, task_id: str, point: dict[str, float] | None = None, bbox: dict[str, float] | None = None) -> Any:
        """The project's interactive endpoint refines a click (`point`) or a rough `bbox`: `{"suggestion", "ms",
        "model_version"}`."""
        return self._http.json("POST", f"/tasks/{task_id}/assist", json_body=body(point=point, bbox=bbox))

    @route("GET", "/model_media/{token}")
    def media(self, token: str) -> bytes:
        """A row's asset by the signed token of a model request (what model servers fetch; no credentials needed)."""
        return self._http.send("GET", f"/model_media/{token}").content
