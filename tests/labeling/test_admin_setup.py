"""Project setup in the admin: the settings blocks as form fields (the API's validator), ontology upgrades from the
admin (audited), batches (create from keys / a dataset filter, priority, pause; tenancy) and the favicon."""

from __future__ import annotations

import pytest
from django.test import Client

from apps.core.models import AuditEvent
from apps.labeling.admin_settings import SETTINGS, settings_initial
from apps.labeling.models import Project
from apps.ontologies import services as ontology_services

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(org_admin) -> Client:
    org_admin.is_staff = True
    org_admin.save(update_fields=["is_staff"])
    client = Client()
    client.force_login(org_admin)
    return client


def change_form(project: Project, **overrides) -> dict[str, str]:
    """What the browser posts from the project change page (every setting field, with its current value)."""
    data = {
        "name": project.name,
        "description": project.description,
        "instructions": project.instructions,
        "members-TOTAL_FORMS": "0",
        "members-INITIAL_FORMS": "0",
        "batches-TOTAL_FORMS": "0",
        "batches-INITIAL_FORMS": "0",
    }
    for name, value in settings_initial(project.settings).items():
        if value is None or value is False:
            continue
        data[name] = str(value)
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_change_page_shows_each_setting_as_a_labeled_field_with_help(admin_client, project):
    page = admin_client.get(f"/admin/labeling/project/{project.pk}/change/").content.decode()
    for setting in SETTINGS:
        assert f'name="{setting.field_name}"' in page
        assert setting.label in page
    assert "Quality: consensus and benchmarks" in page
    assert 'name="settings"' not in page  # no raw JSON textarea any more
    assert 'value="0.0"' in page or 'value="0"' in page  # consensus coverage shown from the stored settings


def test_valid_settings_are_saved_through_the_service_and_audited(admin_client, project):
    response = admin_client.post(
        f"/admin/labeling/project/{project.pk}/change/",
        change_form(
            project,
            settings__quality__consensus_coverage="0.25",
            settings__quality__consensus_labelers="3",
            settings__review__sample_rate="0.5",
            settings__quality__consensus_threshold="0.6",
        ),
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    project.refresh_from_db()
    assert project.settings["quality"]["consensus_coverage"] == 0.25
    assert project.settings["quality"]["consensus_labelers"] == 3
    assert project.settings["quality"]["consensus_threshold"] == 0.6
    assert project.settings["review"]["sample_rate"] == 0.5
    assert AuditEvent.objects.filter(action="project.updated", object_id=str(project.pk)).exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("settings__quality__consensus_coverage", "1.5", "Must be a number from 0 to 1."),
        ("settings__quality__consensus_labelers", "40", "Must be an integer from 1 to 20."),
        ("settings__lease__minutes", "0", "Must be an integer of minutes from 1 to 1440."),
        ("settings__queue__order", "diversity", "Required by the 'diversity' order (an embedding id)."),
        (
            "settings__queue__model_run",
            "0190a0a0-0000-7000-8000-000000000000",
            "No such model run in your organization.",
        ),
    ],
)
def test_invalid_settings_are_refused_next_to_their_field(admin_client, project, field, value, message):
    before = dict(project.settings)
    response = admin_client.post(
        f"/admin/labeling/project/{project.pk}/change/", change_form(project, **{field: value})
    )
    assert response.status_code == 200
    form = response.context["adminform"].form
    errors = {name: list(errs) for name, errs in form.errors.items()}
    target = field if field != "settings__queue__order" else "settings__queue__embedding"
    assert message in errors.get(target, []), errors
    project.refresh_from_db()
    assert project.settings == before


def test_blank_required_setting_is_a_field_error(admin_client, project):
    data = change_form(project)
    del data["settings__review__sample_rate"]
    response = admin_client.post(f"/admin/labeling/project/{project.pk}/change/", data)
    assert response.status_code == 200
    assert "settings__review__sample_rate" in response.context["adminform"].form.errors


