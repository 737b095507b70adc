"""COCO ground truth into a project: good annotations stored as labels through the labeling service, bad ones
reported by index; the labeling service `label_import` on its own; a COCO export imports back unchanged."""

from __future__ import annotations

import pytest

from apps.core.errors import ValidationFailed
from apps.labeling import services
from apps.labeling.models import Label, Task, TaskState
from tests.exports.coco_reader import Coco


@pytest.fixture
def rows(project, org_admin, make_rows):
    rows = make_rows(3, prefix="gt")
    rows[1].external_id = "ext-1"
    rows[1].save(update_fields=["external_id"])
    services.batch_create(actor=org_admin, project=project, name="gt", data_row_ids=[str(r.id) for r in rows])
    return rows


def coco_body(annotations):
    return {
        "images": [
            {"id": 1, "file_name": "gt-0", "width": 640, "height": 480},
            {"id": 2, "file_name": "ext-1", "width": 640, "height": 480},
            {"id": 3, "file_name": "unknown.jpg", "width": 640, "height": 480},
        ],
        "categories": [{"id": 7, "name": "vehicle"}, {"id": 8, "name": "roof"}, {"id": 9, "name": "wheel"}],
        "annotations": annotations,
    }


GOOD_BOX = {"id": 1, "image_id": 1, "category_id": 7, "bbox": [10, 20, 30, 40], "attributes": {"kind": "police"}}
GOOD_POLYGON = {
    "id": 2,
    "image_id": 2,
    "category_id": 8,
    "segmentation": [[1, 1, 50, 1, 50, 40]],
    "bbox": [1, 1, 49, 39],
}


def post(client, project, body):
    return client.post(f"/api/v1/projects/{project.pk}/ground_truth/coco", body, format="json")


def test_good_and_bad_annotations(client_for, members, project, rows):
    bad = [
        {"id": 3, "image_id": 1, "category_id": 7, "bbox": [600, 20, 100, 40], "attributes": {"kind": "police"}},
        {"id": 4, "image_id": 1, "category_id": 99, "bbox": [1, 1, 2, 2]},
        {"id": 5, "image_id": 3, "category_id": 7, "bbox": [1, 1, 2, 2], "attributes": {"kind": "police"}},
        {"id": 6, "image_id": 2, "category_id": 9, "bbox": [1, 1, 2, 2]},
        {"id": 7, "image_id": 2, "category_id": 8, "segmentation": {"counts": "abc", "size": [480, 640]}},
        {"id": 8, "image_id": 1, "category_id": 7, "bbox": [1, 1, 2, 2]},  # required `kind` missing
        {"id": 9, "image_id": 1, "category_id": 7, "bbox": [1, "x", 2, 2]},
    ]
    response = post(client_for(members["team_manager"]), project, coco_body([GOOD_BOX, GOOD_POLYGON, *bad]))
    assert response.status_code == 200, response.content
    result = response.json()
    assert result["labels_created"] == 2 and result["annotations_imported"] == 2
    assert result["failed"] == len(bad)
    assert [e["index"] for e in result["errors"]] == [2, 3, 4, 5, 6, 7, 8]
    assert "outside the image" in result["errors"][0]["message"]
    assert "unknown.jpg" in result["errors"][2]["message"]
    assert "RLE" in result["errors"][4]["message"]
    box_label = Label.objects.get(data_row=rows[0], is_current=True)
    assert box_label.annotations[0]["bbox"] == {"left": 10, "top": 20, "width": 30, "height": 40}
    assert box_label.annotations[0]["classifications"][0]["answer"]["name"] == "police"
    assert Task.objects.get(data_row=rows[0]).state == TaskState.DONE
    polygon = Label.objects.get(data_row=rows[1], is_current=True).annotations[0]
    assert polygon["polygon"] == [{"x": 1, "y": 1}, {"x": 50, "y": 1}, {"x": 50, "y": 40}]


def test_not_a_coco_file_is_400(client_for, members, project, rows):
    response = post(client_for(members["team_manager"]), project, {"images": "nope"})
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_coco"


def test_permissions(client_for, api_client, members, project, rows, make_user, other_org):
    body = coco_body([GOOD_BOX])
    assert post(api_client, project, body).status_code == 401
    assert post(client_for(members["labeler"]), project, body).status_code == 403
    stranger = make_user(role="admin", organization=other_org, username="globex-gt")
    assert post(client_for(stranger), project, body).status_code == 404
    assert not Label.objects.exists()


