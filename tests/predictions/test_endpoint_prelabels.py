"""Automatic pre-labels against model servers running as real processes: rows of a new batch are sent in batches,
the reference detector's boxes land as pre-labels and as predictions of the run named after the endpoint and its
model version; a Label Studio-protocol backend works unchanged; nothing is sent twice; the progress reads right.

django-q2 runs tasks inline here (sync): the dispatcher runs when the batch's transaction commits. The model server
fetches each row through its signed media URL from the live server. `test_endpoint_worker.py` runs a real qcluster."""

from __future__ import annotations

import pytest
from django.core.files.storage import default_storage

from apps.predictions.models import EndpointRow, ModelRun, Prediction, Prelabel
from apps.predictions.services.prelabeling import endpoint_dispatch
from tests.predictions.endpoint_world import add_batch, endpoint_and_project, scene_rows
from tests.predictions.model_servers import LABEL_STUDIO, REFERENCE, host_of, running_server

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def served(settings, live_server):
    settings.TDP_PUBLIC_URL = live_server.url
    settings.TDP_ENDPOINT_BACKOFF_SECONDS = 0
    return live_server


def test_a_new_batch_is_prelabeled_by_the_reference_detector(served, settings, org_admin, client_for):
    rows = scene_rows(org_admin.organization, 5)
    with running_server(REFERENCE, "--token", "Token abc") as url:
        settings.TDP_OUTBOUND_ALLOWED_HOSTS = [host_of(url)]
        endpoint, project = endpoint_and_project(org_admin, url, secret="Token abc", batch_size=2, max_concurrency=2)
        add_batch(org_admin, project, rows)  # commit → dispatcher (inline) → 3 calls of ≤ 2 rows

    states = list(EndpointRow.objects.filter(project=project).values_list("status", "attempts", "model_version"))
    assert states == [("answered", 1, "colour-components-1")] * 5, EndpointRow.objects.values("error")
    prelabels = Prelabel.objects.filter(project=project)
    assert prelabels.count() > 0 and {p.name for p in prelabels} <= {"vehicle", "pedestrian"}
    run = ModelRun.objects.get(model=endpoint.model)
    assert run.name == "colour detector colour-components-1"
    predictions = Prediction.objects.filter(model_run=run)
    assert predictions.count() == prelabels.count()
    assert all(0 < p.confidence <= 1 for p in predictions)
    per_row = {r.data_row_id: r.annotations for r in EndpointRow.objects.filter(project=project)}
    for row in rows:
        assert Prelabel.objects.filter(project=project, data_row=row).count() == per_row[row.id]

    # The queue serves them: a labeler's claim carries the model's boxes.
    status = client_for(org_admin).get(f"/api/v1/projects/{project.id}/model_status").json()
    assert {k: status[k] for k in ("sent", "answered", "failed", "waiting", "circuit")} == {
        "sent": 5,
        "answered": 5,
        "failed": 0,
        "waiting": 0,
        "circuit": "closed",
    }
    page = client_for(org_admin).get(f"/projects/{project.id}/prelabels/")
    assert page.status_code in (200, 302)

    # Nothing is sent twice: the same rows in another batch, and a second dispatcher, send nothing.
    before = prelabels.count()
    add_batch(org_admin, project, rows, name="again")
    assert endpoint_dispatch(endpoint_id=endpoint.pk)["sent"] == 0
    assert EndpointRow.objects.filter(project=project).count() == 5
    assert Prelabel.objects.filter(project=project).count() == before


def test_the_media_url_is_signed_and_expires(served, settings, org_admin, client):
    from apps.predictions.services.endpoint_client import media_token

    row = scene_rows(org_admin.organization, 1)[0]
    token = media_token(row.pk)
    answer = client.get(f"/api/v1/model_media/{token}")
    assert answer.status_code == 200 and b"".join(answer.streaming_content)[:8] == b"\x89PNG\r\n\x1a\n"
    assert client.get(f"/api/v1/model_media/{token[:-2]}xx").status_code == 404
    settings.TDP_SIGNED_URL_TTL_SECONDS = -1
    assert client.get(f"/api/v1/model_media/{token}").status_code == 404
    default_storage.delete(row.row_data.removeprefix("upload://"))


def test_a_label_studio_backend_plugs_in_unchanged(served, settings, org_admin):
    rows = scene_rows(org_admin.organization, 3, prefix="ls")
    with running_server(LABEL_STUDIO) as url:
        settings.TDP_OUTBOUND_ALLOWED_HOSTS = [host_of(url)]
        endpoint, project = endpoint_and_project(org_admin, url, protocol="label_studio", name="ls backend")
        add_batch(org_admin, project, rows)
    assert set(EndpointRow.objects.filter(project=project).values_list("status", "model_version")) == {
        ("answered", "ls-centre-box-0.3")
    }
    boxes = list(Prelabel.objects.filter(project=project).order_by("data_row_id"))
    assert len(boxes) == 3  # the config's first RectangleLabels label is "vehicle": one centre box per task
    assert {b.name for b in boxes} == {"vehicle"}
    assert boxes[0].annotation["bbox"] == {"left": 160.0, "top": 120.0, "width": 320.0, "height": 240.0}
    assert boxes[0].confidence == 0.8
    assert ModelRun.objects.get(model=endpoint.model).name == "ls backend ls-centre-box-0.3"


