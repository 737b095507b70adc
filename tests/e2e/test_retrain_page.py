"""The retraining section of a project's pre-label page, in Chromium, against the reference model server as a real
process: a team manager sees that nothing was called yet, presses "Retrain now", and reads the call (on demand, by
whom, done labels, rows, status, the new model version, the time). Screenshots go to $TDP_SHOTS when set."""

from __future__ import annotations

import pytest

from apps.labeling import services as labeling_services
from apps.predictions.services import endpoints as endpoint_services
from tests.e2e.test_editor_assist import shoot
from tests.e2e.test_login import login
from tests.factories import TEST_PASSWORD
from tests.predictions.endpoint_world import TOOLS, scene_rows
from tests.predictions.model_servers import REFERENCE, host_of, running_server

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_manager_retrains_from_the_prelabel_page(page, settings, live_server, org_admin, make_user, org):
    from apps.ontologies import services as ontology_services

    settings.TDP_PUBLIC_URL = live_server.url
    manager = make_user(role="team_manager", organization=org, username="tina")
    with running_server(REFERENCE) as url:
        settings.TDP_OUTBOUND_ALLOWED_HOSTS = [host_of(url)]
        ontology = ontology_services.ontology_create(
            organization=org, name="street", tools=TOOLS, classifications=[], actor=org_admin
        )
        endpoint = endpoint_services.model_endpoint_create(
            actor=org_admin, values={"name": "trainable", "url": url, "ontology": ontology}
        )
        project = labeling_services.project_create(
            actor=org_admin,
            name="Street",
            ontology=ontology,
            settings={
                "review": {"sample_rate": 0.0},
                "model": {"retrain_endpoint": str(endpoint.pk), "retrain_after": 50},
            },
        )
        labeling_services.project_member_set(actor=org_admin, project=project, user=manager, role="team_manager")
        rows = scene_rows(org, 2, prefix="retrain-page")
        labeling_services.batch_create(
            actor=org_admin, project=project, name="b1", data_row_ids=[str(r.pk) for r in rows]
        )
        for i in range(2):
            task = labeling_services.queue_claim(actor=org_admin, project=project)
            box = {"name": "vehicle", "bbox": {"left": 10 + i, "top": 20, "width": 30, "height": 40}}
            labeling_services.label_submit(actor=org_admin, task=task, annotations=[box])

        login(page, "tina", TEST_PASSWORD)
        page.wait_for_url("**/")
        page.goto(f"/projects/{project.id}/prelabels/")
        section = page.locator("#retraining")
        text = section.inner_text()
        assert "after every 50 new done label(s)" in text and "2 done label(s) now, no call yet" in text
        assert "The training URL has not been called yet." in text
        shoot(page, "retrain-empty")
        page.click("#retraining >> text=Retrain now")
        page.wait_for_url("**/prelabels/#retraining")
        assert "The training URL was called." in page.inner_text("body")
        row = page.locator("#retrain-calls tbody tr").first.inner_text()
        assert "on demand (tina)" in row and "called" in row and "colour-components-2" in row and " ms" in row
        assert "0 since the last call" in page.locator("#retraining").inner_text()
        shoot(page, "retrain-called")
