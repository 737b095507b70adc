"""One organization with one object of every kind, built through the real services: the fixture data of the
permission matrix, the cross-organization attacks and the fuzzer.

`build_world(org, make_user)` returns a `World`: the people (one per org role, project members per project role, an
org member outside the project) and the ids of every object a URL can name. `World.fresh` makes throw-away objects
for rows that delete or change state, so each caller acts on its own copy.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.accounts import services as account_services
from apps.accounts.models import Organization, User
from apps.catalog import services as catalog_services
from apps.core.models import Alert, AlertKind, AlertRule, Job
from apps.datasets import services as dataset_services
from apps.datasets.models import DataRow, Dataset
from apps.exports import services as export_services
from apps.issues import services as issue_services
from apps.labeling import services as labeling_services
from apps.labeling.models import Label, Project, Task
from apps.ontologies import services as ontology_services
from apps.ontologies.demo import VEHICLES
from apps.ontologies.models import Feature
from apps.predictions import services as prediction_services
from apps.predictions.services import endpoints as endpoint_services
from apps.predictions.services.endpoint_client import media_token
from apps.webhooks import services as webhook_services

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)
_unique = itertools.count()
# Webhook targets must pass the SSRF guard: callers allow this loopback port (`settings.TDP_OUTBOUND_ALLOWED_HOSTS`);
# nothing listens there and no delivery runs in these tests.
HOOK_HOST = "127.0.0.1:9"
HOOK_URL = f"http://{HOOK_HOST}/hook"


def unique(prefix: str) -> str:
    return f"{prefix}-{next(_unique)}"


def box(left: int = 20, top: int = 10, width: int = 80, height: int = 50) -> dict[str, Any]:
    return {
        "name": "vehicle",
        "bbox": {"top": top, "left": left, "height": height, "width": width},
        "classifications": [{"name": "kind", "answer": {"name": "police"}}],
    }


def annotations() -> list[dict[str, Any]]:
    return [box(), {"name": "weather", "answer": {"name": "sunny"}}]


@dataclass
class World:
    organization: Organization
    people: dict[str, User]
    ids: dict[str, str]
    project: Project
    dataset: Dataset
    rows: list[DataRow]
    fresh: dict[str, Callable[[], str]] = field(default_factory=dict)

    @property
    def admin(self) -> User:
        return self.people["admin"]


def _rows(admin: User, dataset: Dataset, n: int, prefix: str) -> list[DataRow]:
    body = "\n".join(
        f'{{"global_key": "{prefix}-{i}", "row_data": "https://example.com/{prefix}-{i}.jpg", '
        f'"metadata": {{"sensor": "{"ab"[i % 2]}"}}}}'
        for i in range(n)
    ).encode()
    result = dataset_services.data_rows_import(actor=admin, dataset=dataset, fmt="ndjson", chunks=[body])
    assert result["failed"] == 0, result
    rows = list(DataRow.objects.filter(dataset=dataset, global_key__startswith=f"{prefix}-").order_by("global_key"))
    DataRow.objects.filter(pk__in=[r.pk for r in rows]).update(width=640, height=480)
    for row in rows:
        row.width, row.height = 640, 480
    return rows


def build_world(org: Organization, make_user: Callable[..., User]) -> World:
    admin = User.objects.get(organization=org, role="admin")
    slug = org.name.lower().replace(" ", "-")
    people: dict[str, User] = {"admin": admin}
    for role in ("team_manager", "reviewer", "labeler", "expert"):
        people[role] = make_user(role=role, organization=org, username=f"{slug}-{role}")
    people["project_manager"] = make_user(role="labeler", organization=org, username=f"{slug}-project-manager")
    people["non_member"] = make_user(role="labeler", organization=org, username=f"{slug}-non-member")

    ontology = ontology_services.ontology_create(
        organization=org,
        name=f"{slug} vehicles",
        tools=VEHICLES["tools"],
        classifications=[{"name": "weather", "type": "radio", "options": [{"value": "sunny"}, {"value": "rain"}]}],
        actor=admin,
    )
    feature = Feature.objects.get(organization=org, kind=Feature.Kind.TOOL, name="vehicle")
    dataset_services.metadata_field_create(actor=admin, name="sensor", kind="string")
    dataset = dataset_services.dataset_create(actor=admin, name=f"{slug} streets")
    rows = _rows(admin, dataset, 6, f"{slug}-img")
    uploaded = dataset_services.data_rows_upload(
        actor=admin, dataset=dataset, files=[SimpleUploadedFile("pixel.png", PNG, content_type="image/png")]
    )
    upload_row = DataRow.objects.get(dataset=dataset, row_data__startswith="upload://")
    integration = dataset_services.storage_integration_create(
        actor=admin, name=f"{slug} bucket", bucket=f"{slug}-bucket", role_arn="arn:aws:iam::123456789012:role/tdp"
    )

    project = labeling_services.project_create(
        actor=admin,
        name=f"{slug} project",
        ontology=ontology,
        instructions="Box every vehicle.",
        settings={"review": {"sample_rate": 1.0}},
    )
    for key, role in (("reviewer", "reviewer"), ("labeler", "labeler"), ("expert", "expert")):
        labeling_services.project_member_set(actor=admin, project=project, user=people[key], role=role)
    labeling_services.project_member_set(
        actor=admin, project=project, user=people["project_manager"], role="team_manager"
    )
    batch = labeling_services.batch_create(
        actor=admin, project=project, name="all", data_row_ids=[str(r.pk) for r in rows]
    )
    labeler = people["labeler"]
    task = labeling_services.queue_claim(actor=labeler, project=project)
    assert task is not None
    label = labeling_services.label_submit(actor=labeler, task=task, annotations=annotations(), seconds_spent=5)
    open_task = labeling_services.queue_claim(actor=labeler, project=project)
    assert open_task is not None
    labeling_services.draft_save(actor=labeler, task=open_task, annotations=[{"name": "half drawn"}])
    issue = issue_services.issue_create(
        actor=people["reviewer"],
        project=project,
        task=task,
        label=label,
        data_row=task.data_row,
        text="Is this a vehicle?",
        position={"x": 10, "y": 10},
    )
    issue_services.comment_create(actor=labeler, issue=issue, text="Yes.")

    space = catalog_services.embedding_space_create(actor=admin, name=f"{slug} clip", dims=4)
    vectors = np.random.default_rng(7).normal(size=(len(rows), 4))
    catalog_services.embedding_vectors_upload(
        actor=admin,
        space=space,
        items=[{"data_row": str(r.pk), "vector": v.tolist()} for r, v in zip(rows, vectors, strict=True)],
    )
    slice_ = catalog_services.slice_create(actor=admin, name=f"{slug} slice", dataset=dataset, filters={})

    model = prediction_services.model_create(actor=admin, name=f"{slug} detector", ontology=ontology)
    run = prediction_services.model_run_create(actor=admin, model=model, name="v1")
    prediction_services.model_run_rows_set(
        actor=admin, model_run=run, split="train", data_row_ids=[str(r.pk) for r in rows[:3]]
    )
    export = export_services.export_create(actor=admin, project=project, fmt="ndjson", filters={})
    endpoint = endpoint_services.model_endpoint_create(
        actor=admin, values={"name": f"{slug} endpoint", "url": f"http://{HOOK_HOST}", "ontology": ontology}
    )
    webhook = webhook_services.webhook_create(actor=admin, organization=org, url=HOOK_URL, events=["label.created"])
    delivery = webhook_services.webhook_send_test(actor=admin, webhook=webhook)
    job = Job.objects.create(organization=org, created_by=admin, kind="matrix-test")
    token_owner = make_user(role="labeler", organization=org, username=f"{slug}-token-owner")
    token = account_services.api_token_create(user=token_owner, name="matrix").token
    rule = AlertRule.objects.get(organization=org, kind=AlertKind.DENIED_REQUESTS)
    alert = Alert.objects.create(
        organization=org,
        rule=rule,
        kind=rule.kind,
        subject="ip:192.0.2.1",
        ip="192.0.2.1",
        count=30,
        first_seen_at=rule.created_at,
        last_seen_at=rule.created_at,
    )

    ids = {
        "user": str(people["labeler"].pk),
        "job": str(job.pk),
        "ontology": str(ontology.pk),
        "feature": str(feature.schema_id),
        "dataset": str(dataset.pk),
        "data_row": str(rows[0].pk),
        "upload_row": str(upload_row.pk),
        "integration": str(integration.pk),
        "project": str(project.pk),
        "batch": str(batch.batch.pk),
        "task": str(task.pk),
        "open_task": str(open_task.pk),
        "label": str(label.pk),
        "issue": str(issue.pk),
        "space": str(space.pk),
        "slice": str(slice_.pk),
        "model": str(model.pk),
        "run": str(run.pk),
        "export": str(export.pk),
        "webhook": str(webhook.pk),
        "delivery": str(delivery.pk),
        "token": str(token.pk),
        "alert": str(alert.pk),
        "alert_rule": str(rule.pk),
        "endpoint": str(endpoint.pk),
        "media_token": media_token(upload_row.pk),
    }
    assert uploaded
    world = World(organization=org, people=people, ids=ids, project=project, dataset=dataset, rows=rows)
    world.fresh = {
        "fresh_dataset": lambda: str(dataset_services.dataset_create(actor=admin, name=unique("doomed")).pk),
        "fresh_data_row": lambda: str(_rows(admin, dataset, 1, unique("doomed"))[0].pk),
        "fresh_integration": lambda: str(
            dataset_services.storage_integration_create(
                actor=admin,
                name=unique("doomed"),
                bucket=unique("doomed-bucket"),
                role_arn="arn:aws:iam::123456789012:role/tdp",
            ).pk
        ),
        "fresh_slice": lambda: str(
            catalog_services.slice_create(actor=admin, name=unique("doomed"), dataset=dataset, filters={}).pk
        ),
        "fresh_endpoint": lambda: str(
            endpoint_services.model_endpoint_create(
                actor=admin, values={"name": unique("doomed"), "url": f"http://{HOOK_HOST}", "ontology": ontology}
            ).pk
        ),
        "fresh_webhook": lambda: str(
            webhook_services.webhook_create(actor=admin, organization=org, url=HOOK_URL, events=["label.created"]).pk
        ),
        "fresh_member": lambda: str(_fresh_member(admin, project, make_user).pk),
        "fresh_issue_open": lambda: str(_fresh_issue(people["reviewer"], project, task, label).pk),
        "fresh_issue_resolved": lambda: str(
            issue_services.issue_resolve(actor=admin, issue=_fresh_issue(people["reviewer"], project, task, label)).pk
        ),
        "fresh_ontology": lambda: str(
            ontology_services.ontology_create(
                organization=org, name=unique("doomed"), tools=VEHICLES["tools"], classifications=[], actor=admin
            ).pk
        ),
    }
    return world


def _fresh_member(admin: User, project: Project, make_user: Callable[..., User]) -> User:
    user = make_user(role="labeler", organization=admin.organization, username=unique("member"))
    labeling_services.project_member_set(actor=admin, project=project, user=user, role="labeler")
    return user


def _fresh_issue(author: User, project: Project, task: Task, label: Label) -> Any:
    return issue_services.issue_create(
        actor=author,
        project=project,
        task=task,
        label=label,
        data_row=task.data_row,
        text=unique("issue"),
        position={"x": 5, "y": 5},
    )
