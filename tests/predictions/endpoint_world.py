"""Shared setup of the automatic pre-label tests: demo scenes stored as uploads, an ontology the reference detector
answers in, a project whose `model.prelabel_endpoint` names an endpoint."""

from __future__ import annotations

import io
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from apps.datasets.demo_scenes import render, scene_spec
from apps.datasets.models import DataRow, Dataset
from apps.labeling import services as labeling_services
from apps.ontologies import services as ontology_services
from apps.predictions.models import ModelEndpoint
from apps.predictions.services import endpoints as endpoint_services

TOOLS = [{"name": "vehicle", "tool": "bbox"}, {"name": "pedestrian", "tool": "bbox"}]


def scene_rows(organization: Any, count: int, *, start: int = 0, prefix: str = "scene") -> list[DataRow]:
    """`count` demo street scenes as uploaded PNGs (640×480), the way the platform stores uploads."""
    dataset = Dataset.objects.create(organization=organization, name=f"{prefix}-{start}")
    rows = []
    for index in range(start, start + count):
        buffer = io.BytesIO()
        render(scene_spec(index)).save(buffer, format="PNG")
        name = default_storage.save(f"uploads/{organization.pk}/{prefix}-{index}.png", ContentFile(buffer.getvalue()))
        rows.append(
            DataRow(
                organization=organization,
                dataset=dataset,
                global_key=f"{prefix}-{index}",
                row_data=f"upload://{name}",
                width=640,
                height=480,
            )
        )
    return DataRow.objects.bulk_create(rows)


def endpoint_and_project(admin: Any, url: str, **endpoint_values: Any) -> tuple[ModelEndpoint, Any]:
    ontology = ontology_services.ontology_create(
        organization=admin.organization, name="street", tools=TOOLS, classifications=[], actor=admin
    )
    values = {
        "name": "colour detector",
        "url": url,
        "ontology": ontology,
        "class_map": {"person": "pedestrian"},
        **endpoint_values,
    }
    endpoint = endpoint_services.model_endpoint_create(actor=admin, values=values)
    project = labeling_services.project_create(
        actor=admin,
        name="Street",
        ontology=ontology,
        settings={"model": {"prelabel_endpoint": str(endpoint.pk)}},
    )
    return endpoint, project


def add_batch(admin: Any, project: Any, rows: list[DataRow], name: str = "b1") -> Any:
    return labeling_services.batch_create(
        actor=admin, project=project, name=name, data_row_ids=[str(r.pk) for r in rows]
    )