def test_upgrade_page_lists_older_projects_with_the_diff_and_upgrades_audited(admin_client, project, ontology):
    tree = ontology.versions.get(number=1).tree
    tools = [*tree["tools"], {"name": "cyclist", "tool": "bbox"}]
    ontology_services.ontology_update(
        ontology=ontology, name=ontology.name, tools=tools, classifications=tree["classifications"]
    )
    change = admin_client.get(f"/admin/labeling/project/{project.pk}/change/").content.decode()
    assert "upgrade-ontology" in change and "POST /api/v1" not in change
    page = admin_client.get(f"/admin/labeling/project/upgrade-ontology/{ontology.pk}/?project={project.pk}")
    text = page.content.decode()
    assert page.status_code == 200
    assert "cyclist" in text and project.name in text
    response = admin_client.post(
        f"/admin/labeling/project/upgrade-ontology/{ontology.pk}/", {"projects": [str(project.pk)], "confirm": "1"}
    )
    assert response.status_code == 302
    project.refresh_from_db()
    assert project.ontology_version.number == 2
    event = AuditEvent.objects.get(action="project.ontology_upgraded", object_id=str(project.pk))
    assert event.extra == {"from": 1, "to": 2}
    ontology_page = admin_client.get(f"/admin/ontologies/ontology/{ontology.pk}/change/").content.decode()
    assert "every project uses v2" in ontology_page


def test_upgrade_page_of_another_organization_is_404(admin_client, other_org):
    theirs = ontology_services.ontology_create(
        organization=other_org, name="theirs", tools=[{"name": "car", "tool": "bbox"}]
    )
    assert admin_client.get(f"/admin/labeling/project/upgrade-ontology/{theirs.pk}/").status_code == 404
    assert admin_client.get("/admin/labeling/project/upgrade-ontology/not-a-uuid/").status_code == 404


# --- batches ------------------------------------------------------------------------------------------------------


def test_batch_from_global_keys_through_the_admin(admin_client, project, make_rows):
    rows = make_rows(3, prefix="k")
    response = admin_client.post(
        "/admin/labeling/batch/add/",
        {
            "project": str(project.pk),
            "name": "first",
            "priority": "4",
            "source": "keys",
            "global_keys": "k-0\nk-1, missing-key",
        },
        follow=True,
    )
    text = response.content.decode()
    assert "Added 2 row(s)" in text and "missing-key" in text
    batch = project.batches.get(name="first")
    assert batch.priority == 4
    assert set(batch.tasks.values_list("data_row_id", flat=True)) == {rows[0].pk, rows[1].pk}


