"""Asynchronous training, followed: when a training call answers that training *started* (a job), the `RetrainCall`
records the job and the "retraining jobs poll" schedule (django-q2, every minute) polls it with backoff until the
server reports it done (its model version is linked to the training-data snapshot the call sent) or failed, or the
platform gives up `TDP_RETRAIN_FOLLOW_SECONDS` after the call (default 24 h).

- TDP protocol: `POST /train` → `202` (or any 2xx) `{"status": "started"|"queued"|"training", "job_id",
  "status_url"?}`; `GET <status_url>` (a path under the endpoint's base URL, or an absolute URL under it; default
  `/train/<job_id>`) → `{"status": "training"|"done"|"failed", "model_version"?, "error"?}`.
- Label Studio ML backend: the `/webhook` (`START_TRAINING`) answer carries `{"job": id}` (as its `/train` did);
  `POST /job_status {"job": id}` → `{"job_status": "queued"|"started"|"finished"|"failed", "error"?}`. A finished
  job's version is read from `POST /setup` when the status answer has none.

Polls go through the same outbound guard as every call. A poll that fails (timeout, HTTP error, garbage) counts as a
poll and is retried with the same backoff (its reason is kept); a refusal by the URL guard fails the call."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.predictions.models import EndpointProtocol, ModelEndpoint, RetrainCall, RetrainStatus
from apps.predictions.services.endpoint_client import Called, EndpointCallError, call, check

logger = logging.getLogger(__name__)
STARTED = {"started", "queued", "training", "running", "pending", "accepted"}
DONE = {"done", "trained", "finished", "succeeded", "success", "completed", "ok"}
FAILED = {"failed", "error", "canceled", "cancelled", "stopped"}


def _text(value: Any, limit: int = 200) -> str:
    return str(value)[:limit] if isinstance(value, str | int | float) and value != "" else ""


def async_job(endpoint: ModelEndpoint, called: Called) -> tuple[str, str] | None:
    """(job id, status path) when the training call's answer says training started asynchronously, else None.
    Raises EndpointCallError for a status URL outside the endpoint's base URL (never followed)."""
    payload = called.payload if isinstance(called.payload, dict) else {}
    if endpoint.protocol == EndpointProtocol.LABEL_STUDIO:
        result = payload.get("result")
        result = result if isinstance(result, dict) else {}
        job = _text(payload.get("job") or payload.get("job_id") or result.get("job"))
        return (job, "/job_status") if job else None
    job = _text(payload.get("job_id"))
    status = _text(payload.get("status"), 50).lower()
    if not job or (status not in STARTED and called.status != 202):
        return None
    url = payload.get("status_url")
    if not isinstance(url, str) or not url:
        return job, f"/train/{job}"
    base = endpoint.url.rstrip("/")
    if url.startswith(base + "/"):
        url = url[len(base) :]
    if not url.startswith("/") or url.startswith("//") or len(url) > 500:
        raise EndpointCallError("The training job's status URL is not under the endpoint's base URL.", retryable=False)
    return job, url


def job_state(endpoint: ModelEndpoint, payload: Any) -> tuple[str, str, str, str]:
    """A status answer → (state "done"|"failed"|"running", the server's status word, model version, error)."""
    payload = payload if isinstance(payload, dict) else {}
    key = "job_status" if endpoint.protocol == EndpointProtocol.LABEL_STUDIO else "status"
    word = _text(payload.get(key) or payload.get("status"), 50)
    if not word:
        raise EndpointCallError(f"The job status answer has no {key!r}.")
    state = "done" if word.lower() in DONE else "failed" if word.lower() in FAILED else "running"
    return state, word, _text(payload.get("model_version")), _text(payload.get("error"), 1000)


def poll_delay(polls: int) -> float:
    """Seconds before the next poll: POLL_SECONDS, doubling per poll, at most POLL_MAX_SECONDS."""
    base, cap = settings.TDP_RETRAIN_POLL_SECONDS, settings.TDP_RETRAIN_POLL_MAX_SECONDS
    return float(min(cap, base * 2 ** min(polls, 30)))


def training_started(retrain: RetrainCall, job: tuple[str, str], *, version: str, ms: float) -> None:
    """Record the job the training call started; the schedule polls it from `next_poll_at`."""
    now = timezone.now()
    retrain.status, retrain.job_id, retrain.status_path = RetrainStatus.TRAINING, job[0][:200], job[1][:500]
    retrain.model_version, retrain.ms, retrain.called_at = version, ms, now
    retrain.job_status, retrain.polls, retrain.next_poll_at = "started", 0, now + timedelta(seconds=poll_delay(0))
    retrain.save(
        update_fields=[
            "status",
            "job_id",
            "status_path",
            "model_version",
            "ms",
            "called_at",
            "job_status",
            "polls",
            "next_poll_at",
        ]
    )


