"""The NDJSON export: content and lineage, filters, label selection, the stream endpoint and its query count."""

from __future__ import annotations

import jsonschema
import pytest

from apps.exports import registry
from apps.exports.domain.schema import NDJSON_LINE_SCHEMA
from apps.labeling import services
from tests.exports.conftest import parse_ndjson


@pytest.fixture
def manager_client(members, client_for):
    return client_for(members["team_manager"])


def stream(client, project, query: str = ""):
    response = client.get(f"/api/v1/projects/{project.pk}/export.ndjson{query}")
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/x-ndjson"
    return parse_ndjson(b"".join(response.streaming_content))


def by_key(lines):
    return {line["data_row"]["global_key"]: line for line in lines}


def test_every_row_once_with_full_lineage(manager_client, project, lineage):
    lines = stream(manager_client, project)
    assert len(lines) == 5
    ids = [line["data_row"]["id"] for line in lines]
    assert ids == sorted(ids) and len(set(ids)) == 5
    validator = jsonschema.Draft202012Validator(NDJSON_LINE_SCHEMA)
    for line in lines:
        validator.validate(line)
    approved = lineage["approved"]
    line = next(line for line in lines if line["data_row"]["id"] == str(approved.data_row_id))
    assert line["workflow"]["state"] == "done"
    assert line["workflow"]["batch"]["name"] == approved.task.batch.name
    assert line["project"]["ontology"]["version"] == project.ontology_version.number
    assert line["data_row"]["width"] == 640 and line["data_row"]["dataset"]["name"] == approved.data_row.dataset.name
    (label,) = line["labels"]
    assert label["id"] == str(approved.pk) and label["revision"] == 2
    assert label["labeler"]["username"] == lineage["labeler"].username
    assert [h["revision"] for h in label["history"]] == [1, 2]
    assert [r["decision"] for r in label["reviews"]] == ["reject", "approve"]
    assert label["reviews"][0]["feedback"] == "Box too <loose> & late"
    assert label["seconds"] == {"create": 12.0, "review": 3.0, "rework": 5.0}
    (annotation,) = label["annotations"]
    assert annotation["bbox"] == {"top": 10, "left": 22, "height": 50, "width": 80}
    assert annotation["schema_id"] and annotation["classifications"][0]["answer"]["schema_id"]
    in_review = next(line for line in lines if line["data_row"]["id"] == str(lineage["in_review"].data_row_id))
    assert in_review["workflow"]["state"] == "in_review"
    (issue,) = in_review["issues"]
    assert issue["text"] == "Is this a car?" and issue["comments"][0]["text"] == "Yes, a small one."
    untouched = [line for line in lines if line["workflow"]["state"] == "to_label"]
    assert len(untouched) == 3 and all(line["labels"] == [] and line["issues"] == [] for line in untouched)


def test_label_selection_approved_only(manager_client, project, lineage):
    lines = by_key(stream(manager_client, project, "?label=approved"))
    assert len(lines) == 5
    exported = [label["id"] for line in lines.values() for label in line["labels"]]
    assert exported == [str(lineage["approved"].pk)]
    everything = stream(manager_client, project, "?label=all")
    assert len([label for line in everything for label in line["labels"]]) == 2


def test_consensus_winner_falls_back_to_approved_then_uses_the_quality_winner(manager_client, project, lineage):
    lines = stream(manager_client, project, "?label=consensus_winner")
    assert [label["id"] for line in lines for label in line["labels"]] == [str(lineage["approved"].pk)]
    winner = lineage["in_review"]
    from django.utils import timezone

    from apps.quality.models import BenchmarkReference, ConsensusScore

    ConsensusScore.objects.create(
        project=project,
        data_row_id=winner.data_row_id,
        score=0.75,
        winner=winner,
        label_count=1,
        labels=[{"label": str(winner.pk), "labeler": str(winner.labeler_id), "agreement": 0.75}],
        computed_at=timezone.now(),
    )
    BenchmarkReference.objects.create(project=project, data_row_id=winner.data_row_id, label=winner)
    lines = stream(manager_client, project, "?label=consensus_winner")
    assert sorted(label["id"] for line in lines for label in line["labels"]) == sorted(
        [str(winner.pk), str(lineage["approved"].pk)]
    )
    line = next(line for line in lines if line["data_row"]["id"] == str(winner.data_row_id))
    assert line["quality"]["consensus"]["score"] == 0.75 and line["quality"]["consensus"]["winner"] == str(winner.pk)
    assert line["quality"]["benchmark_references"] == [str(winner.pk)]
    assert all(other["quality"] is None for other in lines if other is not line)


