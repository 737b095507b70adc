"""Labeler pages without a browser: home lists my projects, project page, claim, submit (good and bad), skip."""

import json

import pytest

from apps.labeling import services
from apps.labeling.models import Label, Task
from tests.labeling.conftest import good_label

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued(project, org_admin, make_rows):
    rows = make_rows(2)
    services.batch_create(actor=org_admin, project=project, name="b", data_row_ids=[str(r.id) for r in rows])
    return rows


def test_home_lists_my_projects_only(client, project, members, project_factory, org_admin):
    project_factory(name="<i>Secret</i> project")
    client.force_login(members["labeler"])
    html = client.get("/").content.decode()
    assert project.name in html and f"/projects/{project.id}/" in html
    assert "Secret" not in html
    client.force_login(org_admin)
    html = client.get("/").content.decode()
    assert "&lt;i&gt;Secret&lt;/i&gt; project" in html


def test_project_page_escapes_instructions_and_shows_progress(client, project, members, org_admin, queued):
    services.project_update(actor=org_admin, project=project, data={"instructions": "<script>x()</script> boxes"})
    client.force_login(members["labeler"])
    html = client.get(f"/projects/{project.id}/").content.decode()
    assert "&lt;script&gt;x()&lt;/script&gt; boxes" in html and "<script>x()" not in html
    assert "Start labeling" in html
    client.force_login(members["outsider"])
    assert client.get(f"/projects/{project.id}/").status_code == 404


def test_claim_label_submit_and_next(client, project, members, queued):
    client.force_login(members["labeler"])
    response = client.post(f"/projects/{project.id}/next")
    assert response.status_code == 302
    task_url = response["Location"]
    assert client.get(task_url).status_code == 200
    response = client.post(task_url, {"annotations": json.dumps(good_label()), "seconds_spent": "7.5"})
    assert response.status_code == 302 and response["Location"] != task_url
    label = Label.objects.get()
    assert label.labeler == members["labeler"] and label.seconds_spent == 7.5
    # the next task was claimed automatically
    assert Task.objects.filter(assignee=members["labeler"], state="in_progress").count() == 1


def test_bad_submit_rerenders_with_errors_and_keeps_the_drawing(client, project, members, queued):
    client.force_login(members["labeler"])
    task_url = client.post(f"/projects/{project.id}/next")["Location"]
    drawing = [{"name": "vehicle", "bbox": {"top": 10, "left": 20, "height": 50, "width": 80}}]
    response = client.post(task_url, {"annotations": json.dumps(drawing)})
    assert response.status_code == 400
    html = response.content.decode()
    assert "kind" in html  # the missing required question is named
    assert '"width": 80' in html  # the submitted box is handed back to the page
    assert not Label.objects.exists()
    garbage = client.post(task_url, {"annotations": "{not json"})
    assert garbage.status_code == 400


def test_skip_from_the_page(client, project, members, queued):
    client.force_login(members["labeler"])
    task_url = client.post(f"/projects/{project.id}/next")["Location"]
    task_id = task_url.split("/")[2]
    response = client.post(f"/tasks/{task_id}/skip", {"reason": "corrupt image"})
    assert response.status_code == 302
    assert Task.objects.get(pk=task_id).state == "skipped"


def test_someone_elses_task_page_redirects(client, project, members, queued):
    client.force_login(members["labeler"])
    task_url = client.post(f"/projects/{project.id}/next")["Location"]
    client.force_login(members["expert"])
    response = client.get(task_url)
    assert response.status_code == 302 and response["Location"] == f"/projects/{project.id}/"


def test_demo_project_is_loaded_idempotently(org, monkeypatch, settings, tmp_path):
    from io import StringIO

    from django.core.management import call_command

    from apps.datasets import demo
    from apps.labeling.models import Project

    monkeypatch.setattr(demo, "SCENES", 16)
    settings.MEDIA_ROOT = tmp_path

    call_command("load_demo", stdout=StringIO())
    call_command("load_demo", stdout=StringIO())
    projects = Project.objects.filter(name="Demo: street scenes")
    assert projects.count() == 1
    assert projects.get().members.count() == 7


def test_admin_action_adds_selected_rows_to_a_project(client, project, org_admin, make_rows):
    rows = make_rows(3, prefix="adm")
    client.force_login(org_admin)
    selected = [str(r.id) for r in rows[:2]]
    form = client.post("/admin/datasets/datarow/", {"action": "add_to_project", "_selected_action": selected})
    assert form.status_code == 200 and "Add data rows to a project" in form.content.decode()
    response = client.post(
        "/admin/datasets/datarow/",
        {
            "action": "add_to_project",
            "_selected_action": selected,
            "apply": "1",
            "project": str(project.id),
            "batch_name": "from admin",
            "priority": "4",
        },
        follow=True,
    )
    assert "2 row(s) added" in response.content.decode()
    assert sorted(str(t.data_row_id) for t in Task.objects.filter(project=project)) == sorted(selected)
    assert set(Task.objects.filter(project=project).values_list("priority", flat=True)) == {4}