def test_an_embedder_endpoint_fills_a_catalog_space_as_rows_arrive(served, settings, org_admin, client_for):
    from apps.catalog.models import EmbeddingSpace, EmbeddingVector
    from apps.labeling.models import Project
    from apps.ontologies import services as ontology_services
    from apps.predictions.services import endpoints as endpoint_services

    rows = scene_rows(org_admin.organization, 4, prefix="emb")
    ontology = ontology_services.ontology_create(
        organization=org_admin.organization,
        name="plain",
        tools=[{"name": "vehicle", "tool": "bbox"}],
        classifications=[],
        actor=org_admin,
    )
    with running_server(REFERENCE) as url:
        settings.TDP_OUTBOUND_ALLOWED_HOSTS = [host_of(url)]
        embedder = endpoint_services.model_endpoint_create(
            actor=org_admin, values={"name": "histograms", "url": url, "kind": "embedder", "batch_size": 3}
        )
        client = client_for(org_admin)
        bad = client.post(
            "/api/v1/projects",
            {"name": "x", "ontology": str(ontology.id), "model": {"prelabel_endpoint": str(embedder.id)}},
            format="json",
        )
        assert bad.status_code == 400 and "model.prelabel_endpoint" in bad.content.decode()  # an embedder: no
        created = client.post(
            "/api/v1/projects",
            {"name": "Embedded", "ontology": str(ontology.id), "model": {"embed_endpoint": str(embedder.id)}},
            format="json",
        )
        assert created.status_code == 201 and created.json()["model"]["embed_endpoint"] == str(embedder.id)
        project = Project.objects.get(pk=created.json()["id"])
        add_batch(org_admin, project, rows[:2], name="first")
        add_batch(org_admin, project, rows[2:], name="second")  # incrementally, as rows arrive
    space = EmbeddingSpace.objects.get(organization=org_admin.organization, name="histograms colour-components-1")
    vectors = EmbeddingVector.objects.filter(space=space)
    assert space.dims == 64 and vectors.count() == 4
    assert set(EndpointRow.objects.filter(project=project).values_list("status", flat=True)) == {"answered"}
    assert not Prelabel.objects.filter(project=project).exists()
    status = client.get(f"/api/v1/projects/{project.id}/model_status").json()
    assert status["endpoint"] is None and status["embedding"]["answered"] == 4
    # The vectors are the images' colour histograms: the platform's similarity search uses them.
    similar = client.get(
        f"/api/v1/datasets/{rows[0].dataset_id}/similar",
        {"data_row": str(rows[0].id), "embedding": str(space.id), "k": 3},
    )
    assert similar.status_code == 200, similar.content
    assert len(similar.json()["results"]) == 3


def test_interactive_assist_refines_a_click_and_a_rough_box(served, settings, org_admin, client_for):
    import sys

    import numpy as np

    from apps.datasets.demo_scenes import render, scene_spec
    from apps.labeling.models import Task
    from apps.predictions.services import endpoints as endpoint_services
    from tests.predictions.model_servers import ROOT

    sys.path.insert(0, str(ROOT / "examples" / "model_server"))
    from detector import detect  # the reference model, to know what it will find

    rows = scene_rows(org_admin.organization, 1, prefix="assist")
    expected = detect(np.asarray(render(scene_spec(0)).convert("RGB")))
    assert expected, "the reference detector finds something in scene 0"
    target = max(expected, key=lambda d: d["bbox"]["width"] * d["bbox"]["height"])
    box = target["bbox"]
    with running_server(REFERENCE) as url:
        settings.TDP_OUTBOUND_ALLOWED_HOSTS = [host_of(url)]
        _detector, project = endpoint_and_project(org_admin, url)
        add_batch(org_admin, project, rows)
        task = Task.objects.get(project=project, data_row=rows[0])
        client = client_for(org_admin)
        assert (
            client.post(f"/api/v1/tasks/{task.id}/assist", {"point": {"x": 1, "y": 1}}, format="json").status_code
            == 409
        )
        interactive = endpoint_services.model_endpoint_create(
            actor=org_admin,
            values={
                "name": "clicks",
                "url": url,
                "kind": "interactive",
                "ontology": project.ontology,
                "class_map": {"person": "pedestrian"},
            },
        )
        changed = client.patch(
            f"/api/v1/projects/{project.id}", {"model": {"interactive_endpoint": str(interactive.id)}}, format="json"
        )
        assert changed.status_code == 200, changed.content
        centre = {"x": box["left"] + box["width"] / 2, "y": box["top"] + box["height"] / 2}
        clicked = client.post(f"/api/v1/tasks/{task.id}/assist", {"point": centre}, format="json")
        assert clicked.status_code == 200, clicked.content
        answer = clicked.json()
        assert answer["model_version"] == "colour-components-1" and answer["ms"] > 0
        assert answer["suggestion"]["bbox"] == box
        assert answer["suggestion"]["name"] == {"person": "pedestrian"}.get(target["name"], target["name"])
        rough = {"left": box["left"] + 4, "top": box["top"] - 3, "width": box["width"] - 6, "height": box["height"] + 5}
        refined = client.post(f"/api/v1/tasks/{task.id}/assist", {"bbox": rough}, format="json").json()
        assert refined["suggestion"]["bbox"] == box
        nothing = client.post(f"/api/v1/tasks/{task.id}/assist", {"point": {"x": 5, "y": 5}}, format="json").json()
        assert nothing["suggestion"] is None  # the sky: nothing there
        bad = client.post(f"/api/v1/tasks/{task.id}/assist", {"point": {"x": "a"}}, format="json")
        assert bad.status_code == 400
    down = client.post(f"/api/v1/tasks/{task.id}/assist", {"point": centre}, format="json")
    assert down.status_code == 502 and down.json()["error"]["code"] == "model_endpoint_failed"
