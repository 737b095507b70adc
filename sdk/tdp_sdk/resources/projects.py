"""Projects, members, batches, the queue (scripted labeling), labels, review, issues."""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Iterator
from typing import Any

from tdp_sdk._http import route
from tdp_sdk.resources._base import Resource, body


class Projects(Resource):
    @route("GET", "/projects")
    def list(self) -> Iterator[dict[str, Any]]:
        return self._http.pages("/projects")

    @route("POST", "/projects")
    def create(self, name: str, ontology: str, media_type: str = "image", **settings: Any) -> dict[str, Any]:
        """`settings`: `instructions`, `quality={...}`, `review={...}`, `routing={...}`, `queue={...}` as in the API."""
        return self._http.json(
            "POST", "/projects", json_body={"name": name, "ontology": ontology, "media_type": media_type, **settings}
        )

    @route("GET", "/projects/{project_id}")
    def get(self, project_id: str) -> dict[str, Any]:
        return self._http.json("GET", f"/projects/{project_id}")

    @route("PATCH", "/projects/{project_id}")
    def update(self, project_id: str, **fields: Any) -> dict[str, Any]:
        return self._http.json("PATCH", f"/projects/{project_id}", json_body=fields)

    @route("POST", "/projects/{project_id}/ontology/upgrade")
    def upgrade_ontology(self, project_id: str, **fields: Any) -> dict[str, Any]:
        return self._http.json("POST", f"/projects/{project_id}/ontology/upgrade", json_body=fields)

    @route("GET", "/projects/{project_id}/overview")
    def overview(self, project_id: str) -> dict[str, Any]:
        return self._http.json("GET", f"/projects/{project_id}/overview")

    # -- members and batches ------------------------------------------------------------------------------------

    @route("GET", "/projects/{project_id}/members")
    def members(self, project_id: str) -> Iterator[dict[str, Any]]:
        return self._http.pages(f"/projects/{project_id}/members")

    @route("POST", "/projects/{project_id}/members")
    def add_member(self, project_id: str, user: str, role: str) -> dict[str, Any]:
        return self._http.json("POST", f"/projects/{project_id}/members", json_body={"user": user, "role": role})

    @route("DELETE", "/projects/{project_id}/members/{user_id}")
    def remove_member(self, project_id: str, user_id: str) -> None:
        self._http.json("DELETE", f"/projects/{project_id}/members/{user_id}")

    @route("GET", "/projects/{project_id}/batches")
    def batches(self, project_id: str) -> Iterator[dict[str, Any]]:
        return self._http.pages(f"/projects/{project_id}/batches")

    @route("POST", "/projects/{project_id}/batches")
    def create_batch(
        self,
        project_id: str,
        name: str,
        *,
        data_rows: builtins.list[str] | None = None,
        global_keys: builtins.list[str] | None = None,
        priority: int | None = None,
    ) -> dict[str, Any]:
        return self._http.json(
            "POST",
            f"/projects/{project_id}/batches",
            json_body=body(name=name, data_rows=data_rows, global_keys=global_keys, priority=priority),
        )

    @route("GET", "/batches/{batch_id}")
    def batch(self, batch_id: str) -> dict[str, Any]:
        return self._http.json("GET", f"/batches/{batch_id}")

    @route("PATCH", "/batches/{batch_id}")
    def update_batch(self, batch_id: str, *, priority: int | None = None, paused: bool | None = None) -> dict[str, Any]:
        """Change a batch's priority, or pause (`paused=True`: no new work is handed out) and resume it."""
        return self._http.json("PATCH", f"/batches/{batch_id}", json_body=body(priority=priority, paused=paused))

    # -- queue and labels ---------------------------------------------------------------------------------------

    @route("POST", "/projects/{project_id}/queue/next")
    def claim(self, project_id: str, *, lease_key: str | None = None) -> dict[str, Any] | None:
        """The caller's next task (`{"task","kind","data_row","prelabels","lease_expires_at"}`), or None when the
        queue has nothing left for them. Several workers of one labeler each pass their own `lease_key` (letters,
        digits, `._:-`, up to 64) to hold different tasks (up to the project's `lease.max_per_labeler`); without
        one, every claim returns the labeler's live lease until it is submitted."""
        body = {"lease_key": lease_key} if lease_key else {}
        return self._http.json("POST", f"/projects/{project_id}/queue/next", json_body=body)

    @route("POST", "/projects/{project_id}/queue/order")
    def recompute_queue_order(self, project_id: str) -> dict[str, Any]:
        return self._http.json("POST", f"/projects/{project_id}/queue/order", json_body={})

    @route("POST", "/tasks/{task_id}/labels")
    def submit(
        self,
        task_id: str,
        annotations: builtins.list[dict[str, Any]],
        *,
        seconds_spent: float | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """Submit a label; retried safely (the same `Idempotency-Key` on every attempt stores one label)."""
        return self._http.json(
            "POST",
            f"/tasks/{task_id}/labels",
            json_body=body(annotations=annotations, seconds_spent=seconds_spent),
            idempotency_key=idempotency_key or uuid.uuid4().hex,
        )

    @route("GET", "/tasks/{task_id}/draft")
    def draft(self, task_id: str) -> dict[str, Any]:
        """The caller's own draft of a task (`{"annotations","seconds_spent","revision",…}`); `NotFound` when none."""
        return self._http.json("GET", f"/tasks/{task_id}/draft")

    @route("PUT", "/tasks/{task_id}/draft")
    def save_draft(self, task_id: str, annotations: builtins.list[dict[str, Any]], **fields: Any) -> dict[str, Any]:
        """Keep unfinished work on the server (never a label: no scoring, review, export or webhook)."""
        return self._http.json("PUT", f"/tasks/{task_id}/draft", json_body={"annotations": annotations, **fields})

    @route("DELETE", "/tasks/{task_id}/draft")
    def delete_draft(self, task_id: str) -> None:
        self._http.json("DELETE", f"/tasks/{task_id}/draft")

    @route("POST", "/tasks/{task_id}/skip")
    def skip(self, task_id: str, reason: str = "") -> dict[str, Any]:
        return self._http.json("POST", f"/tasks/{task_id}/skip", json_body={"reason": reason})

    @route("GET", "/projects/{project_id}/labels")
    def labels(self, project_id: str, **filters: Any) -> Iterator[dict[str, Any]]:
        """`labeler=`, `data_row=`, `status=` as the API takes them."""
        return self._http.pages(f"/projects/{project_id}/labels", filters)

    @route("GET", "/labels/{label_id}")
    def label(self, label_id: str) -> dict[str, Any]:
        return self._http.json("GET", f"/labels/{label_id}")

    @route("PATCH", "/labels/{label_id}")
    def update_label(self, label_id: str, **fields: Any) -> dict[str, Any]:
        return self._http.json("PATCH", f"/labels/{label_id}", json_body=fields)

    @route("GET", "/labels/{label_id}/provenance")
    def label_provenance(self, label_id: str) -> dict[str, Any]:
        return self._http.json("GET", f"/labels/{label_id}/provenance")

    @route("GET", "/projects/{project_id}/expert_tasks")
    def expert_tasks(self, project_id: str, **params: Any) -> Iterator[dict[str, Any]]:
        return self._http.pages(f"/projects/{project_id}/expert_tasks", params)

    # -- review -------------------------------------------------------------------------------------------------

    @route("POST", "/projects/{project_id}/review/next")
    def review_next(self, project_id: str) -> dict[str, Any] | None:
        """The next label to review, or None."""
        return self._http.json("POST", f"/projects/{project_id}/review/next", json_body={})

    @route("POST", "/labels/{label_id}/reviews")
    def review(
        self, label_id: str, decision: str, feedback: str = "", *, idempotency_key: str | None = None, **fields: Any
    ) -> dict[str, Any]:
        """`decision`: `approve` or `reject` (rework with `feedback`)."""
        return self._http.json(
            "POST",
            f"/labels/{label_id}/reviews",
            json_body={"decision": decision, "feedback": feedback, **fields},
            idempotency_key=idempotency_key or uuid.uuid4().hex,
        )

    @route("GET", "/labels/{label_id}/reviews")
    def reviews(self, label_id: str) -> Iterator[dict[str, Any]]:
        return self._http.pages(f"/labels/{label_id}/reviews")


class Issues(Resource):
    @route("POST", "/labels/{label_id}/issues")
    def open_on_label(self, label_id: str, text: str, **fields: Any) -> dict[str, Any]:
        """`position={"x","y"}` and/or `annotation=<index>` pin the issue."""
        return self._http.json("POST", f"/labels/{label_id}/issues", json_body={"text": text, **fields})

    @route("GET", "/labels/{label_id}/issues")
    def of_label(self, label_id: str) -> Iterator[dict[str, Any]]:
        return self._http.pages(f"/labels/{label_id}/issues")

    @route("POST", "/tasks/{task_id}/issues")
    def open_on_task(self, task_id: str, text: str, **fields: Any) -> dict[str, Any]:
        return self._http.json("POST", f"/tasks/{task_id}/issues", json_body={"text": text, **fields})

    @route("GET", "/tasks/{task_id}/issues")
    def of_task(self, task_id: str) -> Iterator[dict[str, Any]]:
        return self._http.pages(f"/tasks/{task_id}/issues")

    @route("GET", "/projects/{project_id}/issues")
    def of_project(self, project_id: str, status: str | None = None) -> Iterator[dict[str, Any]]:
        return self._http.pages(f"/projects/{project_id}/issues", {"status": status})

    @route("GET", "/projects/{project_id}/issues/open_by_task")
    def open_by_task(self, project_id: str) -> Any:
        return self._http.json("GET", f"/projects/{project_id}/issues/open_by_task")

    @route("GET", "/issues/{issue_id}")
    def get(self, issue_id: str) -> dict[str, Any]:
        return self._http.json("GET", f"/issues/{issue_id}")

    @route("POST", "/issues/{issue_id}/comments")
    def comment(self, issue_id: str, text: str) -> dict[str, Any]:
        return self._http.json("POST", f"/issues/{issue_id}/comments", json_body={"text": text})

    @route("POST", "/issues/{issue_id}/resolve")
    def resolve(self, issue_id: str) -> dict[str, Any]:
        return self._http.json("POST", f"/issues/{issue_id}/resolve", json_body={})

    @route("POST", "/issues/{issue_id}/reopen")
    def reopen(self, issue_id: str) -> dict[str, Any]:
        return self._http.json("POST", f"/issues/{issue_id}/reopen", json_body={})

    @route("GET", "/inbox")
    def inbox(self) -> Iterator[dict[str, Any]]:
        return self._http.pages("/inbox")
