"""Active learning order of a project's queue, on a seeded project: what labelers claim under each `queue.order`
(the ranks are precomputed by the background task, never per claim), the triggers of a recompute and the setting's
validation.

Rows r0…r5 are queued in one batch (same priority; `priority` order = age). Two more rows, l0 and l1, are labeled
first. Predictions of the run (confidence) and 3-d vectors:

| row | predictions | 1 − min conf | max entropy | vector        | distance to nearest labeled (l0 = +x, l1 = +y) |
|-----|-------------|--------------|-------------|---------------|-------------------------------------------------|
| r0  | 0.9         | 0.10         | 0.469       | (1, .05, 0)   | 0.00125                                         |
| r1  | 0.2         | 0.80         | 0.722       | (0, 0, 1)     | 1                                               |
| r2  | 0.6         | 0.40         | 0.971       | (−1, −1, 0)   | 1.707                                           |
| r3  | —           | unknown      | unknown     | (.7, .7, 0)   | 0.293                                           |
| r4  | 0.45, 0.95  | 0.55         | 0.993       | —             | unknown                                         |
| r5  | 0.99        | 0.01         | 0.081       | (0, .9, .1)   | 0.0061                                          |
"""

from __future__ import annotations

import pytest

from apps.catalog import services as catalog_services
from apps.core.models import Job
from apps.labeling import services as labeling_services
from apps.labeling.models import Task
from apps.predictions import services
from tests.labeling.conftest import good_label
from tests.predictions.conftest import box, ndjson

pytestmark = pytest.mark.django_db

CONFIDENCES = {0: [0.9], 1: [0.2], 2: [0.6], 3: [], 4: [0.45, 0.95], 5: [0.99]}
VECTORS = {0: [1, 0.05, 0], 1: [0, 0, 1], 2: [-1, -1, 0], 3: [0.7, 0.7, 0], 5: [0, 0.9, 0.1]}
EXPECTED = {
    "priority": None,  # the current behaviour: by age (created_at, id) — see `age_order`
    "uncertainty": [1, 4, 2, 0, 5, 3],
    "entropy": [4, 2, 1, 0, 5, 3],
    "diversity": [2, 1, 3, 5, 0, 4],
    "mix": [1, 2, 4, 3, 0, 5],  # weights uncertainty 0.6, diversity 0.4
}


@pytest.fixture
def seeded(project, org_admin, members, make_rows, post_ndjson):
    labeled = make_rows(2, prefix="l")
    labeling_services.batch_create(
        actor=org_admin, project=project, name="seed", data_row_ids=[str(r.id) for r in labeled]
    )
    first = members["labeler"]
    for _ in labeled:
        task = labeling_services.queue_claim(actor=first, project=project)
        labeling_services.label_submit(actor=first, task=task, annotations=good_label())
    rows = make_rows(6, prefix="r")
    labeling_services.batch_create(
        actor=org_admin, project=project, name="main", data_row_ids=[str(r.id) for r in rows]
    )
    model = services.model_create(actor=org_admin, name="detector", ontology=project.ontology)
    run = services.model_run_create(actor=org_admin, model=model, name="v1")
    lines = [
        box(rows[i].global_key, confidence=c, uuid=f"00000000-0000-4000-8000-{i:06d}{n:06d}")
        for i, scores in CONFIDENCES.items()
        for n, c in enumerate(scores)
    ]
    response = post_ndjson(org_admin, f"/api/v1/model_runs/{run.id}/predictions", ndjson(lines))
    assert response.status_code == 200 and response.json()["failed"] == 0, response.content
    space = catalog_services.embedding_space_create(actor=org_admin, name="clip", dims=3)
    items = [
        {"data_row": str(labeled[0].id), "vector": [1, 0, 0]},
        {"data_row": str(labeled[1].id), "vector": [0, 1, 0]},
    ]
    items += [{"data_row": str(rows[i].id), "vector": v} for i, v in VECTORS.items()]
    assert catalog_services.embedding_vectors_upload(actor=org_admin, space=space, items=items)["errors"] == []
    return {"rows": rows, "run": run, "space": space, "labeler": members["team_manager"]}


def age_order(project, rows) -> list[int]:
    index = {row.id: i for i, row in enumerate(rows)}
    tasks = Task.objects.filter(project=project, data_row__in=rows).order_by("created_at", "id")
    return [index[row_id] for row_id in tasks.values_list("data_row_id", flat=True)]


def set_queue(project, actor, capture, **queue):
    with capture(execute=True):  # the settings listener enqueues the recompute after commit (django-q2 sync)
        labeling_services.project_update(actor=actor, project=project, data={"settings": {"queue": queue}})


