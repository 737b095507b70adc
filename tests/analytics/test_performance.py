"""Performance figures against the hand-computed history of conftest.py."""

from __future__ import annotations

import csv
import io

import pytest

pytestmark = pytest.mark.django_db


def get(client, project, **params):
    response = client.get(f"/api/v1/projects/{project.id}/performance", params)
    assert response.status_code == 200, response.content
    return response.json()


def by_name(rows):
    return {row["name"]: row for row in rows}


def test_per_labeler(history, people, client_for):
    body = get(client_for(people["boss"]), history["project"], group_by="labeler")
    assert body["scope"] == "project"
    rows = by_name(body["rows"])
    ann, bob, rev = rows["ann"], rows["+bob"], rows["rev"]
    assert (ann["labels"], ann["reworks"], ann["reviews"], ann["rows_done"]) == (2, 1, 0, 2)
    assert ann["label_seconds"] == 75 and ann["rework_seconds"] == 25
    assert ann["mean_seconds_per_label"] == pytest.approx(37.5)
    assert ann["median_seconds_per_label"] == pytest.approx(37.5)
    assert ann["labels_per_hour"] == pytest.approx(96.0)
    assert ann["approval_rate"] == pytest.approx(2 / 3) and ann["rework_rate"] == pytest.approx(1 / 3)
    assert ann["issues"] == 0 and ann["issues_per_100_labels"] == 0
    assert ann["hourly_rate"] == 20.0 and ann["cost"] == pytest.approx(0.56) and ann["cost_per_label"] == 0.28

    assert (bob["labels"], bob["rows_done"], bob["label_seconds"]) == (2, 2, 160)
    assert bob["mean_seconds_per_label"] == 80 and bob["median_seconds_per_label"] == 80
    assert bob["labels_per_hour"] == pytest.approx(45.0)
    assert bob["approval_rate"] == 1.0 and bob["rework_rate"] == 0.0
    assert bob["issues"] == 1 and bob["issues_per_100_labels"] == 50.0
    assert bob["cost"] is None

    assert (rev["labels"], rev["reviews"], rev["review_seconds"]) == (0, 5, 42)
    assert rev["mean_seconds_per_review"] == pytest.approx(8.4) and rev["median_seconds_per_review"] == 8


def test_summary_and_projection(history, people, client_for):
    summary = get(client_for(people["boss"]), history["project"])["summary"]
    assert (summary["labels"], summary["reworks"], summary["reviews"], summary["rows_done"]) == (4, 1, 5, 4)
    assert summary["label_seconds"] == 235 and summary["review_seconds"] == 42
    assert summary["mean_seconds_per_label"] == pytest.approx(58.75)
    assert summary["median_seconds_per_label"] == pytest.approx(52.5)
    assert summary["median_seconds_per_review"] == 8
    assert summary["approval_rate"] == pytest.approx(0.8) and summary["rework_rate"] == pytest.approx(0.2)
    assert summary["issues_per_100_labels"] == 25.0
    assert summary["cost"] == pytest.approx(0.56) and summary["cost_per_label"] == pytest.approx(0.28)
    assert summary["projection"]["remaining_tasks"] == 0 and summary["projection"]["days_to_finish"] == 0


def test_per_day_and_per_batch(history, people, client_for):
    client = client_for(people["boss"])
    days = {row["key"]: row for row in get(client, history["project"], group_by="day")["rows"]}
    assert sorted(days) == ["2026-11-20", "2026-11-21", "2026-11-22"]
    assert (days["2026-11-20"]["labels"], days["2026-11-20"]["reviews"]) == (2, 0)
    assert (days["2026-11-21"]["labels"], days["2026-11-21"]["reviews"], days["2026-11-21"]["rows_done"]) == (2, 4, 3)
    assert days["2026-11-21"]["approval_rate"] == pytest.approx(0.75)
    assert (days["2026-11-22"]["reworks"], days["2026-11-22"]["reviews"], days["2026-11-22"]["rows_done"]) == (1, 1, 1)

    batches = by_name(get(client, history["project"], group_by="batch")["rows"])
    assert (batches["b1"]["labels"], batches["b1"]["reworks"], batches["b1"]["reviews"]) == (2, 1, 3)
    assert batches["b1"]["approval_rate"] == pytest.approx(2 / 3) and batches["b1"]["rows_done"] == 2
    assert (batches["b2"]["labels"], batches["b2"]["issues"], batches["b2"]["approval_rate"]) == (2, 1, 1.0)


def test_per_feature(history, people, client_for):
    rows = by_name(get(client_for(people["boss"]), history["project"], group_by="feature")["rows"])
    assert (rows["weather"]["annotations"], rows["weather"]["labels"]) == (4, 4)
    # Decisions on labels with the feature: all five (the rework has weather too), four approvals.
    assert rows["weather"]["approval_rate"] == pytest.approx(0.8)
    assert (rows["vehicle"]["annotations"], rows["vehicle"]["labels"], rows["vehicle"]["issues"]) == (1, 1, 1)
    assert rows["vehicle"]["issues_per_100_labels"] == 100.0 and rows["vehicle"]["approval_rate"] == 1.0


def test_date_range(history, people, client_for):
    body = get(
        client_for(people["boss"]), history["project"], group_by="labeler", **{"from": "2026-11-21", "to": "2026-11-21"}
    )
    rows = by_name(body["rows"])
    assert set(rows) == {"+bob", "rev", "ann"}  # ann: decisions on her labels that day, no labels of hers
    assert rows["ann"]["labels"] == 0 and rows["ann"]["approval_rate"] == 0.5
    assert rows["+bob"]["labels"] == 2 and rows["rev"]["reviews"] == 4
    assert body["summary"]["labels"] == 2 and body["summary"]["reviews"] == 4


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"group_by": "team"}, "group_by"),
        ({"from": "yesterday"}, "from"),
        ({"from": "2026-11-22", "to": "2026-11-20"}, "to"),
        ({"sort": "x"}, "sort"),
    ],
)
def test_bad_parameters_are_400(history, people, client_for, params, field):
    response = client_for(people["boss"]).get(f"/api/v1/projects/{history['project'].id}/performance", params)
    assert response.status_code == 400 and field in response.json()["error"]["details"]


def test_a_labeler_sees_only_their_own_numbers(history, people, client_for):
    body = get(client_for(people["ann"]), history["project"], group_by="labeler")
    assert body["scope"] == "self"
    assert [row["name"] for row in body["rows"]] == ["ann"]
    assert body["summary"]["labels"] == 2 and body["summary"]["reviews"] == 0
    days = get(client_for(people["ann"]), history["project"], group_by="day")["rows"]
    assert sum(row["labels"] for row in days) == 2


def test_others_see_nothing(history, org, other_org, make_user, client_for, api_client):
    url = f"/api/v1/projects/{history['project'].id}/performance"
    outsider = make_user(role="labeler", organization=org, username="not-in-project")
    foreign = make_user(role="admin", organization=other_org, username="foreign-admin")
    assert client_for(outsider).get(url).status_code == 404
    assert client_for(foreign).get(url).status_code == 404
    assert client_for(foreign).get(url + ".csv").status_code == 404
    assert api_client.get(url).status_code == 401


def test_csv_download_neutralises_formulas(history, people, client_for):
    response = client_for(people["boss"]).get(f"/api/v1/projects/{history['project'].id}/performance.csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert response["X-Content-Type-Options"] == "nosniff"
    table = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    names = {row["name"] for row in table}
    assert "'+bob" in names and "+bob" not in names
    assert {row["name"]: row["labels"] for row in table}["ann"] == "2"
