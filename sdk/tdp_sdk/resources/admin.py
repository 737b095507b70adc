"""Background jobs, the audit trail and security alerts."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from tdp_sdk._http import route
from tdp_sdk.resources._base import Resource


class Jobs(Resource):
    @route("GET", "/jobs/{job_id}")
    def get(self, job_id: str) -> dict[str, Any]:
        return self._http.json("GET", f"/jobs/{job_id}")

    def wait(
        self, job_id: str, *, progress: Callable[[dict[str, Any]], None] | None = None, timeout: float | None = None
    ) -> dict[str, Any]:
        """Poll until the job succeeds (→ the job) or fails (raises `JobFailed`)."""
        return self._http.wait_job(job_id, progress=progress, timeout=timeout)


class Audit(Resource):
    @route("GET", "/audit_events")
    def events(self, **filters: Any) -> Iterator[dict[str, Any]]:
        """Org admins: `actor=`, `action=`, `object_type=`, `object_id=`, `from=`, `to=`."""
        return self._http.pages("/audit_events", filters)

    @route("GET", "/audit_events.csv")
    def events_csv(self, **filters: Any) -> str:
        return self._http.send("GET", "/audit_events.csv", params=filters).text

    @route("GET", "/alerts")
    def alerts(self, **filters: Any) -> Iterator[dict[str, Any]]:
        return self._http.pages("/alerts", filters)

    @route("POST", "/alerts/{alert_id}/acknowledge")
    def acknowledge(self, alert_id: str) -> Any:
        return self._http.json("POST", f"/alerts/{alert_id}/acknowledge", json_body={})

    @route("GET", "/alert_rules")
    def rules(self) -> Iterator[dict[str, Any]]:
        return self._http.pages("/alert_rules")

    @route("POST", "/alert_rules")
    def create_rule(self, **fields: Any) -> dict[str, Any]:
        return self._http.json("POST", "/alert_rules", json_body=fields)

    @route("GET", "/alert_rules/{rule_id}")
    def rule(self, rule_id: str) -> dict[str, Any]:
        return self._http.json("GET", f"/alert_rules/{rule_id}")

    @route("PATCH", "/alert_rules/{rule_id}")
    def update_rule(self, rule_id: str, **fields: Any) -> dict[str, Any]:
        return self._http.json("PATCH", f"/alert_rules/{rule_id}", json_body=fields)

    @route("DELETE", "/alert_rules/{rule_id}")
    def delete_rule(self, rule_id: str) -> None:
        self._http.json("DELETE", f"/alert_rules/{rule_id}")
