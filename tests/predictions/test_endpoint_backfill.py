"""Rows already in a project when its pre-label endpoint is set (or changed) are sent, once per (row, model
version); "send all rows again" (API and the progress view, with a confirmation) re-sends every row on request.
Against the reference server running as a real process (`--instant`: answers without looking at the images).

django-q2 runs tasks inline here (sync): the dispatcher runs when the settings update commits."""

from __future__ import annotations

import pytest
from django.test import Client

from apps.accounts.models import OrgRole
from apps.labeling import services as labeling_services
from apps.labeling.models import ProjectRole
from apps.ontologies import services as ontology_services
from apps.predictions.models import EndpointRow, Prediction, Prelabel
from apps.predictions.services import endpoints as endpoint_services
from tests.predictions.endpoint_world import TOOLS, add_batch, scene_rows
from tests.predictions.model_servers import REFERENCE, host_of, running_server

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def served(settings, live_server):
    settings.TDP_PUBLIC_URL = live_server.url
    settings.TDP_ENDPOINT_BACKOFF_SECONDS = 0
    return live_server


def _world(admin, url, rows=4):
    ontology = ontology_services.ontology_create(
        organization=admin.organization, name="street", tools=TOOLS, classifications=[], actor=admin
    )
    endpoint = endpoint_services.model_endpoint_create(
        actor=admin, values={"name": "instant", "url": url, "ontology": ontology, "batch_size": 3}
    )
    project = labeling_services.project_create(actor=admin, name="Street", ontology=ontology, settings={})
    data = scene_rows(admin.organization, rows, prefix="backfill")
    add_batch(admin, project, data)  # no endpoint yet: nothing is queued
    return endpoint, project, data


def _stamps(project):
    return dict(EndpointRow.objects.filter(project=project).values_list("data_row_id", "updated_at"))


def _set_endpoint(client, project, endpoint_id):
    answer = client.patch(
        f"/api/v1/projects/{project.id}",
        {"model": {"prelabel_endpoint": endpoint_id}},
        format="json",
    )
    assert answer.status_code == 200, answer.content


def test_rows_already_in_the_project_are_sent_when_the_endpoint_is_set(served, settings, org_admin, client_for):
    with running_server(REFERENCE, "--instant") as url:
        settings.TDP_OUTBOUND_ALLOWED_HOSTS = [host_of(url)]
        endpoint, project, data = _world(org_admin, url)
        assert not EndpointRow.objects.filter(project=project).exists()
        api = client_for(org_admin)

        _set_endpoint(api, project, str(endpoint.pk))  # commit → backfill → dispatcher (inline)
        states = set(EndpointRow.objects.filter(project=project).values_list("status", "attempts", "model_version"))
        assert states == {("answered", 1, "colour-components-1")}
        assert EndpointRow.objects.filter(project=project).count() == len(data)
        prelabels = Prelabel.objects.filter(project=project).count()
        assert prelabels == len(data)  # one fixed box per row
        endpoint.refresh_from_db()
        assert endpoint.model_version == "colour-components-1"

        # Nothing is sent twice for the same (row, model version): unset and set again, or an unrelated change.
        before = _stamps(project)
        _set_endpoint(api, project, None)
        _set_endpoint(api, project, str(endpoint.pk))
        api.patch(f"/api/v1/projects/{project.id}", {"review": {"sample_rate": 0.5}}, format="json")
        assert _stamps(project) == before

        # Rows answered by an older model version than the endpoint's current one are queued again; a row that
        # failed for good is not (it is sent again only when asked).
        first, second, third = (row.pk for row in data[:3])
        EndpointRow.objects.filter(data_row_id=first).update(model_version="colour-components-0")
        EndpointRow.objects.filter(data_row_id=second).update(status="failed", error="boom", model_version="")
        _set_endpoint(api, project, None)
        _set_endpoint(api, project, str(endpoint.pk))
        after = _stamps(project)
        assert after[first] > before[first]
        assert after[second] == before[second] and after[third] == before[third]
        assert EndpointRow.objects.get(data_row_id=first).model_version == "colour-components-1"
        assert EndpointRow.objects.get(data_row_id=second).status == "failed"
        assert Prelabel.objects.filter(project=project).count() == prelabels  # updated, not duplicated

        # Rows that join later are still sent by the rows-joined listener.
        more = scene_rows(org_admin.organization, 2, start=10, prefix="backfill")
        project.refresh_from_db()
        add_batch(org_admin, project, more, name="b2")
        assert EndpointRow.objects.filter(project=project, status="answered").count() == len(data) + 1