def claim_order(project, labeler, rows) -> list[int]:
    index = {row.id: i for i, row in enumerate(rows)}
    order = []
    while (task := labeling_services.queue_claim(actor=labeler, project=project)) is not None:
        order.append(index[task.data_row_id])
        labeling_services.label_submit(actor=labeler, task=task, annotations=good_label())
    return order


@pytest.mark.parametrize("mode", list(EXPECTED))
def test_claims_follow_the_queue_order_of_each_mode(
    mode, project, org_admin, seeded, django_capture_on_commit_callbacks
):
    queue = {"order": mode, "model_run": str(seeded["run"].id), "embedding": str(seeded["space"].id)}
    if mode == "entropy":
        queue.update(order="uncertainty", uncertainty="entropy")
    if mode == "mix":
        queue["weights"] = {"uncertainty": 0.6, "diversity": 0.4}
    set_queue(project, org_admin, django_capture_on_commit_callbacks, **queue)
    ranked = Task.objects.filter(project=project, queue_rank__isnull=False).count()
    assert ranked == {"priority": 0, "diversity": 5}.get(mode, 5 if mode != "mix" else 6)
    expected = EXPECTED[mode] or age_order(project, seeded["rows"])
    assert claim_order(project, seeded["labeler"], seeded["rows"]) == expected


def test_uncertainty_without_a_run_uses_each_rows_latest_run(
    project, org_admin, seeded, post_ndjson, django_capture_on_commit_callbacks
):
    rows = seeded["rows"]
    later = services.model_run_create(actor=org_admin, model=seeded["run"].model, name="v2")
    # The newer run is unsure about r5 only; the other rows keep v1's predictions.
    line = box(rows[5].global_key, confidence=0.05, uuid="00000000-0000-4000-8000-999999999999")
    with django_capture_on_commit_callbacks(execute=True):  # the import's end triggers a recompute too
        assert post_ndjson(org_admin, f"/api/v1/model_runs/{later.id}/predictions", ndjson([line])).status_code == 200
    set_queue(project, org_admin, django_capture_on_commit_callbacks, order="uncertainty")
    assert claim_order(project, seeded["labeler"], rows) == [5, 1, 4, 2, 0, 3]


def test_an_import_of_the_runs_predictions_reorders_the_queue(
    project, org_admin, seeded, post_ndjson, django_capture_on_commit_callbacks
):
    set_queue(
        project, org_admin, django_capture_on_commit_callbacks, order="uncertainty", model_run=str(seeded["run"].id)
    )
    rows = seeded["rows"]
    ranks = dict(Task.objects.filter(project=project).values_list("data_row_id", "queue_rank"))
    assert ranks[rows[1].id] == -0.8 and ranks[rows[3].id] is None  # r1 (0.2) the least sure; r3 unknown
    line = box(rows[3].global_key, confidence=0.01, uuid="00000000-0000-4000-8000-000003000000")
    with django_capture_on_commit_callbacks(execute=True):
        response = post_ndjson(org_admin, f"/api/v1/model_runs/{seeded['run'].id}/predictions", ndjson([line]))
    assert response.status_code == 200
    ranks = dict(Task.objects.filter(project=project).values_list("data_row_id", "queue_rank"))
    assert (
        ranks[rows[3].id] == -0.99 and min(r for r in ranks.values() if r is not None) == -0.99
    )  # r3 is now the least sure


def test_back_to_priority_clears_the_ranks(project, org_admin, seeded, django_capture_on_commit_callbacks):
    set_queue(project, org_admin, django_capture_on_commit_callbacks, order="uncertainty")
    assert Task.objects.filter(project=project, queue_rank__isnull=False).count() == 5  # r3 has no prediction
    set_queue(project, org_admin, django_capture_on_commit_callbacks, order="priority")
    assert Task.objects.filter(project=project, queue_rank__isnull=False).count() == 0
    expected = age_order(project, seeded["rows"])
    assert claim_order(project, seeded["labeler"], seeded["rows"]) == expected


def test_the_api_action_recomputes_in_a_job(project, org_admin, seeded, client_for, members, other_org, make_user):
    project.settings = {**project.settings, "queue": {**project.settings["queue"], "order": "uncertainty"}}
    project.save(update_fields=["settings"])  # stored without the listener: nothing ranked yet
    assert not Task.objects.filter(project=project, queue_rank__isnull=False).exists()
    url = f"/api/v1/projects/{project.id}/queue/order"
    response = client_for(org_admin).post(url)
    assert response.status_code == 202
    job = Job.objects.get(pk=response.json()["job"])
    from apps.predictions.tasks import queue_order_job

    queue_order_job(str(job.pk))  # (tests never commit: run the enqueued task by hand)
    job.refresh_from_db()
    assert job.status == "succeeded" and job.result["written"] == 5 and job.result["scored"] == 5
    assert claim_order(project, seeded["labeler"], seeded["rows"]) == EXPECTED["uncertainty"]
    assert client_for(members["labeler"]).post(url).status_code == 403
    outsider = make_user(role="admin", organization=other_org, username="reorder-elsewhere")
    assert client_for(outsider).post(url).status_code == 404


