"""The label's annotation rows: PostgreSQL's one-statement insert stores exactly what the ORM path stores."""

from __future__ import annotations

import copy

import pytest
from django.db import connection

from apps.labeling.models import Annotation, Label
from apps.labeling.services import labels as label_services
from tests.labeling.conftest import good_label
from tests.labeling.test_queue_api import add_batch

pytestmark = pytest.mark.django_db


def _rows(label: Label) -> list[tuple]:
    rows = list(Annotation.objects.filter(label=label).select_related("parent").order_by("id"))
    return [
        (
            r.index,
            r.name,
            r.kind,
            str(r.schema_id),
            r.parent.name if r.parent else None,
            r.parent.index if r.parent else None,
            (r.x, r.y, r.width, r.height),
            r.geometry,
            r.answer,
            r.confidence,
            r.project_id,
            r.data_row_id,
        )
        for r in rows
    ]


def test_postgresql_statement_and_orm_path_store_the_same_rows(project, members, org_admin, make_rows, client_for):
    assert connection.vendor == "postgresql"
    add_batch(project, org_admin, make_rows(1))
    client = client_for(members["labeler"])
    claim = client.post(f"/api/v1/projects/{project.id}/queue/next").json()
    # Two boxes, each with a nested answer two levels deep, then a global classification: children of the first
    # box come before the second box in the flattened rows, so ids must be given top level first, then by depth.
    document = good_label()
    second = copy.deepcopy(document[0])
    second["bbox"] = {"top": 1, "left": 2, "height": 3, "width": 4}
    second["classifications"][0]["answer"]["classifications"][0]["answer"] = {"name": "no"}
    document.insert(1, second)
    response = client.post(f"/api/v1/tasks/{claim['task']}/labels", {"annotations": document}, format="json")
    assert response.status_code == 201, response.content
    label = Label.objects.get(pk=response.json()["id"])
    stored = _rows(label)
    assert [row[1] for row in stored] == ["vehicle", "vehicle", "weather", "kind", "kind", "lights_on", "lights_on"]
    assert [(row[4], row[5]) for row in stored[3:]] == [("vehicle", 0), ("vehicle", 1), ("kind", 0), ("kind", 1)]
    assert stored[1][6] == (2.0, 1.0, 4.0, 3.0)
    assert stored[6][8] == {"name": "no", "schema_id": stored[6][8]["schema_id"]}

    Annotation.objects.filter(label=label).delete()
    connection.vendor = "generic"  # the ORM path of other databases, on the same data
    try:
        label_services._store_rows(label, label.annotations)
    finally:
        del connection.vendor
    assert _rows(label) == stored
