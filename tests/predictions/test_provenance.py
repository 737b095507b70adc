"""Pre-labels in the claim body, provenance decided on the server at submit, and the figures (API)."""

from __future__ import annotations

import pytest
from django.test import Client

from apps.labeling.models import Label
from apps.predictions.models import AnnotationProvenance, LabelAssist
from tests.predictions.conftest import add_batch, box, ndjson

pytestmark = pytest.mark.django_db

A = "aaaaaaaa-0000-4000-8000-000000000001"
B = "bbbbbbbb-0000-4000-8000-000000000002"
C = "cccccccc-0000-4000-8000-000000000003"
OTHER_ROW = "dddddddd-0000-4000-8000-000000000004"


def _prelabel(project, rows, org_admin, post_ndjson):
    body = ndjson(
        [
            box("img-0", left=10, confidence=0.9, uuid=A),
            box("img-0", left=100, confidence=0.4, uuid=B),
            box("img-0", left=200, confidence=0.7, uuid=C),
            box("img-1", left=10, confidence=0.8, uuid=OTHER_ROW),
        ]
    )
    result = post_ndjson(org_admin, f"/api/v1/projects/{project.id}/prelabels", body).json()
    assert result["created"] == 4, result


def _claim_row(client, project, key):
    """Claim until the task of row `key` comes up (rows are served oldest first: img-0 first)."""
    body = client.post(f"/api/v1/projects/{project.id}/queue/next").json()
    assert body["data_row"]["global_key"] == key
    return body


def test_claim_body_has_the_prelabels_and_submit_records_provenance(
    project, rows, members, org_admin, post_ndjson, client_for
):
    _prelabel(project, rows, org_admin, post_ndjson)
    client = client_for(members["labeler"])
    claim = _claim_row(client, project, "img-0")
    prelabels = claim["prelabels"]
    assert [p["prelabel"] for p in prelabels] == [A, B, C]
    assert [p["confidence"] for p in prelabels] == [0.9, 0.4, 0.7]
    assert "tool" not in prelabels[0] and prelabels[0]["bbox"]["left"] == 10
    first, second, _ = prelabels
    moved = {**second, "bbox": {**second["bbox"], "left": 101}}
    drawn = {k: v for k, v in box("img-0", left=300).items() if k != "data_row"}
    forged = {**drawn, "bbox": {**drawn["bbox"], "left": 400}, "prelabel": OTHER_ROW}
    annotations = [first, moved, drawn, forged]  # C is not sent back: rejected
    response = client.post(
        f"/api/v1/tasks/{claim['task']}/labels", {"annotations": annotations, "seconds_spent": 12}, format="json"
    )
    assert response.status_code == 201, response.content
    label = Label.objects.get(pk=response.json()["id"])
    assert all("prelabel" not in a for a in label.annotations)
    outcomes = [
        (p.index, str(p.prelabel_uuid) if p.prelabel_uuid else None, p.outcome)
        for p in AnnotationProvenance.objects.filter(label=label).order_by("id")
    ]
    assert outcomes == [
        (0, A, "accepted"),
        (1, B, "modified"),
        (2, None, "added"),
        (3, None, "added"),
        (None, C, "rejected"),
    ]
    assert LabelAssist.objects.get(label=label).had_prelabels is True
    shown = client_for(org_admin).get(f"/api/v1/labels/{label.id}/provenance").json()
    assert [a["outcome"] for a in shown["annotations"]] == ["accepted", "modified", "added", "added", "rejected"]


