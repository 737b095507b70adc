"""Model endpoint pages in Chromium: a team manager finds the empty list, opens an endpoint pointing at the reference
model server, checks it (health, setup, latency); the project's pre-label page shows the automatic pre-label
progress, and for a failing server the reasons and the resend button. Screenshots go to $TDP_SHOTS when set."""

from __future__ import annotations

import os

import pytest

from apps.labeling import services as labeling_services
from apps.predictions.models import EndpointRow
from tests.e2e.test_login import login
from tests.factories import TEST_PASSWORD
from tests.predictions.endpoint_world import add_batch, endpoint_and_project, scene_rows
from tests.predictions.model_servers import FAULTY, REFERENCE, host_of, running_server

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
SHOTS = os.environ.get("TDP_SHOTS")


def shoot(page, name: str) -> None:
    if not SHOTS:
        return
    for width, height in ((1440, 900), (1366, 768)):
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=f"{SHOTS}/{name}-{width}.png", full_page=True)


@pytest.fixture
def manager(org, make_user):
    return make_user(role="team_manager", organization=org, username="tina")


def test_a_manager_checks_an_endpoint_and_follows_the_prelabels(page, settings, live_server, org_admin, manager):
    settings.TDP_PUBLIC_URL = live_server.url
    login(page, "tina", TEST_PASSWORD)
    page.wait_for_url("**/")
    page.click("nav >> text=Models")
    page.wait_for_url("**/model-endpoints/")
    assert "No model endpoints yet" in page.locator("#endpoint-table").inner_text()
    shoot(page, "endpoints-empty")

    rows = scene_rows(org_admin.organization, 3)
    with running_server(REFERENCE) as url:
        settings.TDP_OUTBOUND_ALLOWED_HOSTS = [host_of(url)]
        endpoint, project = endpoint_and_project(org_admin, url)
        labeling_services.project_member_set(actor=org_admin, project=project, user=manager, role="team_manager")
        page.reload()
        page.click("#endpoint-table >> text=colour detector")
        page.wait_for_url(f"**/model-endpoints/{endpoint.pk}/")
        assert "Not checked yet" in page.locator("#endpoint-check").inner_text()
        page.click("#check-endpoint")
        page.wait_for_url(f"**/model-endpoints/{endpoint.pk}/")
        check = page.locator("#endpoint-check").inner_text()
        assert "Works." in check and "model version colour-components-1 in" in check and " ms" in check
        shoot(page, "endpoint-checked")

        add_batch(org_admin, project, rows)
    assert EndpointRow.objects.filter(project=project, status="answered").count() == 3
    page.goto(f"/projects/{project.pk}/prelabels/")
    counts = page.locator("#endpoint-counts").inner_text()
    assert counts == "3 row(s): 3 sent · 3 answered · 0 failed · 0 waiting"
    shoot(page, "project-progress")


def test_failures_show_their_reasons_and_can_be_sent_again(page, settings, org_admin, manager):
    settings.TDP_ENDPOINT_BACKOFF_SECONDS = 0
    settings.TDP_ENDPOINT_MAX_ATTEMPTS = 1
    rows = scene_rows(org_admin.organization, 2, prefix="bad")
    with running_server(FAULTY, "--mode", "500") as url:
        settings.TDP_OUTBOUND_ALLOWED_HOSTS = [host_of(url)]
        _endpoint, project = endpoint_and_project(org_admin, url, name="flaky")
        labeling_services.project_member_set(actor=org_admin, project=project, user=manager, role="team_manager")
        add_batch(org_admin, project, rows)
        login(page, "tina", TEST_PASSWORD)
        page.wait_for_url("**/")
        page.goto(f"/projects/{project.pk}/prelabels/")
        assert "2 failed" in page.locator("#endpoint-counts").inner_text()
        reasons = page.locator("#endpoint-errors").inner_text()
        assert "The endpoint answered HTTP 500 to POST /predict." in reasons
        shoot(page, "project-failures")
        page.click("text=Send the failed rows again")  # the server still fails: they fail again, recorded
        page.wait_for_url(f"**/projects/{project.pk}/prelabels/")
        assert "2 failed row(s) will be sent again." in page.locator("body").inner_text()
    assert set(EndpointRow.objects.filter(project=project).values_list("status", "attempts")) == {("failed", 1)}


