"""The ontology editor and project upgrades in the admin, in Chromium: an org admin builds an ontology (a box tool, a
radio with a nested radio under one option, a checklist) entirely in the editor and saves it after reviewing the
changes; removing a feature that labels use is refused with the label count while archiving works; an upgrade from
the admin moves a project to the new version."""

from __future__ import annotations

import os

import pytest

from apps.datasets.models import DataRow, Dataset
from apps.labeling import services
from apps.ontologies import services as ontology_services
from apps.ontologies.models import Ontology
from tests.e2e.test_login import login
from tests.factories import TEST_PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
SHOTS = os.environ.get("TDP_SHOTS")  # a folder: also save screenshots there


def shot(page, name: str) -> None:
    if SHOTS:
        os.makedirs(SHOTS, exist_ok=True)
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


@pytest.fixture
def admin_page(page, org_admin):
    org_admin.is_staff = True
    org_admin.save(update_fields=["is_staff"])
    login(page, org_admin.username, TEST_PASSWORD)
    page.wait_for_url("**/")
    return page


def node(page, path: str):
    return page.locator(f'li[data-path="{path}"] > .oe-row')


def rename(page, path: str, name: str) -> None:
    field = node(page, path).locator("input[type=text]")
    field.fill(name)


def strip(tree):
    """The tree without the server's ids and defaults, to compare with what the admin built."""
    if isinstance(tree, list):
        return [strip(x) for x in tree]
    if isinstance(tree, dict):
        drop = {"schema_id", "description", "instructions", "archived", "max_length"}
        return {k: strip(v) for k, v in tree.items() if k not in drop and v != []}
    return tree


def test_admin_builds_an_ontology_in_the_editor_and_saves_it(admin_page, org):
    page = admin_page
    page.goto("/admin/ontologies/ontology/add/")
    page.fill("#id_name", "street")
    assert page.locator("[data-editor-root]").is_visible()
    page.click("button[data-add=tool]")
    rename(page, "tools.0", "vehicle")
    node(page, "tools.0").locator("input[type=color]").fill("#112233")
    node(page, "tools.0").locator("[data-action=add-classification]").click()
    rename(page, "tools.0.classifications.0", "kind")
    rename(page, "tools.0.classifications.0.options.0", "police")
    node(page, "tools.0.classifications.0").locator("[data-action=add-option]").click()
    rename(page, "tools.0.classifications.0.options.1", "ambulance")
    node(page, "tools.0.classifications.0.options.1").locator("[data-action=add-classification]").click()
    nested = "tools.0.classifications.0.options.1.classifications.0"
    rename(page, nested, "lights")
    node(page, nested).locator("input[data-field=required]").check()
    rename(page, f"{nested}.options.0", "on")
    node(page, nested).locator("[data-action=add-option]").click()
    rename(page, f"{nested}.options.1", "off")
    page.click("button[data-add=classification]")
    rename(page, "classifications.0", "tags")
    node(page, "classifications.0").locator("select[data-field=type]").select_option("checklist")
    rename(page, "classifications.0.options.0", "night")
    node(page, "classifications.0").locator("[data-action=add-option]").click()
    rename(page, "classifications.0.options.1", "blurry")
    # reorder: blurry first
    node(page, "classifications.0.options.1").locator("[data-action=up]").click()
    # the live preview shows what a labeler sees; the nested question appears once its option is picked
    preview = page.locator("[data-preview]")
    assert "vehicle" in preview.inner_text() and "tags" in preview.inner_text()
    preview.get_by_label("ambulance").check()
    assert preview.locator("legend", has_text="lights *").is_visible()
    assert page.locator("[data-editor-root] [name]:not([form=oe-preview-none])").count() == 0  # never posted
    shot(page, "editor-built")
    page.click("input[name=_save]")
    review = page.locator("[data-review]")
    review.wait_for(state="visible")
    page.wait_for_selector("[data-review-body] .oe-diff")
    assert "Saving creates version 1" in review.inner_text()
    assert "Added: vehicle / kind / ambulance / lights" in review.inner_text()
    shot(page, "editor-review")
    page.click("[data-confirm-save]")
    page.wait_for_load_state()
    shot(page, "editor-saved")
    page.wait_for_url("**/admin/ontologies/ontology/")
    ontology = Ontology.objects.get(organization=org, name="street")
    stored = ontology.versions.get(number=1).tree
    assert strip(stored) == {
        "tools": [
            {
                "name": "vehicle",
                "tool": "bbox",
                "color": "#112233",
                "classifications": [
                    {
                        "name": "kind",
                        "type": "radio",
                        "required": False,
                        "options": [
                            {"value": "police"},
                            {
                                "value": "ambulance",
                                "classifications": [
                                    {
                                        "name": "lights",
                                        "type": "radio",
                                        "required": True,
                                        "options": [{"value": "on"}, {"value": "off"}],
                                    }
                                ],
                            },
                        ],
                    }
                ],
            }
        ],
        "classifications": [
            {
                "name": "tags",
                "type": "checklist",
                "required": False,
                "options": [{"value": "blurry"}, {"value": "night"}],
            }
        ],
    }