def test_send_all_rows_again_through_the_api(served, settings, org_admin, client_for, make_user):
    with running_server(REFERENCE, "--instant") as url:
        settings.TDP_OUTBOUND_ALLOWED_HOSTS = [host_of(url)]
        endpoint, project, data = _world(org_admin, url)
        api = client_for(org_admin)
        _set_endpoint(api, project, str(endpoint.pk))
        run_predictions = Prediction.objects.filter(model_run__model=endpoint.model).count()
        EndpointRow.objects.filter(data_row_id=data[0].pk).delete()  # a row the endpoint has no state for
        before = _stamps(project)

        resend = f"/api/v1/projects/{project.id}/model_status/resend"
        assert api.post(resend, {"failed_only": True}, format="json").json() == {"resent": 0}
        assert _stamps(project) == before
        reviewer = make_user(role=OrgRole.LABELER, organization=org_admin.organization)
        labeling_services.project_member_set(actor=org_admin, project=project, user=reviewer, role=ProjectRole.REVIEWER)
        assert client_for(reviewer).post(resend, {"failed_only": False}, format="json").status_code == 403
        assert api.post(resend, {"failed_only": "sometimes"}, format="json").status_code == 400

        answer = api.post(resend, {"failed_only": False}, format="json")
        assert answer.status_code == 200 and answer.json() == {"resent": len(data)}
        after = _stamps(project)
        assert set(after) == {row.pk for row in data}
        assert all(after[key] > stamp for key, stamp in before.items())
        assert set(EndpointRow.objects.filter(project=project).values_list("status", flat=True)) == {"answered"}
        assert Prelabel.objects.filter(project=project).count() == len(data)
        assert Prediction.objects.filter(model_run__model=endpoint.model).count() == run_predictions


def test_send_all_rows_again_from_the_progress_view_asks_for_confirmation(
    served, settings, org_admin, client_for, make_user
):
    with running_server(REFERENCE, "--instant") as url:
        settings.TDP_OUTBOUND_ALLOWED_HOSTS = [host_of(url)]
        endpoint, project, _data = _world(org_admin, url, rows=2)
        _set_endpoint(client_for(org_admin), project, str(endpoint.pk))
        browser = Client()
        browser.force_login(org_admin)
        page = browser.get(f"/projects/{project.id}/prelabels/").content.decode()
        assert "Send all rows again" in page and "send all 2 row(s) again" in page
        before = _stamps(project)

        action = f"/projects/{project.id}/prelabels/resend"
        refused = browser.post(action, {"scope": "all"}, follow=True).content.decode()
        assert "Tick the box to confirm" in refused
        assert _stamps(project) == before

        done = browser.post(action, {"scope": "all", "confirm": "yes"}, follow=True).content.decode()
        assert "All 2 row(s) will be sent again" in done
        assert all(_stamps(project)[key] > stamp for key, stamp in before.items())

        # Who may see the figures but not manage the project sees no button and cannot post the action.
        reviewer = make_user(role=OrgRole.LABELER, organization=org_admin.organization)
        labeling_services.project_member_set(actor=org_admin, project=project, user=reviewer, role=ProjectRole.REVIEWER)
        other = Client()
        other.force_login(reviewer)
        page = other.get(f"/projects/{project.id}/prelabels/")
        assert page.status_code == 200 and "Send all rows again" not in page.content.decode()
        assert other.post(action, {"scope": "all", "confirm": "yes"}).status_code in (403, 404)