def test_batch_from_a_dataset_metadata_filter(admin_client, project, make_rows):
    rows = make_rows(4, prefix="m")
    for i, row in enumerate(rows):
        row.metadata = {"split": "train" if i % 2 == 0 else "valid"}
        row.save(update_fields=["metadata"])
    response = admin_client.post(
        "/admin/labeling/batch/add/",
        {
            "project": str(project.pk),
            "name": "train only",
            "priority": "3",
            "source": "dataset",
            "dataset": str(rows[0].dataset_id),
            "metadata_filter": "split=train",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    batch = project.batches.get(name="train only")
    assert set(batch.tasks.values_list("data_row_id", flat=True)) == {rows[0].pk, rows[2].pk}
    bad = admin_client.post(
        "/admin/labeling/batch/add/",
        {
            "project": str(project.pk),
            "name": "bad",
            "priority": "3",
            "source": "dataset",
            "dataset": str(rows[0].dataset_id),
            "metadata_filter": "nosuchfield=1",
        },
    )
    assert bad.status_code == 200 and "metadata_filter" in bad.context["adminform"].form.errors


def test_batch_from_a_catalog_slice(admin_client, org, org_admin, project, make_rows):
    from apps.catalog.models import Slice

    rows = make_rows(3, prefix="s")
    slice_ = Slice.objects.create(organization=org, name="hard ones", row_ids=[str(rows[2].pk)], created_by=org_admin)
    page = admin_client.get("/admin/labeling/batch/add/").content.decode()
    assert "hard ones" in page
    response = admin_client.post(
        "/admin/labeling/batch/add/",
        {
            "project": str(project.pk),
            "name": "from slice",
            "priority": "3",
            "source": "source:slice",
            "picked": f"slice:{slice_.pk}",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert list(project.batches.get(name="from slice").tasks.values_list("data_row_id", flat=True)) == [rows[2].pk]


def test_priority_pause_and_resume_from_the_admin_stop_and_restart_new_work(
    admin_client, org_admin, project, make_rows
):
    from apps.labeling import services

    make_rows(2, prefix="p")
    batch = services.batch_create(actor=org_admin, project=project, name="b", global_keys=["p-0", "p-1"]).batch
    response = admin_client.post(
        f"/admin/labeling/batch/{batch.pk}/change/", {"priority": "5", "paused": "on"}, follow=True
    )
    assert response.status_code == 200
    batch.refresh_from_db()
    assert batch.priority == 5 and batch.paused
    assert set(batch.tasks.values_list("state", "priority")) == {("paused", 5)}
    assert services.queue_claim(actor=org_admin, project=project) is None
    admin_client.post(
        "/admin/labeling/batch/", {"action": "resume_selected", "_selected_action": [str(batch.pk)]}, follow=True
    )
    batch.refresh_from_db()
    assert not batch.paused
    assert services.queue_claim(actor=org_admin, project=project) is not None
    actions = set(AuditEvent.objects.filter(object_id=str(batch.pk)).values_list("action", flat=True))
    assert {"batch.created", "batch.updated"} <= actions


def test_org_admin_sees_and_acts_on_their_organization_batches_only(
    admin_client, org_admin, project, make_rows, other_org, make_user
):
    from apps.labeling import services
    from apps.ontologies import services as ontology_services

    make_rows(1, prefix="ours")
    ours = services.batch_create(actor=org_admin, project=project, name="ours-batch", global_keys=["ours-0"]).batch
    their_admin = make_user(role="admin", organization=other_org)
    their_ontology = ontology_services.ontology_create(
        organization=other_org, name="o", tools=[{"name": "car", "tool": "bbox"}]
    )
    their_project = services.project_create(actor=their_admin, name="theirs", ontology=their_ontology)
    make_rows(1, prefix="theirs", organization=other_org)
    theirs = services.batch_create(
        actor=their_admin, project=their_project, name="their-batch", global_keys=["theirs-0"]
    ).batch
    listing = admin_client.get("/admin/labeling/batch/").content.decode()
    assert "ours-batch" in listing and "their-batch" not in listing
    assert admin_client.get(f"/admin/labeling/batch/{theirs.pk}/change/").status_code == 404
    admin_client.post(
        "/admin/labeling/batch/",
        {"action": "pause_selected", "_selected_action": [str(theirs.pk), str(ours.pk)]},
    )
    theirs.refresh_from_db()
    ours.refresh_from_db()
    assert not theirs.paused and ours.paused
    # their project is not offered (nor accepted) in the add form
    add = admin_client.post(
        "/admin/labeling/batch/add/",
        {"project": str(their_project.pk), "name": "x", "priority": "3", "source": "keys", "global_keys": "ours-0"},
    )
    assert add.status_code == 200 and "project" in add.context["adminform"].form.errors
    assert not their_project.batches.filter(name="x").exists()


def test_batch_patch_api_matches_the_admin(client_for, org_admin, project, make_rows, users_by_role):
    from apps.labeling import services

    make_rows(1, prefix="api")
    batch = services.batch_create(actor=org_admin, project=project, name="b", global_keys=["api-0"]).batch
    client = client_for(org_admin)
    response = client.patch(f"/api/v1/batches/{batch.pk}", {"priority": 2, "paused": True}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["priority"] == 2 and response.json()["paused"] is True
    assert client.patch(f"/api/v1/batches/{batch.pk}", {"priority": 9}, format="json").status_code == 400
    assert client.patch(f"/api/v1/batches/{batch.pk}", {"colour": 1}, format="json").status_code == 400
    labeler = client_for(users_by_role["labeler"])
    assert labeler.patch(f"/api/v1/batches/{batch.pk}", {"paused": False}, format="json").status_code in (403, 404)


def test_favicon_is_served_and_linked(client, org_admin):
    response = client.get("/static/favicon.svg")
    assert response.status_code == 200
    client.force_login(org_admin)
    assert 'rel="icon"' in client.get("/").content.decode()
    assert client.get("/favicon.ico", follow=True).status_code == 200


# --- the ontology editor's server check -----------------------------------------------------------------------------


def test_editor_check_reports_the_diff_and_refuses_removing_a_used_feature(admin_client, org_admin, project, make_rows):
    from apps.labeling import services

    make_rows(1, prefix="e")
    services.batch_create(actor=org_admin, project=project, name="b", global_keys=["e-0"])
    task = services.queue_claim(actor=org_admin, project=project)
    services.label_submit(
        actor=org_admin,
        task=task,
        annotations=[
            {
                "name": "vehicle",
                "bbox": {"top": 1, "left": 1, "height": 5, "width": 5},
                "classifications": [{"name": "kind", "answer": {"name": "police"}}],
            }
        ],
    )
    ontology = project.ontology
    url = f"/admin/ontologies/ontology/{ontology.pk}/editor-check/"
    tree = ontology.versions.get(number=1).tree
    unchanged = admin_client.post(url, {"tree": tree}, content_type="application/json").json()
    assert unchanged["errors"] == [] and unchanged["changed"] is False and unchanged["in_use"] is None
    without = {**tree, "tools": [t for t in tree["tools"] if t["name"] != "vehicle"]}
    answer = admin_client.post(url, {"tree": without}, content_type="application/json").json()
    assert answer["in_use"]["labels"] == 1
    assert answer["in_use"]["message"].startswith("1 label(s) use feature(s) this change removes ('vehicle'")
    added = {**tree, "tools": [*tree["tools"], {"name": "cyclist", "tool": "bbox"}]}
    answer = admin_client.post(url, {"tree": added}, content_type="application/json").json()
    assert answer["changed"] is True and ["added", "cyclist"] in answer["lines"]
    invalid = admin_client.post(
        url, {"tree": {"tools": [{"name": "", "tool": "cube"}]}}, content_type="application/json"
    )
    assert {e["path"] for e in invalid.json()["errors"]} >= {"tools[0].name", "tools[0].tool"}
    assert admin_client.post(url, b"{not json", content_type="application/json").status_code == 400
    assert admin_client.get(url).status_code == 405
    # the form refuses the same removal with the same sentence, keeping what was typed
    import json

    response = admin_client.post(
        f"/admin/ontologies/ontology/{ontology.pk}/change/",
        {"name": ontology.name, "description": "", "tree": json.dumps(without), **_version_inline(ontology)},
    )
    assert response.status_code == 200
    assert "1 label(s) use feature(s) this change removes" in response.content.decode()
    assert ontology.versions.count() == 1


def _version_inline(ontology) -> dict[str, str]:
    data = {
        "versions-TOTAL_FORMS": str(ontology.versions.count()),
        "versions-INITIAL_FORMS": str(ontology.versions.count()),
        "versions-MIN_NUM_FORMS": "0",
        "versions-MAX_NUM_FORMS": "1000",
    }
    for i, version in enumerate(ontology.versions.order_by("-number")):
        data[f"versions-{i}-id"] = str(version.pk)
        data[f"versions-{i}-ontology"] = str(ontology.pk)
    return data


def test_editor_check_of_another_organization_is_404(admin_client, other_org):
    theirs = ontology_services.ontology_create(
        organization=other_org, name="theirs", tools=[{"name": "car", "tool": "bbox"}]
    )
    response = admin_client.post(
        f"/admin/ontologies/ontology/{theirs.pk}/editor-check/", {"tree": {}}, content_type="application/json"
    )
    assert response.status_code == 404
