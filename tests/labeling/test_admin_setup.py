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
