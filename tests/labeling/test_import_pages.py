"""The import pages and their JSON helpers (datasets list and create, a dataset's import page, stored-key checks,
the batch of imported rows, the errors CSV) and the model run pages: roles, tenancy, and what they store."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.test import Client

from apps.accounts.models import User
from apps.datasets import services as dataset_services
from apps.datasets.models import DataRow, Dataset
from apps.labeling.models import Batch, Task
from apps.predictions.models import Model, ModelRun
from tests.labeling.conftest import make_rows, members, ontology, project, project_factory  # noqa: F401

pytestmark = pytest.mark.django_db


def browser(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def post_json(client: Client, url: str, body: object):
    return client.post(url, json.dumps(body), content_type="application/json")


@pytest.fixture
def manager(users_by_role) -> User:
    return users_by_role["team_manager"]


@pytest.fixture
def dataset(manager) -> Dataset:
    dataset = dataset_services.dataset_create(actor=manager, name="street")
    DataRow.objects.bulk_create(
        DataRow(
            organization=dataset.organization,
            dataset=dataset,
            global_key=f"cam-{i}.jpg",
            row_data=f"https://e.x/{i}.jpg",
        )
        for i in range(5)
    )
    return dataset


@pytest.fixture
def stranger(other_org, make_user) -> User:
    return make_user(role="admin", organization=other_org)


def test_datasets_page_roles_and_create(manager, users_by_role, project):  # noqa: F811
    assert browser(None).get("/datasets/").status_code == 302
    assert browser(users_by_role["labeler"]).get("/datasets/").status_code == 403
    page = browser(manager).get("/datasets/")
    assert page.status_code == 200 and b"No dataset yet" in page.content
    created = browser(manager).post(f"/datasets/?project={project.id}", {"name": "  new one  "})
    dataset = Dataset.objects.get(name="new one")
    assert created.status_code == 302 and created["Location"] == f"/datasets/{dataset.id}/import/?project={project.id}"
    blank = browser(manager).post("/datasets/", {"name": "   "})
    assert blank.status_code == 400 and b"Invalid name" in blank.content
    assert browser(users_by_role["labeler"]).post("/datasets/", {"name": "x"}).status_code == 403
    assert Dataset.objects.count() == 1


def test_import_page_roles_and_tenancy(manager, users_by_role, dataset, stranger, project):  # noqa: F811
    page = browser(manager).get(f"/datasets/{dataset.id}/import/?project={project.id}")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Upload images" in text and "No storage integration yet" in text and project.name in text
    assert browser(users_by_role["labeler"]).get(f"/datasets/{dataset.id}/import/").status_code == 403
    assert browser(users_by_role["reviewer"]).get(f"/datasets/{dataset.id}/import/").status_code == 403
    assert browser(stranger).get(f"/datasets/{dataset.id}/import/").status_code == 404
    assert browser(manager).get("/datasets/not-an-id/import/").status_code == 404


def test_existing_keys(manager, users_by_role, dataset, stranger):
    url = f"/datasets/{dataset.id}/import/existing"
    answer = post_json(browser(manager), url, {"global_keys": ["cam-1.jpg", "new.jpg", "cam-4.jpg"]})
    assert answer.status_code == 200 and answer.json() == {"existing": ["cam-1.jpg", "cam-4.jpg"]}
    assert post_json(browser(users_by_role["labeler"]), url, {"global_keys": ["cam-1.jpg"]}).status_code == 403
    hidden = post_json(browser(stranger), url, {"global_keys": ["cam-1.jpg"]})
    assert hidden.status_code == 404 and hidden.json()["error"]["code"] == "not_found"
    bad = post_json(browser(manager), url, {"global_keys": "cam-1.jpg"})
    assert bad.status_code == 400 and "global_keys" in bad.json()["error"]["details"]
    not_json = browser(manager).post(url, "{", content_type="application/json")
    assert not_json.status_code == 400
    assert browser(manager).get(url).status_code == 405


def test_batch_of_keys_then_of_the_rest_of_the_dataset(manager, dataset, project):  # noqa: F811
    url = f"/datasets/{dataset.id}/import/batch"
    first = post_json(
        browser(manager),
        url,
        {"project": str(project.id), "scope": "keys", "global_keys": ["cam-0.jpg", "cam-1.jpg"], "priority": 1},
    )
    assert first.status_code == 200, first.content
    assert (first.json()["added"], first.json()["priority"]) == (2, 1)
    rest = post_json(browser(manager), url, {"project": str(project.id), "scope": "dataset", "name": "the rest"})
    assert rest.json()["added"] == 3 and rest.json()["already_in_project"] == 0
    assert Task.objects.filter(project=project).values("data_row").distinct().count() == 5
    assert set(Batch.objects.filter(project=project).values_list("name", flat=True)) == {"street import", "the rest"}
    empty = post_json(browser(manager), url, {"project": str(project.id), "scope": "dataset"})
    assert empty.status_code == 400 and empty.json()["error"]["code"] == "empty_batch"
    bad_priority = post_json(
        browser(manager),
        url,
        {"project": str(project.id), "scope": "keys", "global_keys": ["cam-2.jpg"], "priority": 9},
    )
    assert bad_priority.status_code == 400
    assert post_json(browser(manager), url, {"project": str(project.id), "scope": "all"}).status_code == 400


def test_batch_permissions(manager, users_by_role, dataset, project, stranger, members):  # noqa: F811
    url = f"/datasets/{dataset.id}/import/batch"
    body = {"project": str(project.id), "scope": "dataset"}
    assert post_json(browser(users_by_role["labeler"]), url, body).status_code == 403
    # A project labeler may not queue rows, even when the dataset were theirs to see.
    assert post_json(browser(members["labeler"]), url, body).status_code == 403
    assert post_json(browser(stranger), url, body).status_code == 404
    other_project = post_json(
        browser(manager), url, {"project": "00000000-0000-7000-8000-000000000000", "scope": "dataset"}
    )
    assert other_project.status_code == 404
    assert not Batch.objects.filter(project=project).exists()


def test_errors_csv_neutralises_formulas(manager, users_by_role):
    errors = [
        {"index": 0, "global_key": '=HYPERLINK("http://evil")', "message": "row_data is required"},
        {"index": 3, "global_key": None, "message": "+1 bad"},
        {"line": 7, "message": "@SUM(A1)"},
    ]
    answer = post_json(browser(manager), "/imports/errors.csv", {"errors": errors, "name": "rows; x"})
    assert answer.status_code == 200 and answer["Content-Type"].startswith("text/csv")
    assert answer["Content-Disposition"] == 'attachment; filename="rowsx.csv"'
    table = list(csv.reader(io.StringIO(answer.content.decode())))
    assert table[0] == ["line", "index", "global_key", "message"]
    assert table[1] == ["", "0", '\'=HYPERLINK("http://evil")', "row_data is required"]
    assert table[2][3] == "'+1 bad" and table[3] == ["7", "", "", "'@SUM(A1)"]
    assert post_json(browser(manager), "/imports/errors.csv", {"errors": "x"}).status_code == 400
    assert browser(None).post("/imports/errors.csv", "{}", content_type="application/json").status_code == 302


# --- model run pages -------------------------------------------------------------------------------------------------


def test_new_run_page_creates_model_and_run(org_admin, manager, users_by_role, project, stranger):  # noqa: F811
    assert browser(users_by_role["labeler"]).get("/model_runs/new/").status_code == 403
    page = browser(manager).get(f"/model_runs/new/?project={project.id}")
    assert page.status_code == 200 and b"vehicle" in page.content  # the box tools hint
    assert browser(stranger).get(f"/model_runs/new/?project={project.id}").status_code == 404
    created = browser(manager).post(
        "/model_runs/new/",
        {
            "project": str(project.id),
            "model": "new",
            "model_name": "detector",
            "ontology": str(project.ontology_id),
            "run_name": "v1",
            "coco_categories": "1 vehicle\n2: person",
        },
    )
    run = ModelRun.objects.get(name="v1")
    assert created.status_code == 302 and created["Location"] == f"/model_runs/{run.id}/setup/?project={project.id}"
    assert run.config == {"coco_categories": {"1": "vehicle", "2": "person"}} and run.model.name == "detector"
    again = browser(manager).post("/model_runs/new/", {"model": str(run.model_id), "run_name": "v1"})
    assert again.status_code == 400 and b"has a run named" in again.content
    bad = browser(manager).post(
        "/model_runs/new/", {"model": str(run.model_id), "run_name": "v2", "coco_categories": "car"}
    )
    assert bad.status_code == 400 and b"COCO categories" in bad.content
    assert Model.objects.count() == 1 and ModelRun.objects.count() == 1


def test_run_setup_page_roles_and_tenancy(org_admin, manager, users_by_role, project, stranger):  # noqa: F811
    from apps.predictions import services

    model = services.model_create(actor=org_admin, name="m", ontology=project.ontology)
    run = services.model_run_create(actor=org_admin, model=model, name="r")
    page = browser(manager).get(f"/model_runs/{run.id}/setup/")
    assert page.status_code == 200 and project.name in page.content.decode()
    assert browser(users_by_role["labeler"]).get(f"/model_runs/{run.id}/setup/").status_code == 403
    assert browser(stranger).get(f"/model_runs/{run.id}/setup/").status_code == 404
    runs = browser(manager).get("/model_runs/")
    assert f"/model_runs/{run.id}/setup/" in runs.content.decode()


def test_project_page_links(manager, project, members):  # noqa: F811
    text = browser(manager).get(f"/projects/{project.id}/").content.decode()
    assert f"/datasets/?project={project.id}" in text and f"/model_runs/new/?project={project.id}" in text
    labeler_text = browser(members["labeler"]).get(f"/projects/{project.id}/").content.decode()
    assert "/datasets/?project=" not in labeler_text and "/model_runs/new/" not in labeler_text


def test_browser_session_sends_streamed_imports_with_the_csrf_header(manager, dataset):
    """The pages post CSV/NDJSON/COCO bodies with the session cookie and `X-CSRFToken`: accepted (DRF's own check
    would parse the body for a form token and answer 415); without the header, a 403."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(manager)
    token = client.get("/datasets/").cookies["csrftoken"].value
    url = f"/api/v1/datasets/{dataset.id}/data_rows"
    body = b"global_key,row_data\nfresh-1,https://e.x/f.jpg\n"
    missing = client.generic("POST", url, body, content_type="text/csv")
    assert missing.status_code == 403
    sent = client.generic("POST", url, body, content_type="text/csv", HTTP_X_CSRFTOKEN=token)
    assert sent.status_code == 200, sent.content
    assert sent.json()["created"] == 1
    form = client.post(f"/api/v1/datasets/{dataset.id}/uploads", {}, HTTP_X_CSRFTOKEN="wrong")
    assert form.status_code == 403