def _claim(retrain_id: Any, endpoint_timeout: float) -> bool:
    """Take the poll (a second poller finds nothing due): push `next_poll_at` past the call's timeout."""
    now = timezone.now()
    hold = now + timedelta(seconds=endpoint_timeout * 2 + 30)
    claimed = RetrainCall.objects.filter(pk=retrain_id, status=RetrainStatus.TRAINING, next_poll_at__lte=now).update(
        next_poll_at=hold
    )
    return bool(claimed)


def _ask(endpoint: ModelEndpoint, retrain: RetrainCall) -> Called:
    if endpoint.protocol == EndpointProtocol.LABEL_STUDIO:
        return call(endpoint, "POST", retrain.status_path or "/job_status", {"job": retrain.job_id})
    return call(endpoint, "GET", retrain.status_path or f"/train/{retrain.job_id}")


def _finished(retrain: RetrainCall, *, status: str, word: str, version: str = "", error: str = "") -> None:
    with transaction.atomic():
        retrain.status, retrain.job_status, retrain.error = status, word[:50], error[:1000]
        retrain.model_version = version or retrain.model_version
        retrain.finished_at, retrain.next_poll_at = timezone.now(), None
        retrain.save(
            update_fields=["status", "job_status", "error", "model_version", "finished_at", "next_poll_at", "polls"]
        )
        if status == RetrainStatus.OK and retrain.model_version and retrain.model_run is not None:
            # The model the job produced is linked to the snapshot it trained on.
            run = retrain.model_run
            run.config = {**run.config, "trained_model_version": retrain.model_version, "training_job": retrain.job_id}
            run.save(update_fields=["config", "updated_at"])


def retrain_poll(retrain_id: Any) -> str | None:
    """One poll of an asynchronous training job (the schedule's task; claimed, so a second delivery does nothing).
    Returns the call's status after the poll, or None when nothing was due."""
    retrain = RetrainCall.objects.select_related("endpoint", "model_run").filter(pk=retrain_id).first()
    if retrain is None or not _claim(retrain.pk, retrain.endpoint.timeout_seconds):
        return None
    endpoint = retrain.endpoint
    retrain.polls += 1
    try:
        state, word, version, error = job_state(endpoint, _ask(endpoint, retrain).payload)
    except EndpointCallError as exc:
        if not exc.retryable:
            _finished(retrain, status=RetrainStatus.FAILED, word="unreachable", error=exc.message)
            return retrain.status
        state, word, version, error = "running", retrain.job_status, "", f"Last poll: {exc.message}"
    if state == "done":
        if not version and endpoint.protocol == EndpointProtocol.LABEL_STUDIO:
            version = _text((check(endpoint).get("setup") or {}).get("model_version"))
        _finished(retrain, status=RetrainStatus.OK, word=word, version=version)
    elif state == "failed":
        _finished(retrain, status=RetrainStatus.FAILED, word=word, error=f"The training job failed: {error or word}")
    else:
        following = (timezone.now() - (retrain.called_at or retrain.created_at)).total_seconds()
        if following >= settings.TDP_RETRAIN_FOLLOW_SECONDS:
            hours = settings.TDP_RETRAIN_FOLLOW_SECONDS / 3600
            message = f"Gave up following the training job after {retrain.polls} poll(s) over {hours:g} h"
            message += f" (its last status: {word or 'unknown'})." + (f" {error}" if error else "")
            _finished(retrain, status=RetrainStatus.FAILED, word=word or "unknown", error=message)
            logger.warning("model endpoint %s: gave up following training job %s", endpoint.pk, retrain.job_id)
        else:
            retrain.job_status, retrain.error = word[:50], error[:1000]
            retrain.next_poll_at = timezone.now() + timedelta(seconds=poll_delay(retrain.polls))
            retrain.save(update_fields=["job_status", "error", "next_poll_at", "polls"])
    return retrain.status


def due_polls() -> list[int]:
    """Training calls whose next poll is due (for the schedule)."""
    due = RetrainCall.objects.filter(status=RetrainStatus.TRAINING, next_poll_at__lte=timezone.now())
    return list(due.order_by("next_poll_at").values_list("pk", flat=True)[:500])