def test_an_admin_adds_an_endpoint_in_the_admin_and_private_addresses_are_refused(page, settings, org_admin):
    from apps.ontologies import services as ontology_services
    from apps.predictions.models import ModelEndpoint

    ontology_services.ontology_create(
        organization=org_admin.organization,
        name="street",
        tools=[{"name": "vehicle", "tool": "bbox"}],
        classifications=[],
        actor=org_admin,
    )
    settings.TDP_OUTBOUND_ALLOWED_HOSTS = []
    login(page, org_admin.username, TEST_PASSWORD)
    page.wait_for_url("**/")
    page.goto("/admin/predictions/modelendpoint/add/")
    page.fill("#id_name", "in-house detector")
    page.fill("#id_url", "http://10.1.2.3:9000")
    page.select_option("#id_ontology", label="street")
    page.fill("#id_class_map", '{"car": "vehicle"}')
    page.fill("#id_secret", "Token from-the-admin")
    page.click("input[name=_save]")
    error = page.locator(".errorlist").first.inner_text()
    assert "non-public address" in error and "TDP_OUTBOUND_ALLOWED_HOSTS" in error
    assert page.locator("#id_secret").input_value() == ""  # never rendered back, even after an error
    shoot(page, "admin-refused")
    settings.TDP_OUTBOUND_ALLOWED_HOSTS = ["10.1.2.3:9000"]
    page.fill("#id_secret", "Token from-the-admin")
    page.click("input[name=_save]")
    page.wait_for_url("**/admin/predictions/modelendpoint/")
    endpoint = ModelEndpoint.objects.get(name="in-house detector")
    assert endpoint.has_secret and endpoint.class_map == {"car": "vehicle"}
    page.goto(f"/admin/predictions/modelendpoint/{endpoint.pk}/change/")
    assert "from-the-admin" not in page.content()
    shoot(page, "admin-change")


def test_the_prelabel_page_shows_the_embedding_progress(page, settings, live_server, org_admin, manager):
    from apps.predictions.services import endpoints as endpoint_services

    settings.TDP_PUBLIC_URL = live_server.url
    rows = scene_rows(org_admin.organization, 2, prefix="e2e-emb")
    with running_server(REFERENCE) as url:
        settings.TDP_OUTBOUND_ALLOWED_HOSTS = [host_of(url)]
        _detector, project = endpoint_and_project(org_admin, url)
        embedder = endpoint_services.model_endpoint_create(
            actor=org_admin, values={"name": "histograms", "url": url, "kind": "embedder"}
        )
        project = labeling_services.project_update(
            actor=org_admin, project=project, data={"settings": {"model": {"embed_endpoint": str(embedder.pk)}}}
        )
        labeling_services.project_member_set(actor=org_admin, project=project, user=manager, role="team_manager")
        add_batch(org_admin, project, rows)
    login(page, "tina", TEST_PASSWORD)
    page.wait_for_url("**/")
    page.goto(f"/projects/{project.pk}/prelabels/")
    assert page.locator("#embedding-counts").inner_text() == "2 row(s): 2 embedded · 0 failed · 0 waiting"
    assert page.locator("#endpoint-counts").inner_text() == "2 row(s): 2 sent · 2 answered · 0 failed · 0 waiting"
    assert "space “histograms colour-components-1”" in page.locator("#embedding-progress").inner_text()
    shoot(page, "project-embeddings")


def test_a_manager_sends_all_rows_again_and_follows_an_asynchronous_training(
    page, settings, live_server, org_admin, manager
):
    from datetime import timedelta

    from django.utils import timezone

    from apps.predictions.models import RetrainCall
    from apps.predictions.services.retrain_follow import retrain_poll

    settings.TDP_PUBLIC_URL = live_server.url
    rows = scene_rows(org_admin.organization, 3, prefix="e2e-again")
    with running_server(REFERENCE, "--instant", "--async-train", "0.3") as url:
        settings.TDP_OUTBOUND_ALLOWED_HOSTS = [host_of(url)]
        endpoint, project = endpoint_and_project(org_admin, url)
        add_batch(org_admin, project, rows)
        project = labeling_services.project_update(
            actor=org_admin, project=project, data={"settings": {"model": {"retrain_endpoint": str(endpoint.pk)}}}
        )
        labeling_services.project_member_set(actor=org_admin, project=project, user=manager, role="team_manager")
        before = dict(EndpointRow.objects.filter(project=project).values_list("pk", "updated_at"))
        login(page, "tina", TEST_PASSWORD)
        page.wait_for_url("**/")
        page.goto(f"/projects/{project.pk}/prelabels/")
        page.click("#resend-all summary")
        page.click("#resend-all button")  # not confirmed: the browser keeps the form (the box is required)
        assert page.url.endswith("/prelabels/")
        assert dict(EndpointRow.objects.filter(project=project).values_list("pk", "updated_at")) == before
        page.check("#resend-all input[name=confirm]")
        shoot(page, "project-resend-all")
        with page.expect_navigation():
            page.click("#resend-all button")
        assert "All 3 row(s) will be sent again" in page.locator("body").inner_text()
        after = dict(EndpointRow.objects.filter(project=project).values_list("pk", "updated_at"))
        assert all(after[pk] > stamp for pk, stamp in before.items())

        with page.expect_navigation():
            page.click("text=Retrain now")
        assert "Training started on the model server" in page.locator("body").inner_text()
        assert "training: started · 0 poll(s)" in page.locator("#retrain-calls").inner_text()
        shoot(page, "project-training")
        retrain = RetrainCall.objects.get(project=project)
        for _ in range(50):  # the schedule's polls, made due by hand
            RetrainCall.objects.filter(pk=retrain.pk).update(next_poll_at=timezone.now() - timedelta(seconds=1))
            if retrain_poll(retrain.pk) != "training":
                break
            page.wait_for_timeout(200)
    page.reload()
    calls = page.locator("#retrain-calls").inner_text()
    assert "trained" in calls and "colour-components-2" in calls and "job " in calls
    shoot(page, "project-trained")