def test_a_tampered_prelabel_counts_as_modified(project, rows, members, org_admin, post_ndjson, client_for):
    _prelabel(project, rows, org_admin, post_ndjson)
    client = client_for(members["labeler"])
    claim = _claim_row(client, project, "img-0")
    first = claim["prelabels"][0]
    changed_answer = {**first, "classifications": [{"name": "kind", "answer": {"name": "ambulance"}}]}
    response = client.post(f"/api/v1/tasks/{claim['task']}/labels", {"annotations": [changed_answer]}, format="json")
    assert response.status_code == 201, response.content
    outcomes = sorted(
        AnnotationProvenance.objects.filter(label_id=response.json()["id"]).values_list("outcome", flat=True)
    )
    assert outcomes == ["modified", "rejected", "rejected"]


def test_stats_per_feature_and_seconds_with_vs_without(
    project, rows, members, org_admin, post_ndjson, client_for, make_rows
):
    _prelabel(project, rows, org_admin, post_ndjson)
    client = client_for(members["labeler"])
    claim = _claim_row(client, project, "img-0")
    first, second, _ = claim["prelabels"]
    client.post(
        f"/api/v1/tasks/{claim['task']}/labels", {"annotations": [first, second], "seconds_spent": 10}, format="json"
    )
    claim = _claim_row(client, project, "img-1")  # its one pre-label is accepted
    client.post(
        f"/api/v1/tasks/{claim['task']}/labels", {"annotations": claim["prelabels"], "seconds_spent": 20}, format="json"
    )
    for key, seconds in (("img-2", 40), ("img-3", 60)):  # no pre-labels
        claim = _claim_row(client, project, key)
        assert claim["prelabels"] == []
        drawn = {k: v for k, v in box(key).items() if k != "data_row"}
        client.post(
            f"/api/v1/tasks/{claim['task']}/labels", {"annotations": [drawn], "seconds_spent": seconds}, format="json"
        )
    stats = client_for(members["team_manager"]).get(f"/api/v1/projects/{project.id}/prelabels/stats").json()
    [vehicle] = stats["features"]
    assert (vehicle["name"], vehicle["accepted"], vehicle["modified"], vehicle["rejected"], vehicle["added"]) == (
        "vehicle",
        3,
        0,
        1,
        2,
    )
    assert vehicle["prelabels"] == 4
    assert vehicle["accepted_share"] == 0.75 and vehicle["rejected_share"] == 0.25
    assert stats["seconds"]["with_prelabels"] == {"mean": 15.0, "labels": 2}
    assert stats["seconds"]["without_prelabels"] == {"mean": 50.0, "labels": 2}
    assert stats["seconds"]["saving"] == 0.7
    page = Client()
    page.force_login(members["team_manager"])
    html = page.get(f"/projects/{project.id}/prelabels/").content.decode()
    assert "Pre-labels · Vehicles" in html and "75%" in html
    project_page = page.get(f"/projects/{project.id}/").content.decode()
    assert f"/projects/{project.id}/prelabels/" in project_page


def test_rework_revisions_are_not_counted(project, rows, members, org_admin, post_ndjson, client_for):
    project.settings["review"] = {"sample_rate": 1.0}  # labels wait in review, where the labeler may still edit
    project.save(update_fields=["settings"])
    _prelabel(project, rows, org_admin, post_ndjson)
    client = client_for(members["labeler"])
    claim = _claim_row(client, project, "img-0")
    label = client.post(f"/api/v1/tasks/{claim['task']}/labels", {"annotations": claim["prelabels"]}, format="json")
    edited = client.patch(
        f"/api/v1/labels/{label.json()['id']}", {"annotations": claim["prelabels"][:1]}, format="json"
    )
    assert edited.status_code == 200, edited.content  # the `prelabel` keys are stripped on edits too
    assert not AnnotationProvenance.objects.filter(label_id=edited.json()["id"]).exists()
    assert LabelAssist.objects.count() == 1


def test_rows_added_later_have_no_prelabels(project, rows, members, org_admin, client_for, make_rows):
    more = make_rows(1, prefix="late")
    add_batch(project, org_admin, more, name="late")
    assert client_for(members["labeler"]).post(f"/api/v1/projects/{project.id}/queue/next").json()["prelabels"] == []