@pytest.mark.parametrize(
    ("queue", "path"),
    [
        ({"order": "random"}, "queue.order"),
        ({"order": "diversity"}, "queue.embedding"),
        ({"order": "mix", "weights": {"uncertainty": 1, "diversity": 0.5}}, "queue.embedding"),
        ({"order": "mix", "weights": {"uncertainty": 0, "diversity": 0}}, "queue.weights"),
        ({"weights": {"uncertainty": 2, "diversity": 0}}, "queue.weights"),
        ({"weights": {"uncertainty": 0.5}}, "queue.weights"),
        ({"uncertainty": "margin"}, "queue.uncertainty"),
        ({"model_run": "00000000-0000-4000-8000-000000000000"}, "queue.model_run"),
        ({"model_run": "not-a-uuid"}, "queue.model_run"),
        ({"embedding": "00000000-0000-4000-8000-000000000000"}, "queue.embedding"),
    ],
)
def test_bad_queue_settings_are_400(queue, path, project, client_for, org_admin):
    response = client_for(org_admin).patch(f"/api/v1/projects/{project.id}", {"queue": queue}, format="json")
    assert response.status_code == 400, response.content
    assert path in response.json()["error"]["details"]


def test_another_organizations_run_or_embedding_is_refused(project, client_for, org_admin, other_org, make_user):
    outsider = make_user(role="admin", organization=other_org, username="their-admin")
    space = catalog_services.embedding_space_create(actor=outsider, name="theirs", dims=3)
    response = client_for(org_admin).patch(
        f"/api/v1/projects/{project.id}", {"queue": {"order": "diversity", "embedding": str(space.id)}}, format="json"
    )
    assert response.status_code == 400 and "queue.embedding" in response.json()["error"]["details"]


def test_the_admin_action_is_registered():
    from apps.labeling.registry import project_admin_actions
    from apps.predictions.admin import recompute_queue_order

    assert recompute_queue_order in project_admin_actions()


@pytest.mark.parametrize("mode", ["uncertainty", "diversity", "mix"])
def test_rows_are_ranked_as_they_join(mode, project, org_admin, seeded, make_rows, post_ndjson):
    """A batch added after the order was set: its rows are ranked in the batch's own transaction (no worker, no
    commit needed), so the very next claim already follows the order across old and new rows."""
    queue = {"order": mode, "model_run": str(seeded["run"].id), "embedding": str(seeded["space"].id)}
    if mode == "mix":
        queue["weights"] = {"uncertainty": 0.6, "diversity": 0.4}
    project.settings = {**project.settings, "queue": {**project.settings["queue"], **queue}}
    project.save(update_fields=["settings"])  # stored without the listener: the old rows stay unranked here
    late = make_rows(1, prefix="late")[0]
    lines = [box(late.global_key, confidence=0.01, uuid="00000000-0000-4000-8000-777777777777")]
    assert (
        post_ndjson(org_admin, f"/api/v1/model_runs/{seeded['run'].id}/predictions", ndjson(lines)).status_code == 200
    )
    vector = [{"data_row": str(late.id), "vector": [0, -1, -1]}]  # far from both labeled rows
    assert (
        catalog_services.embedding_vectors_upload(actor=org_admin, space=seeded["space"], items=vector)["errors"] == []
    )
    labeling_services.batch_create(actor=org_admin, project=project, name="late", data_row_ids=[str(late.id)])
    rank = Task.objects.get(project=project, data_row=late).queue_rank
    assert rank is not None
    if mode == "uncertainty":
        assert rank == -0.99
    first = labeling_services.queue_claim(actor=seeded["labeler"], project=project)
    assert first.data_row_id == late.id  # the least sure / farthest row, though added last


def test_a_project_created_with_a_ranked_order_ranks_its_first_batch(org_admin, ontology, seeded, make_rows):
    project = labeling_services.project_create(
        actor=org_admin,
        name="Born ranked",
        ontology=ontology,
        instructions="",
        settings={"queue": {"order": "uncertainty", "model_run": str(seeded["run"].id)}},
    )
    rows = seeded["rows"]
    labeling_services.batch_create(actor=org_admin, project=project, name="all", data_row_ids=[str(r.id) for r in rows])
    ranks = dict(Task.objects.filter(project=project).values_list("data_row_id", "queue_rank"))
    assert ranks[rows[1].id] == -0.8 and ranks[rows[3].id] is None
    labeling_services.project_member_set(actor=org_admin, project=project, user=seeded["labeler"], role="labeler")
    assert claim_order(project, seeded["labeler"], rows) == EXPECTED["uncertainty"]