def test_export_then_import_round_trip(
    client_for, members, project, org_admin, rows, project_factory, django_capture_on_commit_callbacks
):
    manager = client_for(members["team_manager"])
    assert post(manager, project, coco_body([GOOD_BOX, GOOD_POLYGON])).json()["labels_created"] == 2
    with django_capture_on_commit_callbacks(execute=True):
        started = manager.post(f"/api/v1/projects/{project.pk}/exports", {"format": "coco"}, format="json").json()
    url = manager.get(f"/api/v1/jobs/{started['job']}").json()["result"]["download_url"]
    exported = Coco(b"".join(manager.get(url).streaming_content))
    second = project_factory(name="Second")
    services.batch_create(actor=org_admin, project=second, name="gt", data_row_ids=[str(r.id) for r in rows])
    result = (
        client_for(org_admin)
        .post(f"/api/v1/projects/{second.pk}/ground_truth/coco", exported.dataset, format="json")
        .json()
    )
    assert result["failed"] == 0 and result["annotations_imported"] == 2
    for row in rows[:2]:
        first = Label.objects.get(project=project, data_row=row, is_current=True).annotations
        again = Label.objects.get(project=second, data_row=row, is_current=True).annotations
        assert again == first


def test_label_import_service(project, org_admin, rows, make_rows):
    label = services.label_import(
        actor=org_admin,
        project=project,
        data_row=rows[2],
        annotations=[{"name": "roof", "polygon": [{"x": 1, "y": 1}, {"x": 9, "y": 1}, {"x": 9, "y": 9}]}],
        source="test",
    )
    assert label.is_current and label.revision == 1 and label.labeler == org_admin
    again = services.label_import(actor=org_admin, project=project, data_row=rows[2], annotations=[], source="test")
    assert again.revision == 2 and again.previous_id == label.pk
    with pytest.raises(ValidationFailed):
        services.label_import(
            actor=org_admin, project=project, data_row=make_rows(1, prefix="out")[0], annotations=[], source="test"
        )


def test_unannotated_images_get_empty_done_labels_and_names_match_loosely(client_for, members, project, rows):
    """An image listed without annotations is a row with nothing on it: an empty `done` label (a run built on this
    ground truth keeps it). `file_name` matches a global key or external id, whole, without its directory, or
    without its extension; an unmatched image is reported with every key tried."""
    body = {
        "images": [
            {"id": 1, "file_name": "gt-0", "width": 640, "height": 480},
            {"id": 2, "file_name": "photos/ext-1.png", "width": 640, "height": 480},
            {"id": 3, "file_name": "C:\\data\\gt-2.jpg", "width": 640, "height": 480},
            {"id": 4, "file_name": "nope/missing.jpg", "width": 640, "height": 480},
        ],
        "categories": [{"id": 7, "name": "vehicle"}, {"id": 8, "name": "roof"}],
        "annotations": [GOOD_BOX, GOOD_POLYGON],
    }
    result = post(client_for(members["team_manager"]), project, body).json()
    assert result["failed"] == 0 and result["annotations_imported"] == 2
    assert result["labels_created"] == 3 and result["empty_labels_created"] == 1
    empty = Label.objects.get(data_row=rows[2], is_current=True)
    assert empty.annotations == [] and Task.objects.get(data_row=rows[2]).state == TaskState.DONE
    assert Label.objects.get(data_row=rows[1], is_current=True).annotations[0]["polygon"]
    assert result["images_unmatched"] == [
        {"image_id": 4, "file_name": "nope/missing.jpg", "keys_tried": ["nope/missing.jpg", "missing.jpg", "missing"]}
    ]


def test_unmatched_annotation_error_lists_the_keys_tried(client_for, members, project, rows):
    body = coco_body([{**GOOD_BOX, "image_id": 3}])
    body["images"][2]["file_name"] = "shots/unknown.jpg"
    error = post(client_for(members["team_manager"]), project, body).json()["errors"][0]
    assert "'shots/unknown.jpg' or 'unknown.jpg' or 'unknown'" in error["message"]


def test_coco_ground_truth_with_unannotated_images_feeds_a_model_run(client_for, members, project, rows, org_admin):
    from apps.diagnostics.ground_truth import ground_truth_snapshot
    from apps.predictions import services as prediction_services

    body = coco_body([GOOD_BOX])  # gt-0 annotated; ext-1 listed without annotations; unknown.jpg matches nothing
    assert post(client_for(members["team_manager"]), project, body).json()["empty_labels_created"] == 1
    model = prediction_services.model_create(actor=org_admin, name="det", ontology=project.ontology)
    run = prediction_services.model_run_create(actor=org_admin, model=model, name="v1")
    snapshot = ground_truth_snapshot(actor=org_admin, model_run=run, project=project)
    assert snapshot["rows"] == 2 and snapshot["rows_without_predictions"] == 2
