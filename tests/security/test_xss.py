"""Stored XSS: script and event-handler payloads in every user-text field are rendered inert on every page.

The payloads go in through the services where they accept them (ontology, feature and option names, project
name and instructions, dataset, slice, model and run names, metadata values, global keys, issue and comment text,
text answers of a label) and straight into the table where a form would refuse them (usernames, names of people).
Every page of the permission matrix is then rendered for several roles; a payload may only appear escaped.
"""

from __future__ import annotations

import re

import pytest

from apps.accounts.models import User
from apps.catalog import services as catalog_services
from apps.datasets import services as dataset_services
from apps.datasets.models import DataRow
from apps.issues import services as issue_services
from apps.labeling import services as labeling_services
from apps.ontologies import services as ontology_services
from apps.predictions import services as prediction_services
from tests.security.matrix import client_for, url_for
from tests.security.permission_matrix import MATRIX
from tests.security.world import World

pytestmark = pytest.mark.django_db

SCRIPT = '<script>alert("xss")</script>'
IMG = "<img src=x onerror=alert(1)>"
QUOTE = '"><svg onload=alert(2)>'
PAYLOAD = f"{SCRIPT}{IMG}{QUOTE}"
# What must never reach a page unescaped: a live tag of any of the payloads.
LIVE = re.compile(r"<script>alert|<img src=x onerror|<svg onload", re.IGNORECASE)
ESCAPED = re.compile(r"&lt;script&gt;alert|\\u003Cscript\\u003Ealert", re.IGNORECASE)


def poisoned_world(world: World) -> dict[str, str]:
    """Objects of `world` whose every free-text field carries the payload. Returns the ids of the new objects."""
    admin = world.admin
    org = world.organization
    ontology = ontology_services.ontology_create(
        organization=org,
        name=f"ontology {PAYLOAD}",
        description=PAYLOAD,
        tools=[
            {
                "name": f"tool {PAYLOAD}",
                "tool": "bbox",
                "instructions": PAYLOAD,
                "classifications": [
                    {"name": f"kind {PAYLOAD}", "type": "radio", "options": [{"value": f"opt {PAYLOAD}"}]}
                ],
            }
        ],
        classifications=[{"name": f"note {PAYLOAD}", "type": "text"}],
        actor=admin,
    )
    dataset_services.metadata_field_create(actor=admin, name="caption", kind="string")
    dataset = dataset_services.dataset_create(actor=admin, name=f"dataset {PAYLOAD}", description=PAYLOAD)
    body = (
        '{"global_key": "key-' + PAYLOAD.replace('"', '\\"') + '", "row_data": "https://example.com/a.jpg", '
        '"metadata": {"caption": "' + PAYLOAD.replace('"', '\\"') + '"}}\n'
        '{"global_key": "text-row", "media_type": "text", "row_data": "' + PAYLOAD.replace('"', '\\"') + '"}'
    ).encode()
    result = dataset_services.data_rows_import(actor=admin, dataset=dataset, fmt="ndjson", chunks=[body])
    assert result["failed"] == 0, result
    rows = list(DataRow.objects.filter(dataset=dataset).order_by("global_key"))
    DataRow.objects.filter(dataset=dataset).update(width=640, height=480)
    project = labeling_services.project_create(
        actor=admin,
        name=f"project {PAYLOAD}",
        ontology=ontology,
        instructions=PAYLOAD,
        settings={"review": {"sample_rate": 1.0}},
    )
    labeler, reviewer = world.people["labeler"], world.people["reviewer"]
    labeling_services.project_member_set(actor=admin, project=project, user=labeler, role="labeler")
    labeling_services.project_member_set(actor=admin, project=project, user=reviewer, role="reviewer")
    labeling_services.batch_create(
        actor=admin, project=project, name=f"batch {PAYLOAD}", data_row_ids=[str(r.pk) for r in rows]
    )
    task = labeling_services.queue_claim(actor=labeler, project=project)
    assert task is not None
    label = labeling_services.label_submit(
        actor=labeler,
        task=task,
        annotations=[
            {
                "name": f"tool {PAYLOAD}",
                "bbox": {"top": 1, "left": 1, "height": 5, "width": 5},
                "classifications": [{"name": f"kind {PAYLOAD}", "answer": {"name": f"opt {PAYLOAD}"}}],
            },
            {"name": f"note {PAYLOAD}", "answer": PAYLOAD},
        ],
        seconds_spent=3,
    )
    open_task = labeling_services.queue_claim(actor=labeler, project=project)
    assert open_task is not None
    issue = issue_services.issue_create(
        actor=reviewer,
        project=project,
        task=task,
        label=label,
        data_row=task.data_row,
        text=f"issue {PAYLOAD} @{labeler.username}",
        position={"x": 1, "y": 1},
    )
    issue_services.comment_create(actor=labeler, issue=issue, text=f"comment {PAYLOAD}")
    catalog_services.slice_create(actor=admin, name=f"slice {PAYLOAD}", dataset=dataset, filters={})
    model = prediction_services.model_create(
        actor=admin, name=f"model {PAYLOAD}", ontology=ontology, description=PAYLOAD
    )
    run = prediction_services.model_run_create(actor=admin, model=model, name=f"run {PAYLOAD}")
    prediction_services.model_run_rows_set(
        actor=admin, model_run=run, split="train", data_row_ids=[str(r.pk) for r in rows]
    )
    # Usernames and names of people: forms and services refuse markup there, an old row or the admin may not.
    for user in (labeler, reviewer):
        User.objects.filter(pk=user.pk).update(
            username=f"{user.username}{SCRIPT}"[:150], first_name=IMG, last_name=QUOTE[:150]
        )
    return {
        "project": str(project.pk),
        "dataset": str(dataset.pk),
        "data_row": str(task.data_row_id),
        "task": str(task.pk),
        "open_task": str(open_task.pk),
        "label": str(label.pk),
        "issue": str(issue.pk),
        "run": str(run.pk),
    }


def test_payloads_are_inert_on_every_page(world):
    world.ids.update(poisoned_world(world))
    pages = [row for row in MATRIX if row.page and row.method == "get"]
    assert len(pages) > 20
    checked, shown = 0, set()
    for actor in ("admin", "reviewer", "labeler"):
        user = User.objects.get(pk=world.people[actor].pk)
        client = client_for(user, page=True)
        for row in pages:
            response = client.get(url_for(row, world), follow=True)
            if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
                continue
            html = response.content.decode()
            live = LIVE.search(html)
            near = html[max(0, live.start() - 200) : live.end() + 50] if live else ""
            assert live is None, f"{row.label} as {actor}: live payload near {near!r}"
            checked += 1
            if ESCAPED.search(html):
                shown.add(row.label)
    assert checked > 40, checked
    # The payloads were on the pages (escaped), so the check above looked at them.
    assert len(shown) >= 10, sorted(shown)


def test_payloads_in_api_answers_are_json_not_html(world, client_for):
    world.ids.update(poisoned_world(world))
    response = client_for(world.admin).get(f"/api/v1/projects/{world.ids['project']}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["name"] == f"project {PAYLOAD}"