def test_filters(manager_client, project, lineage, members, org_admin):
    approved = lineage["approved"]
    keys = lambda lines: sorted(line["data_row"]["global_key"] for line in lines)  # noqa: E731
    assert keys(stream(manager_client, project, "?state=done")) == [approved.data_row.global_key]
    assert len(stream(manager_client, project, "?state=done,in_review")) == 2
    b2 = project.batches.get(name="b2")
    assert keys(stream(manager_client, project, f"?batch={b2.pk}")) == ["b2-0"]
    assert len(stream(manager_client, project, f"?labeler={lineage['labeler'].pk}")) == 2
    assert stream(manager_client, project, f"?labeler={members['expert'].pk}") == []
    assert keys(stream(manager_client, project, "?global_keys=b1-1&global_keys=b2-0")) == ["b1-1", "b2-0"]
    later = approved.created_at.isoformat().replace("+00:00", "Z")
    lines = stream(manager_client, project, f"?label_created_from={later}")
    assert [label["id"] for line in lines for label in line["labels"]] == [str(approved.pk)]
    assert len(stream(manager_client, project, f"?label_created_to={later}")) == 1


def test_metadata_filter(manager_client, project, lineage, org_admin):
    from apps.datasets.models import DataRow, MetadataField

    MetadataField.objects.create(organization=project.organization, name="split", kind="string")
    DataRow.objects.filter(global_key="b1-2").update(metadata={"split": "train"})
    lines = stream(manager_client, project, "?metadata.split=train")
    assert [line["data_row"]["global_key"] for line in lines] == ["b1-2"]
    assert lines[0]["data_row"]["metadata"] == {"split": "train"}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("?colour=red", "colour"),
        ("?state=finished", "state"),
        ("?batch=nope", "batch"),
        ("?label=best", "label"),
        ("?label_created_from=yesterday", "label_created_from"),
        ("?label_created_from=2026-01-01T00:00:00", "label_created_from"),
        ("?metadata.unknown_field=1", "metadata.unknown_field"),
    ],
)
def test_bad_filters_are_400_with_details(manager_client, project, lineage, query, field):
    response = manager_client.get(f"/api/v1/projects/{project.pk}/export.ndjson{query}")
    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["details"]


def test_registered_section_appears_and_is_loaded_once_per_page(manager_client, project, lineage, monkeypatch):
    calls = []

    def load(p, ids):
        calls.append(list(ids))
        return {ids[0]: {"score": 0.5}}

    registry.register_row_section("extra", load)
    try:
        monkeypatch.setattr("apps.exports.apis.ProjectExportStreamApi.page_size", 2)
        lines = stream(manager_client, project)
    finally:
        registry.unregister_row_section("extra")
    assert [len(c) for c in calls] == [2, 2, 1]
    assert lines[0]["extra"] == {"score": 0.5} and lines[1]["extra"] is None


captured_queries: list = []


def _query_count(client, project, django_assert_max_num_queries, limit):
    with django_assert_max_num_queries(limit) as captured:
        response = client.get(f"/api/v1/projects/{project.pk}/export.ndjson")
        body = b"".join(response.streaming_content)
    captured_queries[:] = captured.captured_queries
    return len(captured.captured_queries), body.count(b"\n")


def _label_rows(project, members, org_admin, make_rows, n, prefix):
    rows = make_rows(n, prefix=prefix)
    services.batch_create(actor=org_admin, project=project, name=prefix, data_row_ids=[str(r.id) for r in rows])
    for _ in range(n):
        task = services.queue_claim(actor=members["labeler"], project=project)
        services.label_submit(
            actor=members["labeler"],
            task=task,
            annotations=[
                {
                    "name": "vehicle",
                    "bbox": {"top": 1, "left": 1, "height": 5, "width": 5},
                    "classifications": [{"name": "kind", "answer": {"name": "police"}}],
                }
            ],
        )


