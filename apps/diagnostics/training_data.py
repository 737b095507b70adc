"""The "train on run X's data" export: one NDJSON line per data row of the run's ground-truth snapshot, as it was
recorded (the row, its split, the label and revision it copied, the ontology version of that label, the annotation
document), in data row order with sorted keys: the same bytes every time until the ground truth is snapshotted
again, whatever happens to the labels meanwhile. Read page by page (bounded memory)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
from django.db.models import TextField
from django.db.models.functions import Cast

from apps.diagnostics.models import GroundTruth
from apps.predictions.models import ModelRun

PAGE = 1000
_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE


def _page(model_run: ModelRun, after: Any) -> list[tuple[Any, ...]]:
    rows = GroundTruth.objects.filter(model_run=model_run)
    if after is not None:
        rows = rows.filter(data_row_id__gt=after)
    return list(
        rows.order_by("data_row_id")
        .annotate(text=Cast("annotations", TextField()))
        .values_list(
            "data_row_id",
            "data_row__global_key",
            "data_row__external_id",
            "data_row__row_data",
            "split",
            "project_id",
            "label_id",
            "label_revision",
            "ontology_version_id",
            "ontology_version__number",
            "text",
        )[:PAGE]
    )


def training_data_lines(*, model_run: ModelRun) -> Iterator[bytes]:
    run = {"id": str(model_run.pk), "name": model_run.name, "model": str(model_run.model_id)}
    after = None
    while True:
        page = _page(model_run, after)
        for row_id, key, external_id, row_data, split, project, label, revision, version, number, text in page:
            line = {
                "data_row": {"id": str(row_id), "global_key": key, "external_id": external_id, "row_data": row_data},
                "split": split or None,
                "ground_truth": {
                    "project": str(project),
                    "label": str(label) if label else None,
                    "revision": revision,
                    "ontology_version": {"id": str(version), "number": number} if version else None,
                },
                "annotations": orjson.loads(text),
                "model_run": run,
            }
            yield orjson.dumps(line, option=_OPTIONS)
        if len(page) < PAGE:
            return
        after = page[-1][0]
