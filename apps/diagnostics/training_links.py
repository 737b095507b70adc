"""The training-data snapshot a retraining call links to (predictions' registry): the project's done labels copied
into a run's ground truth (`ground_truth_snapshot`), exported as `training_data` NDJSON through a signed, expiring
link the model server fetches without credentials (`GET /api/v1/training_data/{token}`)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from apps.core.public_url import absolute_url
from apps.diagnostics.ground_truth import ground_truth_snapshot
from apps.predictions.models import ModelRun
from apps.predictions.registry import TrainingSnapshot

SALT = "tdp.training-data-link"


def link_ttl_seconds() -> int:
    return int(getattr(settings, "TDP_TRAINING_LINK_TTL_SECONDS", 24 * 3600))


def training_link(model_run: ModelRun) -> tuple[str, Any]:
    token = signing.TimestampSigner(salt=SALT).sign(str(model_run.pk))
    path = reverse("api-training-data-link", args=[token])
    public = str(getattr(settings, "TDP_PUBLIC_URL", "") or "").rstrip("/")
    url = f"{public}{path}" if public else absolute_url(path)
    return url, timezone.now() + timedelta(seconds=link_ttl_seconds())


def training_link_run(token: str) -> ModelRun | None:
    try:
        run_id = signing.TimestampSigner(salt=SALT).unsign(token, max_age=link_ttl_seconds())
    except signing.BadSignature:
        return None
    return ModelRun.objects.filter(pk=run_id).first()


def training_snapshot(actor: Any, project: Any, model_run: ModelRun) -> TrainingSnapshot:
    result = ground_truth_snapshot(actor=actor, model_run=model_run, project=project)
    url, expires_at = training_link(model_run)
    return TrainingSnapshot(rows=int(result["rows"]), url=url, expires_at=expires_at)
