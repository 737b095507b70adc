""" "Mine more like this": rows similar to a class's ground-truth rows (seeded 3-d embeddings where the nearest
rows are known) become one batch of a project, in one step; through the API and the run page's button."""

from __future__ import annotations

import pytest
from django.test import Client

from apps.catalog import services as catalog_services
from apps.labeling import services as labeling_services
from apps.labeling.models import Batch, Task

pytestmark = pytest.mark.django_db

# Seeds: the run's ground-truth rows with a vehicle (img-0, img-1, img-2), all near +x.
SCENE_VECTORS = {0: [1, 0, 0], 1: [1, 0.1, 0], 2: [1, 0, 0.1], 3: [1, 0.05, 0.05]}  # img-3: in the run: never mined
POOL_VECTORS = [
    [0.9, 0.1, 0],  # pool-0: nearest
    [0.8, 0.3, 0],  # pool-1: next, but already in the target project
    [0.5, 0.5, 0],  # pool-2: third
    [0, 1, 0],  # pool-3
    [0, 0, 1],  # pool-4
    [-1, 0, 0],  # pool-5: farthest
]


@pytest.fixture
def mining(scene, org_admin, make_rows, project_factory, client_for):
    response = client_for(org_admin).post(
        f"/api/v1/model_runs/{scene['run'].id}/ground_truth", {"project": str(scene["project"].id)}, format="json"
    )
    assert response.status_code == 201
    pool = make_rows(len(POOL_VECTORS), prefix="pool")
    space = catalog_services.embedding_space_create(actor=org_admin, name="clip", dims=3)
    items = [{"data_row": str(scene["rows"][i].id), "vector": v} for i, v in SCENE_VECTORS.items()]
    items += [{"data_row": str(row.id), "vector": v} for row, v in zip(pool, POOL_VECTORS, strict=True)]
    assert catalog_services.embedding_vectors_upload(actor=org_admin, space=space, items=items)["errors"] == []
    target = project_factory(name="Mining")
    labeling_services.batch_create(actor=org_admin, project=target, name="earlier", data_row_ids=[str(pool[1].id)])
    tree = scene["run"].ontology_version.tree
    vehicle = next(t["schema_id"] for t in tree["tools"] if t["name"] == "vehicle")
    return {"pool": pool, "space": space, "target": target, "vehicle": vehicle}


def mine(client, scene, mining, **extra):
    body = {
        "project": str(mining["target"].id),
        "embedding": str(mining["space"].id),
        "class": mining["vehicle"],
        "limit": 2,
        "priority": 5,
        **extra,
    }
    return client.post(f"/api/v1/model_runs/{scene['run'].id}/mine_similar", body, format="json")


def test_mining_creates_a_batch_with_the_nearest_unlabeled_rows(scene, mining, client_for, org_admin):
    response = mine(client_for(org_admin), scene, mining)
    assert response.status_code == 201, response.content
    body = response.json()
    pool = mining["pool"]
    assert body["rows"] == [str(pool[0].id), str(pool[2].id)] and body["added"] == 2 and body["seeds"] == 3
    batch = Batch.objects.get(pk=body["batch"])
    assert batch.project_id == mining["target"].id and batch.priority == 5
    assert set(Task.objects.filter(batch=batch).values_list("data_row_id", flat=True)) == {pool[0].id, pool[2].id}
    # Again: the mined rows are in the project now, so the next nearest come.
    again = mine(client_for(org_admin), scene, mining, limit=3, batch_name="round 2").json()
    assert again["rows"] == [str(pool[3].id), str(pool[4].id), str(pool[5].id)] and again["name"] == "round 2"


def test_bad_input_is_400_and_access_is_checked(scene, mining, client_for, org_admin, other_org, make_user):
    admin = client_for(org_admin)
    assert mine(admin, scene, mining, **{"class": "no-such-class"}).status_code == 400
    assert mine(admin, scene, mining, limit=0).status_code == 400
    assert mine(admin, scene, mining, unknown=1).status_code == 400
    weather = next(c["schema_id"] for c in scene["run"].ontology_version.tree["classifications"])
    assert mine(admin, scene, mining, **{"class": weather}).status_code == 400  # not a box class
    assert not Batch.objects.filter(project=mining["target"]).exclude(name="earlier").exists()
    outsider = make_user(role="admin", organization=other_org, username="miner-elsewhere")
    assert mine(client_for(outsider), scene, mining).status_code == 404
    assert mine(client_for(scene["members"]["labeler"]), scene, mining).status_code == 403
    foreign = catalog_services.embedding_space_create(actor=outsider, name="theirs", dims=3)
    assert mine(admin, scene, mining, embedding=str(foreign.id)).status_code == 404


def test_the_run_page_button_mines_in_one_click(scene, mining, org_admin):
    browser = Client()
    browser.force_login(org_admin)
    page = browser.get(f"/model_runs/{scene['run'].id}/diagnostics/").content.decode()
    assert 'class="inline mine-form"' in page and f'value="{mining["vehicle"]}"' in page
    response = browser.post(
        f"/model_runs/{scene['run'].id}/diagnostics/mine/",
        {
            "class": mining["vehicle"],
            "embedding": str(mining["space"].id),
            "project": str(mining["target"].id),
            "limit": "1",
        },
    )
    assert response.status_code == 302
    batch = Batch.objects.filter(project=mining["target"]).exclude(name="earlier").get()
    assert list(Task.objects.filter(batch=batch).values_list("data_row_id", flat=True)) == [mining["pool"][0].id]