@pytest.fixture
def labeled_project(org, org_admin):
    ontology = ontology_services.ontology_create(
        organization=org,
        name="vehicles",
        tools=[{"name": "car", "tool": "bbox"}, {"name": "truck", "tool": "bbox"}],
        actor=org_admin,
    )
    dataset = Dataset.objects.create(organization=org, name="d")
    DataRow.objects.create(
        organization=org, dataset=dataset, global_key="r0", row_data="https://example.com/r0.jpg", width=64, height=48
    )
    project = services.project_create(actor=org_admin, name="Cars", ontology=ontology)
    services.batch_create(actor=org_admin, project=project, name="b", global_keys=["r0"])
    task = services.queue_claim(actor=org_admin, project=project)
    services.label_submit(
        actor=org_admin,
        task=task,
        annotations=[{"name": "car", "bbox": {"top": 1, "left": 1, "height": 5, "width": 5}}],
    )
    return project


def test_removing_a_used_feature_is_refused_archive_works_and_the_admin_upgrades_the_project(
    admin_page, labeled_project
):
    page = admin_page
    ontology = labeled_project.ontology
    page.goto(f"/admin/ontologies/ontology/{ontology.pk}/change/")
    node(page, "tools.0").locator("[data-action=remove]").click()
    status = page.locator(".oe-status")
    status.filter(has_text="Not removed").wait_for()
    assert "1 label(s) use feature(s) this change removes ('car')" in status.inner_text()
    assert page.locator('li[data-path="tools.0"] input[type=text]').input_value() == "car"
    # an unused feature goes
    node(page, "tools.1").locator("[data-action=remove]").click()
    status.filter(has_text="Removed “truck”").wait_for()
    node(page, "tools.0").locator("[data-action=archive]").click()
    assert node(page, "tools.0").locator(".oe-badge", has_text="archived").is_visible()
    assert "car" not in page.locator("[data-preview]").inner_text()
    shot(page, "editor-archive")
    page.click("input[name=_continue]")
    page.wait_for_selector("[data-review-body] .oe-diff")
    body = page.locator("[data-review-body]").inner_text()
    assert "Saving creates version 2" in body and "Archived: car" in body and "Removed: truck" in body
    page.click("[data-confirm-save]")
    page.wait_for_load_state()
    ontology.refresh_from_db()
    assert ontology.current_version == 2
    tree = ontology.versions.get(number=2).tree
    assert [(t["name"], t["archived"]) for t in tree["tools"]] == [("car", True)]
    # the ontology page lists the project still on v1 and leads to the upgrade page
    page.click("a:has-text('Review and upgrade')")
    page.wait_for_url("**/upgrade-ontology/**")
    assert "Cars" in page.locator("#content-main").inner_text()
    assert "Archived: car" in page.locator("#content-main").inner_text()
    shot(page, "upgrade-page")
    page.click("input[name=confirm]")
    page.wait_for_load_state()
    assert "Upgraded to v2: Cars" in page.locator(".messagelist").inner_text()
    labeled_project.refresh_from_db()
    assert labeled_project.ontology_version.number == 2


def test_the_json_view_round_trips_exactly_and_drives_the_editor(admin_page, org, org_admin):
    import json

    from apps.ontologies.demo import VEHICLES

    ontology = ontology_services.ontology_create(
        organization=org, name="vehicles", tools=VEHICLES["tools"], actor=org_admin
    )
    stored = ontology.versions.get(number=1).tree
    page = admin_page
    page.goto(f"/admin/ontologies/ontology/{ontology.pk}/change/")
    page.locator("[data-editor-root]").wait_for()
    page.click("summary:has-text('Advanced')")
    textarea = page.locator("textarea.ontology-json")
    assert json.loads(textarea.input_value()) == stored  # every field, every schema_id, as stored
    # an edit in the JSON view shows in the tree and the preview at once
    edited = json.loads(textarea.input_value())
    edited["tools"][0]["name"] = "automobile"
    textarea.fill(json.dumps(edited, indent=2))
    assert page.locator('li[data-path="tools.0"] > .oe-row input[type=text]').input_value() == "automobile"
    assert "automobile" in page.locator("[data-preview]").inner_text()
    # and back: nothing else changed, so the only change to review is the rename
    page.click("input[name=_continue]")
    page.wait_for_selector("[data-review-body] .oe-diff")
    lines = page.locator("[data-review-body] .oe-diff li").all_inner_texts()
    assert lines == [f"Renamed: {stored['tools'][0]['name']} → automobile"]
    page.click("[data-keep-editing]")
    # undo the rename in the tree: saving then keeps version 1
    page.locator('li[data-path="tools.0"] > .oe-row input[type=text]').fill(stored["tools"][0]["name"])
    assert json.loads(textarea.input_value()) == stored
    page.click("input[name=_continue]")
    page.locator("[data-review-body]", has_text="No change to the tree").wait_for()
    page.click("[data-confirm-save]")
    page.wait_for_load_state()
    ontology.refresh_from_db()
    assert ontology.current_version == 1