def test_query_count_does_not_grow_with_rows(
    manager_client, project, members, org_admin, make_rows, monkeypatch, django_assert_max_num_queries
):
    monkeypatch.setattr("apps.exports.apis.ProjectExportStreamApi.page_size", 50)
    _label_rows(project, members, org_admin, make_rows, 10, "few")
    _query_count(manager_client, project, django_assert_max_num_queries, 30)  # warm up (token last-use stamp)
    small, lines = _query_count(manager_client, project, django_assert_max_num_queries, 30)
    assert lines == 10
    _label_rows(project, members, org_admin, make_rows, 20, "more")
    large, lines = _query_count(manager_client, project, django_assert_max_num_queries, 30)
    assert lines == 30 and large == small, "\n".join(q["sql"][:150] for q in captured_queries)
    # With pages of 10 rows, 30 rows cost three pages: the per-page cost is fixed, not per row.
    monkeypatch.setattr("apps.exports.apis.ProjectExportStreamApi.page_size", 10)
    paged, lines = _query_count(manager_client, project, django_assert_max_num_queries, 60)
    assert lines == 30
    # rows, attachments, tasks, labels, reviews, issues (+ comments when there are issues), consensus, label ids,
    # benchmark references
    page_cost = 10
    assert small < paged <= small + 3 * page_cost, (small, paged)


def test_permissions(client_for, api_client, members, project, lineage, make_user, other_org):
    url = f"/api/v1/projects/{project.pk}/export.ndjson"
    assert api_client.get(url).status_code == 401
    for role in ("labeler", "expert"):
        assert client_for(members[role]).get(url).status_code == 403, role
    assert client_for(members["outsider"]).get(url).status_code == 404
    stranger = make_user(role="admin", organization=other_org, username="globex-boss")
    assert client_for(stranger).get(url).status_code == 404
    for role in ("admin", "team_manager", "reviewer"):  # the roles with `view_project_work`
        assert client_for(members[role]).get(url).status_code == 200, role


def test_stream_is_audited(manager_client, project, lineage):
    from apps.core.models import AuditEvent

    stream(manager_client, project, "?state=done")
    event = AuditEvent.objects.get(action="export.created")
    assert event.extra["stream"] is True and event.extra["filters"]["state"] == ["done"]


def test_schema_is_published(api_client):
    response = api_client.get("/api/v1/schemas/export-ndjson.json")
    assert response.status_code == 200
    jsonschema.Draft202012Validator.check_schema(response.json())


def test_label_scores_and_prelabel_provenance_ride_along(manager_client, project, lineage):
    """Each line carries its labels' quality scores and what happened to the model's pre-labels in them."""
    from django.utils import timezone

    from apps.predictions.models import AnnotationProvenance
    from apps.quality.models import LabelScore

    approved = lineage["approved"]
    LabelScore.objects.create(
        label=approved,
        project=project,
        data_row_id=approved.data_row_id,
        labeler_id=approved.labeler_id,
        consensus_agreement=0.8,
        benchmark_score=0.5,
        reference=lineage["in_review"],
        computed_at=timezone.now(),
    )
    feature = approved.annotations[0]
    AnnotationProvenance.objects.create(
        label=approved,
        project=project,
        index=0,
        schema_id=feature["schema_id"],
        name="vehicle",
        outcome="modified",
        confidence=0.7,
    )
    response = manager_client.get(f"/api/v1/projects/{project.pk}/export.ndjson")
    lines = {line["data_row"]["id"]: line for line in parse_ndjson(b"".join(response.streaming_content))}
    line = lines[str(approved.data_row_id)]
    assert line["label_scores"] == {
        str(approved.pk): {
            "consensus_agreement": 0.8,
            "benchmark_score": 0.5,
            "benchmark_reference": str(lineage["in_review"].pk),
        }
    }
    # The row's first label has the records its submit made (boxes added by hand); ours is there too.
    by_label: dict[str, list] = {}
    for entry in line["prelabel_provenance"]:
        by_label.setdefault(entry["label"], []).append((entry["index"], entry["outcome"], entry["confidence"]))
    assert by_label[str(approved.pk)] == [(0, "modified", 0.7)]
    assert by_label[str(lineage["first"].pk)] == [(0, "added", None), (1, "added", None)]
    other = lines[str(lineage["in_review"].data_row_id)]
    assert other["label_scores"] is None  # no scores for that row
    assert [entry["outcome"] for entry in other["prelabel_provenance"]] == ["added"]
    untouched = [line for line in lines.values() if not line["labels"]]
    assert untouched and all(line["prelabel_provenance"] is None for line in untouched)
