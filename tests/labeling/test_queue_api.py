"""Projects, batches, the queue and labels through the API."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.labeling.models import Annotation, Label, Task
from tests.labeling.conftest import good_label

pytestmark = pytest.mark.django_db


def test_project_create_with_settings_blocks(org_admin, ontology, client_for):
    response = client_for(org_admin).post(
        "/api/v1/projects",
        {
            "name": "Cars",
            "ontology": str(ontology.id),
            "media_type": "image",
            "instructions": "<b>box</b> them",
            "quality": {"consensus_coverage": 0.2, "consensus_labelers": 3, "benchmark_rate": 0.1},
            "review": {"sample_rate": 0.5},
            "routing": {"confidence_threshold": 0.4, "due_hours": 12},
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["ontology_version"] == 1
    assert body["quality"]["consensus_labelers"] == 3 and body["review"]["sample_rate"] == 0.5
    assert body["routing"] == {"confidence_threshold": 0.4, "due_hours": 12}


@pytest.mark.parametrize(
    "bad",
    [
        {"review": {"sample_rate": 2}},
        {"quality": {"consensus_labelers": "three"}},
        {"media_type": "audio"},  # video became a media type (#26)
        {"routing": {"due_hours": -1}},
    ],
)
def test_project_create_rejects_bad_settings(org_admin, ontology, client_for, bad):
    response = client_for(org_admin).post(
        "/api/v1/projects", {"name": "Bad", "ontology": str(ontology.id), **bad}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["details"]


def test_labeler_cannot_create_projects_and_other_org_ontology_is_404(
    ontology, client_for, members, other_org, superuser
):
    response = client_for(members["labeler"]).post(
        "/api/v1/projects", {"name": "Mine", "ontology": str(ontology.id)}, format="json"
    )
    assert response.status_code == 403
    from apps.accounts.models import User

    globex_admin = User.objects.get(organization=other_org, role="admin")
    response = client_for(globex_admin).post(
        "/api/v1/projects", {"name": "Steal", "ontology": str(ontology.id)}, format="json"
    )
    assert response.status_code == 404


def test_batches_by_ids_and_global_keys_report_duplicates_and_unknowns(project, org_admin, client_for, make_rows):
    rows = make_rows(5)
    client = client_for(org_admin)
    first = client.post(
        f"/api/v1/projects/{project.id}/batches",
        {"name": "b1", "data_rows": [str(r.id) for r in rows[:3]], "priority": 4},
        format="json",
    )
    assert first.status_code == 201, first.content
    assert first.json()["added"] == 3
    second = client.post(
        f"/api/v1/projects/{project.id}/batches",
        {"name": "b2", "global_keys": ["img-2", "img-3", "img-4", "nope"], "priority": 2},
        format="json",
    )
    body = second.json()
    assert body["added"] == 2 and body["already_in_project"] == ["img-2"] and body["not_found"] == ["nope"]
    assert Task.objects.filter(project=project).count() == 5
    assert (
        client.post(
            f"/api/v1/projects/{project.id}/batches",
            {"name": "b3", "global_keys": ["img-1"], "priority": 9},
            format="json",
        ).status_code
        == 400
    )
    assert (
        client.post(
            f"/api/v1/projects/{project.id}/batches", {"name": "b1", "global_keys": ["img-1"]}, format="json"
        ).status_code
        == 409
    )


def test_rows_of_another_organization_cannot_be_batched(project, org_admin, client_for, make_rows, other_org):
    foreign = make_rows(2, prefix="foreign", organization=other_org)
    response = client_for(org_admin).post(
        f"/api/v1/projects/{project.id}/batches",
        {"name": "x", "data_rows": [str(r.id) for r in foreign]},
        format="json",
    )
    assert response.json()["added"] == 0 and len(response.json()["not_found"]) == 2


def add_batch(project, org_admin, rows, name="b", priority=3):
    from apps.labeling import services

    return services.batch_create(
        actor=org_admin, project=project, name=name, data_row_ids=[str(r.id) for r in rows], priority=priority
    )


def test_claim_resumes_own_lease_then_serves_higher_priority_first(project, members, org_admin, make_rows, client_for):
    low = make_rows(2, prefix="low")
    high = make_rows(1, prefix="high")
    add_batch(project, org_admin, low, "low", priority=1)
    add_batch(project, org_admin, high, "high", priority=5)
    labeler = client_for(members["labeler"])
    first = labeler.post(f"/api/v1/projects/{project.id}/queue/next")
    assert first.status_code == 200
    assert first.json()["data_row"]["global_key"] == "high-0"
    assert first.json()["kind"] == "label"
    again = labeler.post(f"/api/v1/projects/{project.id}/queue/next")
    assert again.json()["task"] == first.json()["task"]
    other = client_for(members["expert"]).post(f"/api/v1/projects/{project.id}/queue/next")
    assert other.json()["task"] != first.json()["task"]


def test_submit_stores_label_and_annotation_rows_and_finishes_the_task(
    project, members, org_admin, make_rows, client_for
):
    add_batch(project, org_admin, make_rows(1))
    client = client_for(members["labeler"])
    claim = client.post(f"/api/v1/projects/{project.id}/queue/next").json()
    response = client.post(
        f"/api/v1/tasks/{claim['task']}/labels", {"annotations": good_label(), "seconds_spent": 12.5}, format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "done" and body["revision"] == 1 and body["seconds_spent"] == 12.5
    assert body["annotations"][0]["bbox"] == {"top": 10, "left": 20, "height": 50, "width": 80}
    assert body["annotations"][0]["schema_id"]
    label = Label.objects.get(pk=body["id"])
    kinds = sorted(Annotation.objects.filter(label=label).values_list("name", "kind"))
    assert kinds == [("kind", "radio"), ("lights_on", "radio"), ("vehicle", "bbox"), ("weather", "radio")]
    box = Annotation.objects.get(label=label, kind="bbox")
    assert (box.x, box.y, box.width, box.height) == (20, 10, 80, 50)
    assert Annotation.objects.get(label=label, name="lights_on").parent.name == "kind"
    assert label.server_seconds is not None and label.server_seconds >= 0
    assert client.post(f"/api/v1/projects/{project.id}/queue/next").status_code == 204


def test_sampled_labels_go_to_review(project_factory, org_admin, members, make_rows, client_for):
    project = project_factory(name="Reviewed", review={"sample_rate": 1.0})
    from apps.labeling import services

    services.project_member_set(actor=org_admin, project=project, user=members["labeler"], role="labeler")
    add_batch(project, org_admin, make_rows(1))
    client = client_for(members["labeler"])
    task = client.post(f"/api/v1/projects/{project.id}/queue/next").json()["task"]
    body = client.post(f"/api/v1/tasks/{task}/labels", {"annotations": good_label()}, format="json").json()
    assert body["status"] == "in_review"
    overview = client_for(org_admin).get(f"/api/v1/projects/{project.id}/overview").json()
    assert overview == {
        "to_label": 0,
        "in_progress": 0,
        "in_review": 1,
        "in_rework": 0,
        "done": 0,
        "skipped": 0,
        "awaiting_consensus": 0,
        "open_issues": 0,
        "overdue_expert_tasks": 0,
        "rows": {"total": 1, "done": 0, "open": 1},
    }


def test_invalid_label_is_400_with_paths_and_stores_nothing(project, members, org_admin, make_rows, client_for):
    add_batch(project, org_admin, make_rows(1))
    client = client_for(members["labeler"])
    task = client.post(f"/api/v1/projects/{project.id}/queue/next").json()["task"]
    bad = [
        {
            "name": "vehicle",
            "bbox": {"top": 10, "left": 20, "height": 50, "width": 9999},
            "classifications": [{"name": "kind", "answer": {"name": "police"}}],
        },
        {"name": "unicorn", "point": {"x": 1, "y": 1}},
    ]
    response = client.post(f"/api/v1/tasks/{task}/labels", {"annotations": bad}, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_annotations"
    paths = [e["path"] for e in error["details"]["annotations"]]
    assert any(p.startswith("annotations[0].bbox") for p in paths) and any(
        p.startswith("annotations[1]") for p in paths
    )
    assert not Label.objects.exists()
    assert Task.objects.get(pk=task).state == "in_progress"
    missing_required = [{"name": "vehicle", "bbox": {"top": 1, "left": 1, "height": 5, "width": 5}}]
    response = client.post(f"/api/v1/tasks/{task}/labels", {"annotations": missing_required}, format="json")
    assert response.status_code == 400


def test_retry_with_idempotency_key_returns_the_first_label(project, members, org_admin, make_rows, client_for):
    add_batch(project, org_admin, make_rows(1))
    client = client_for(members["labeler"])
    task = client.post(f"/api/v1/projects/{project.id}/queue/next").json()["task"]
    first = client.post(
        f"/api/v1/tasks/{task}/labels", {"annotations": good_label()}, format="json", HTTP_IDEMPOTENCY_KEY="submit-1"
    )
    retry = client.post(
        f"/api/v1/tasks/{task}/labels", {"annotations": good_label()}, format="json", HTTP_IDEMPOTENCY_KEY="submit-1"
    )
    assert first.status_code == retry.status_code == 201
    assert first.json()["id"] == retry.json()["id"]
    assert Label.objects.count() == 1
    plain_retry = client.post(f"/api/v1/tasks/{task}/labels", {"annotations": good_label()}, format="json")
    assert plain_retry.status_code == 409


def test_expired_lease_is_reclaimed_and_the_late_submit_is_409(project, members, org_admin, make_rows, client_for):
    add_batch(project, org_admin, make_rows(1))
    first, second = client_for(members["labeler"]), client_for(members["expert"])
    task = first.post(f"/api/v1/projects/{project.id}/queue/next").json()["task"]
    assert second.post(f"/api/v1/projects/{project.id}/queue/next").status_code == 204
    Task.objects.filter(pk=task).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    taken = second.post(f"/api/v1/projects/{project.id}/queue/next").json()
    assert taken["task"] == task
    late = first.post(f"/api/v1/tasks/{task}/labels", {"annotations": good_label()}, format="json")
    assert late.status_code == 409
    assert late.json()["error"]["code"] == "lease_lost"
    ok = second.post(f"/api/v1/tasks/{task}/labels", {"annotations": good_label()}, format="json")
    assert ok.status_code == 201
    assert Label.objects.get().labeler == members["expert"]


def test_consensus_slots_go_to_distinct_labelers(project_factory, org_admin, members, make_rows, client_for):
    from apps.labeling import services

    project = project_factory(
        name="Consensus", quality={"consensus_coverage": 1.0, "consensus_labelers": 2}, review={"sample_rate": 0.0}
    )
    for role in ("labeler", "expert"):
        services.project_member_set(actor=org_admin, project=project, user=members[role], role="labeler")
    add_batch(project, org_admin, make_rows(1))
    assert Task.objects.filter(project=project).count() == 2
    a = client_for(members["labeler"])
    claim = a.post(f"/api/v1/projects/{project.id}/queue/next").json()
    assert claim["kind"] == "consensus"
    a.post(f"/api/v1/tasks/{claim['task']}/labels", {"annotations": good_label()}, format="json")
    assert a.post(f"/api/v1/projects/{project.id}/queue/next").status_code == 204
    b = client_for(members["expert"]).post(f"/api/v1/projects/{project.id}/queue/next")
    assert b.status_code == 200 and b.json()["task"] != claim["task"]


def test_skip_needs_a_reason(project, members, org_admin, make_rows, client_for):
    add_batch(project, org_admin, make_rows(1))
    client = client_for(members["labeler"])
    task = client.post(f"/api/v1/projects/{project.id}/queue/next").json()["task"]
    assert client.post(f"/api/v1/tasks/{task}/skip", {"reason": ""}, format="json").status_code == 400
    response = client.post(f"/api/v1/tasks/{task}/skip", {"reason": "image is blank"}, format="json")
    assert response.json() == {"task": task, "state": "skipped"}
    assert client.post(f"/api/v1/projects/{project.id}/queue/next").status_code == 204


def test_edit_before_review_keeps_history(project_factory, org_admin, members, make_rows, client_for):
    from apps.labeling import services

    project = project_factory(name="Edits", review={"sample_rate": 1.0})
    services.project_member_set(actor=org_admin, project=project, user=members["labeler"], role="labeler")
    add_batch(project, org_admin, make_rows(1))
    client = client_for(members["labeler"])
    task = client.post(f"/api/v1/projects/{project.id}/queue/next").json()["task"]
    first = client.post(f"/api/v1/tasks/{task}/labels", {"annotations": good_label()}, format="json").json()
    edited = good_label()
    edited[1]["answer"] = {"name": "rain"}
    second = client.patch(f"/api/v1/labels/{first['id']}", {"annotations": edited}, format="json")
    assert second.status_code == 200, second.content
    assert second.json()["revision"] == 2
    detail = client.get(f"/api/v1/labels/{second.json()['id']}").json()
    assert [h["revision"] for h in detail["history"]] == [1, 2]
    assert client.patch(f"/api/v1/labels/{first['id']}", {"annotations": edited}, format="json").status_code == 409
    other = client_for(members["expert"]).patch(
        f"/api/v1/labels/{second.json()['id']}", {"annotations": edited}, format="json"
    )
    assert other.status_code in (403, 404)


def test_editing_a_done_label_is_409_not_500(project, members, org_admin, make_rows, client_for):
    add_batch(project, org_admin, make_rows(1))  # `project` needs no review: the submit finishes the task
    client = client_for(members["labeler"])
    task = client.post(f"/api/v1/projects/{project.id}/queue/next").json()["task"]
    label = client.post(f"/api/v1/tasks/{task}/labels", {"annotations": good_label()}, format="json").json()
    response = client.patch(f"/api/v1/labels/{label['id']}", {"annotations": good_label()}, format="json")
    assert response.status_code == 409, response.content
    assert response.json()["error"]["code"] == "invalid_state"
    assert Label.objects.filter(task_id=task).count() == 1


def test_feature_annotations_and_removal_409(project, members, org_admin, make_rows, client_for, ontology):
    add_batch(project, org_admin, make_rows(1))
    client = client_for(members["labeler"])
    task = client.post(f"/api/v1/projects/{project.id}/queue/next").json()["task"]
    label = client.post(f"/api/v1/tasks/{task}/labels", {"annotations": good_label()}, format="json").json()
    schema_id = label["annotations"][0]["schema_id"]
    page = client_for(org_admin).get(f"/api/v1/features/{schema_id}/annotations").json()
    assert [a["label"] for a in page["results"]] == [label["id"]]
    tree = client_for(org_admin).get(f"/api/v1/ontologies/{ontology.id}").json()
    tree["tools"] = [t for t in tree["tools"] if t["name"] != "vehicle"]
    response = client_for(org_admin).put(
        f"/api/v1/ontologies/{ontology.id}",
        {"name": tree["name"], "tools": tree["tools"], "classifications": tree["classifications"]},
        format="json",
    )
    assert response.status_code == 409
    assert response.json()["error"]["message"].startswith("1 label(s)")


def test_visibility_of_projects_and_labels(project, members, org_admin, make_rows, client_for, other_org):
    from apps.accounts.models import User

    add_batch(project, org_admin, make_rows(1))
    client = client_for(members["labeler"])
    task = client.post(f"/api/v1/projects/{project.id}/queue/next").json()["task"]
    label = client.post(f"/api/v1/tasks/{task}/labels", {"annotations": good_label()}, format="json").json()
    outsider = client_for(members["outsider"])
    assert outsider.get(f"/api/v1/projects/{project.id}").status_code == 404
    assert str(project.id) not in {p["id"] for p in outsider.get("/api/v1/projects").json()["results"]}
    assert outsider.get(f"/api/v1/labels/{label['id']}").status_code == 404
    assert client.get(f"/api/v1/labels/{label['id']}").status_code == 200
    assert client_for(members["reviewer"]).get(f"/api/v1/labels/{label['id']}").status_code == 200
    assert client_for(members["expert"]).get(f"/api/v1/labels/{label['id']}").status_code == 403
    globex = client_for(User.objects.get(organization=other_org, role="admin"))
    for url in (f"/api/v1/projects/{project.id}", f"/api/v1/labels/{label['id']}", f"/api/v1/tasks/{task}/skip"):
        response = globex.get(url) if "skip" not in url else globex.post(url, {"reason": "x"}, format="json")
        assert response.status_code == 404, url
    listed = client_for(members["reviewer"]).get(f"/api/v1/projects/{project.id}/labels?status=done").json()
    assert [item["id"] for item in listed["results"]] == [label["id"]]
    own = client_for(members["expert"]).get(f"/api/v1/projects/{project.id}/labels").json()
    assert own["results"] == []


def test_ontology_upgrade_is_explicit_and_reports_changes(project, org_admin, client_for, ontology):
    client = client_for(org_admin)
    tree = client.get(f"/api/v1/ontologies/{ontology.id}").json()
    tree["classifications"].append({"name": "time_of_day", "type": "text"})
    assert (
        client.put(
            f"/api/v1/ontologies/{ontology.id}",
            {"name": tree["name"], "tools": tree["tools"], "classifications": tree["classifications"]},
            format="json",
        ).status_code
        == 200
    )
    assert client.get(f"/api/v1/projects/{project.id}").json()["ontology_version"] == 1
    dry = client.post(f"/api/v1/projects/{project.id}/ontology/upgrade", {"dry_run": True}, format="json").json()
    assert dry["applied"] is False and dry["ontology_version"] == 1 and dry["changes"]
    done = client.post(f"/api/v1/projects/{project.id}/ontology/upgrade", {}, format="json").json()
    assert done["applied"] is True and done["ontology_version"] == 2
    assert client.post(f"/api/v1/projects/{project.id}/ontology/upgrade", {}, format="json").status_code == 409


def test_expired_leases_are_released_by_the_scheduled_task(project, members, org_admin, make_rows, client_for):
    from django_q.models import Schedule

    from apps.labeling.tasks import release_expired_leases

    assert Schedule.objects.filter(func="apps.labeling.tasks.release_expired_leases").exists()
    add_batch(project, org_admin, make_rows(2))
    client = client_for(members["labeler"])
    task = client.post(f"/api/v1/projects/{project.id}/queue/next").json()["task"]
    assert release_expired_leases() == 0
    Task.objects.filter(pk=task).update(lease_expires_at=timezone.now() - timedelta(minutes=1))
    assert release_expired_leases() == 1
    released = Task.objects.get(pk=task)
    assert released.state == "to_label" and released.assignee is None


def test_overview_counts_rows_besides_tasks(project_factory, org_admin, members, make_rows, client_for, make_user, org):
    """Two consensus rows of three slots: six tasks, two rows. A row is done when all its slots are."""
    from apps.labeling import services

    project = project_factory(
        name="Triple", review={"sample_rate": 0.0}, quality={"consensus_coverage": 1.0, "consensus_labelers": 3}
    )
    labelers = [members["labeler"], *(make_user(organization=org, username=f"triple-{i}") for i in range(2))]
    for user in labelers:
        services.project_member_set(actor=org_admin, project=project, user=user, role="labeler")
    add_batch(project, org_admin, make_rows(2))
    overview = client_for(org_admin).get(f"/api/v1/projects/{project.id}/overview").json()
    assert overview["to_label"] == 6 and overview["rows"] == {"total": 2, "done": 0, "open": 2}
    for user in labelers:
        client = client_for(user)
        task = client.post(f"/api/v1/projects/{project.id}/queue/next").json()["task"]
        assert (
            client.post(f"/api/v1/tasks/{task}/labels", {"annotations": good_label()}, format="json").status_code == 201
        )
    overview = client_for(org_admin).get(f"/api/v1/projects/{project.id}/overview").json()
    assert overview["done"] == 3 and overview["rows"] == {"total": 2, "done": 1, "open": 1}
    client = client_for(org_admin)
    client.force_login(org_admin)
    page = client.get(f"/projects/{project.id}/").content.decode()
    assert "<strong>1</strong> of <strong>2</strong> data rows done" in page
