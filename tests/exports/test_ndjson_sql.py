"""The NDJSON lines built by PostgreSQL (`apps.exports.sql`) against the Python path they replace: same rows, same
content, for every filter and label mode, on a fixture with every kind of lineage (revisions, a rejection with
feedback, rework, approval, an edit-and-approve by a reviewer, issues with comments, attachments, metadata,
consensus and benchmark references, several task slots). Plus the stream's per-page query cost (constant per page)."""

from __future__ import annotations

import json
import re
from datetime import datetime

import jsonschema
import pytest
from django.utils import timezone

from apps.exports import registry
from apps.exports.domain.filters import parse_filters
from apps.exports.domain.ndjson import LineEncoder
from apps.exports.domain.schema import NDJSON_LINE_SCHEMA
from apps.exports.selectors import RowQuery, ndjson_page_lines, ndjson_sql_pages, ndjson_sql_usable
from apps.review import services as review_services
from tests.exports.conftest import box, submit

TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?([+-]\d\d:\d\d|Z)")

pytestmark = pytest.mark.django_db


def _normal(value):
    """Parsed JSON with timestamps as datetimes (the database writes `…:05.1+00:00` where Python writes
    `…:05.100000+00:00`); numbers compare by value (12 == 12.0)."""
    if isinstance(value, dict):
        return {key: _normal(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_normal(item) for item in value]
    if isinstance(value, str) and TIMESTAMP.fullmatch(value):
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value


def python_lines(query: RowQuery, page_size: int) -> list[str]:
    encoder = LineEncoder()
    return [
        line
        for page in query.pages(page_size=page_size, as_json=True)
        for line in ndjson_page_lines(query, page, encoder)
    ]


def sql_lines(query: RowQuery, page_size: int) -> list[str]:
    text = "".join(page.text for page in ndjson_sql_pages(query, page_size=page_size))
    assert text == "" or text.endswith("\n")
    return text.splitlines(keepends=True)


@pytest.fixture
def rich(project, lineage, members, org_admin, make_rows):
    """The lineage fixture plus: an edit-and-approve by the reviewer, attachments and metadata, a resolved issue,
    a consensus score with a winner and a benchmark reference, and a second task slot on one row."""
    from apps.datasets.models import Attachment, DataRow, MetadataField
    from apps.issues import services as issue_services
    from apps.labeling.models import Task, TaskKind
    from apps.quality.models import BenchmarkReference, ConsensusScore

    labeler, reviewer = lineage["labeler"], lineage["reviewer"]
    third = submit(project, labeler, [box(left=30), box(left=300, kind="ambulance")], seconds=9)
    review_services.review_decide(
        actor=reviewer, label=third, decision="approve", annotations=[box(left=31)], feedback="fixed", seconds_spent=4
    )
    row = third.data_row
    Attachment.objects.create(data_row=row, type="text", value='a "quoted" note\nwith a newline', name="note")
    Attachment.objects.create(data_row=row, type="image", value="https://example.com/x.png", name="")
    MetadataField.objects.create(organization=project.organization, name="split", kind="string")
    DataRow.objects.filter(pk=row.pk).update(metadata={"split": "train"})
    issue = issue_services.issue_create(
        actor=reviewer, project=project, task=third.task, label=third, data_row=row, text='Ünïcode ✓ \\ "q"'
    )
    issue_services.comment_create(actor=labeler, issue=issue, text="first")
    issue_services.comment_create(actor=reviewer, issue=issue, text="second")
    issue_services.issue_resolve(actor=reviewer, issue=issue)
    winner = lineage["in_review"]
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
    from apps.quality.models import LabelScore

    for label, agreement, benchmark, reference in (
        (winner, 0.75, None, None),
        (third, None, 0.5, winner),
        (lineage["first"], 0.1, 0.2, None),  # not current: left out
    ):
        LabelScore.objects.create(
            label=label,
            project=project,
            data_row_id=label.data_row_id,
            labeler_id=label.labeler_id,
            consensus_agreement=agreement,
            benchmark_score=benchmark,
            reference=reference,
            computed_at=timezone.now(),
        )
    extra = Task.objects.create(
        project=project,
        batch=winner.task.batch,
        data_row=winner.data_row,
        slot=1,
        kind=TaskKind.CONSENSUS,
    )
    from apps.labeling.models import Label

    Label.objects.create(
        task=extra,
        project=project,
        data_row=winner.data_row,
        labeler=members["expert"],
        ontology_version=project.ontology_version,
        annotations=winner.annotations,
        seconds_spent=None,
        server_seconds=2.5,
    )
    return lineage | {"third": third, "issue2": issue}


FILTERS = [
    {},
    {"label": "approved"},
    {"label": "consensus_winner"},
    {"state": ["done", "in_review"]},
    {"state": ["to_label"]},
    {"global_keys": ["b1-1", "b2-0", "nope"]},
    {"metadata": {"split": "train"}},
]


@pytest.mark.parametrize("raw", FILTERS, ids=lambda f: json.dumps(f))
@pytest.mark.parametrize("page_size", [2, 100])
def test_sql_lines_are_the_python_lines(rich, project, raw, page_size):
    query = RowQuery.build(project, parse_filters(raw))
    assert ndjson_sql_usable(query)
    expected = python_lines(query, page_size)
    got = sql_lines(query, page_size)
    assert len(got) == len(expected)
    validator = jsonschema.Draft202012Validator(NDJSON_LINE_SCHEMA)
    for line, old in zip(got, expected, strict=True):
        parsed = json.loads(line)
        validator.validate(parsed)
        assert _normal(parsed) == _normal(json.loads(old))


def test_label_filters_match_the_python_path(rich, project, members):
    labeler = rich["labeler"]
    later = rich["approved"].created_at.isoformat()
    for raw in (
        {"labeler": [str(labeler.pk)]},
        {"labeler": [str(members["expert"].pk)]},
        {"label_created_from": later},
        {"label_created_to": later},
        {"label_created_from": later, "label": "approved"},
    ):
        query = RowQuery.build(project, parse_filters(raw))
        expected = [_normal(json.loads(line)) for line in python_lines(query, 3)]
        assert [_normal(json.loads(line)) for line in sql_lines(query, 3)] == expected, raw


def test_the_fixture_has_every_kind_of_lineage(rich, project):
    """Guards the comparison above: the lines really hold what is compared."""
    query = RowQuery.build(project, parse_filters({}))
    lines = [json.loads(line) for line in sql_lines(query, 100)]
    labels = [label for line in lines for label in line["labels"]]
    assert any(h.get("by_reviewer") for label in labels for h in label["history"])
    assert any(len(label["reviews"]) == 2 for label in labels)
    assert any(label["seconds"]["rework"] for label in labels)
    assert any(len(line["labels"]) == 2 and len(line["workflow"]["tasks"]) == 2 for line in lines)
    assert any(line["data_row"]["attachments"] for line in lines)
    issues = [issue for line in lines for issue in line["issues"]]
    assert any(issue["resolved_by"] and len(issue["comments"]) == 2 for issue in issues)
    assert any(line["quality"] and line["quality"]["benchmark_references"] for line in lines)
    assert any(line["label_scores"] for line in lines) and any(line["prelabel_provenance"] for line in lines)
    assert any(line["label_scores"] is None and line["prelabel_provenance"] is None for line in lines)


def test_python_only_section_and_chooser_still_work(rich, project):
    calls = []

    def load(p, ids):
        calls.append(list(ids))
        return {ids[0]: {"n": len(ids)}}

    registry.register_row_section("extra", load)
    try:
        query = RowQuery.build(project, parse_filters({}))
        lines = [json.loads(line) for line in sql_lines(query, 2)]
    finally:
        registry.unregister_row_section("extra")
    assert [len(c) for c in calls] == [2, 2, 1]
    assert lines[0]["extra"] == {"n": 2} and lines[1]["extra"] is None
    original = registry.label_chooser("consensus_winner")
    registry.register_label_chooser("consensus_winner", lambda p, ids: {})
    try:
        assert not ndjson_sql_usable(RowQuery.build(project, parse_filters({"label": "consensus_winner"})))
    finally:
        registry.register_label_chooser("consensus_winner", original, sql=True)


def test_stream_costs_one_query_per_page(
    rich, project, members, client_for, monkeypatch, django_assert_max_num_queries
):
    client = client_for(members["team_manager"])
    url = f"/api/v1/projects/{project.pk}/export.ndjson"
    client.get(url)  # warm up (token last-use stamp, caches)

    def count(page_size):
        monkeypatch.setattr("apps.exports.apis.ProjectExportStreamApi.page_size", page_size)
        with django_assert_max_num_queries(50) as captured:
            body = b"".join(client.get(url).streaming_content)
        pages = [q for q in captured.captured_queries if q["sql"].startswith("WITH page AS")]
        return len(captured.captured_queries), len(pages), body.count(b"\n")

    total_one, pages_one, rows = count(100)
    assert rows == 5 and pages_one == 1
    total_many, pages_many, rows = count(2)
    assert rows == 5 and pages_many == 3
    # Each page: its query inside a short transaction (begin or savepoint, SET LOCAL work_mem, commit), whatever the
    # number of rows in it: every registered section (label scores and pre-label provenance too) is in that query.
    per_page, rest = divmod(total_many - total_one, pages_many - pages_one)
    assert rest == 0 and per_page <= 4, (total_one, total_many)
