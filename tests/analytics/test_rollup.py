"""The performance rollup gives the same answers as the live computation (conftest's seeded history), stays right
when work lands on days it already holds, and is what the selectors read for the days it holds."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from apps.analytics import selectors, services
from apps.analytics.domain import histogram as hist
from apps.analytics.models import DirtyDay, PerformanceDaily, RollupDay
from apps.analytics.selectors import rollup
from apps.issues import services as issue_services
from apps.labeling import services as labeling_services
from apps.labeling.models import Label, Task
from apps.quality import selectors as quality_selectors
from apps.quality.models import LabelScore
from apps.quality.services.scoring import row_score
from tests.analytics.conftest import _label, _review
from tests.quality.conftest import weather

pytestmark = pytest.mark.django_db

WINDOWS = [
    (None, None),
    ("2026-11-21", "2026-11-21"),
    ("2026-11-20T18:00:00", "2026-11-22"),
    ("2026-11-21", None),
]


def answers(project, only=None):
    """Every figure the API serves, for each grouping and window."""
    found = {}
    for raw_from, raw_to in WINDOWS:
        window = selectors.parse_range(raw_from, raw_to)
        for group in ("labeler", "day", "batch"):
            found[(raw_from, raw_to, group)] = selectors.performance(
                project=project, group_by=group, window=window, only=only
            )
        found[(raw_from, raw_to, "counts")] = selectors.performance(
            project=project, group_by="day", window=window, only=only, counts_only=True
        )
        found[(raw_from, raw_to, "summary")] = selectors.summary(project=project, window=window, only=only)
    return found


def live_answers(project, monkeypatch, only=None):
    """The same with the rollup ignored: every figure computed from the source tables."""
    with monkeypatch.context() as patched:
        patched.setattr(rollup, "plan_for", lambda project, window: selectors.Plan(window))
        return answers(project, only)


def same(a, b) -> bool:
    """Equal, floats up to summation order."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float):
        return a == pytest.approx(b, rel=1e-9)
    return type(a) is type(b) and a == b


def assert_same(rolled, live):
    assert rolled.keys() == live.keys()
    for key in live:
        assert same(rolled[key], live[key]), (key, rolled[key], live[key])


def rolled_days(project, window=(None, None)):
    return selectors.plan_for(project, selectors.parse_range(*window)).runs


def score(label, benchmark, consensus):
    LabelScore.objects.update_or_create(
        label=label,
        defaults={
            "project": label.project,
            "data_row_id": label.data_row_id,
            "labeler_id": label.labeler_id,
            "computed_at": timezone.now(),
            "benchmark_score": benchmark,
            "consensus_agreement": consensus,
        },
    )


def test_rebuild_covers_every_closed_day_and_answers_equal_live(history, people, monkeypatch):
    project = history["project"]
    l1, l2, l3, _l4, rework = history["labels"]
    for label, benchmark, consensus in ((l1, 0.9, 0.5), (l2, 0.3, None), (l3, 1.0, 0.75), (rework, 0.7, 0.25)):
        score(label, benchmark, consensus)
    quality_bins = quality_selectors.score_histograms(project=project)["benchmark"]
    live = live_answers(project, monkeypatch)
    live_ann = live_answers(project, monkeypatch, only=people["ann"])

    rebuilt = services.rollup_rebuild(project=project)

    yesterday = timezone.localdate() - timedelta(days=1)
    assert rolled_days(project) == [(date(2026, 11, 20), yesterday)]
    assert rebuilt.days == (yesterday - date(2026, 11, 20)).days + 1
    assert rebuilt.rows == PerformanceDaily.objects.filter(project=project).count() > 0
    rolled = answers(project)
    assert_same(rolled, live)
    assert_same(answers(project, only=people["ann"]), live_ann)
    ann = next(row for row in rolled[(None, None, "labeler")] if row["name"] == "ann")
    # Her current labels: l1 and the rework (l2 was replaced).
    assert ann["benchmark_mean"] == pytest.approx(0.8) and ann["consensus_mean"] == pytest.approx(0.375)
    assert selectors.benchmark_histogram(project=project) == quality_bins
    assert sum(quality_bins) == 3 and quality_bins[9] == 2
    # A range that starts mid-day reads that day live and the whole days after it from the rollup.
    assert rolled_days(project, ("2026-11-20T18:00:00", "2026-11-22")) == [(date(2026, 11, 21), date(2026, 11, 22))]


def test_the_rollup_is_read_for_clean_days_and_a_mark_sends_the_day_back_live(history, people, monkeypatch):
    project = history["project"]
    services.rollup_rebuild(project=project)
    l1 = history["labels"][0]
    # A write that bypasses the services (and so leaves no mark): the rollup still answers with what it holds.
    Label.objects.filter(pk=l1.pk).update(seconds_spent=5, server_seconds=5)
    ann = next(
        r
        for r in selectors.performance(project=project, group_by="labeler", window=selectors.Range(None, None))
        if r["name"] == "ann"
    )
    assert ann["label_seconds"] == 75

    services.dirty_days_mark(project_id=project.pk, days=[date(2026, 11, 20)])
    assert date(2026, 11, 20) not in {d for run in rolled_days(project) for d in (run[0],)}
    assert_same(answers(project), live_answers(project, monkeypatch))
    ann = next(
        r
        for r in selectors.performance(project=project, group_by="labeler", window=selectors.Range(None, None))
        if r["name"] == "ann"
    )
    assert ann["label_seconds"] == 50

    assert services.rollup_refresh_dirty() == 1
    assert not DirtyDay.objects.filter(project=project).exists()
    assert rolled_days(project)[0][0] == date(2026, 11, 20)
    assert_same(answers(project), live_answers(project, monkeypatch))


def _at(monkeypatch, moment):
    monkeypatch.setattr(timezone, "now", lambda: moment)


def test_work_landing_on_old_days_marks_them_and_the_refresh_catches_up(
    history, people, org_admin, make_rows, monkeypatch, django_capture_on_commit_callbacks
):
    project = history["project"]
    services.rollup_rebuild(project=project)
    ann, rev = people["ann"], people["rev"]
    l1 = history["labels"][0]
    real_now = timezone.now()
    before = live_answers(project, monkeypatch)
    done_day = Task.objects.get(pk=l1.task_id).done_at.date().isoformat()
    d2_late = datetime(2026, 11, 21, 23, 30, tzinfo=UTC)
    d3_late = datetime(2026, 11, 22, 18, 0, tzinfo=UTC)

    with django_capture_on_commit_callbacks(execute=True):
        # An issue opened on an old label, late on 21 November.
        _at(monkeypatch, d2_late)
        issue_services.issue_create(
            actor=rev, project=project, task=None, label=l1, data_row=l1.data_row, text="Check", annotation=None
        )
        # A new row labeled and reviewed (rejected) on 22 November.
        (row,) = make_rows(1, prefix="late")
        _at(monkeypatch, d3_late)
        labeling_services.batch_create(actor=org_admin, project=project, name="b3", data_row_ids=[str(row.id)])
        _label(ann, project, weather("sunny"))
        _review(rev, project, "reject")
        # Ground truth imported today over an old done row: the day it was done loses a row done.
        _at(monkeypatch, real_now)
        labeling_services.label_import(
            actor=org_admin, project=project, data_row=l1.data_row, annotations=weather("rain"), source="gt"
        )

    marked = set(DirtyDay.objects.filter(project=project).values_list("day", flat=True))
    assert {date(2026, 11, 21), date(2026, 11, 22), timezone.localdate()} <= marked
    assert Task.objects.get(project=project, data_row=l1.data_row).done_at.date() == timezone.localdate()
    live = live_answers(project, monkeypatch)
    assert_same(answers(project), live)
    days_before = {r["key"]: r for r in before[(None, None, "day")]}
    days_after = {r["key"]: r for r in live[(None, None, "day")]}
    assert days_after[done_day]["rows_done"] == days_before[done_day]["rows_done"] - 1
    assert days_after["2026-11-22"]["reviews"] == days_before["2026-11-22"]["reviews"] + 1
    assert days_after["2026-11-21"]["issues"] == days_before["2026-11-21"]["issues"] + 1

    services.rollup_refresh_dirty()
    # Closed days are rolled up again; today stays marked (and live) until it is over.
    assert set(DirtyDay.objects.filter(project=project).values_list("day", flat=True)) == {timezone.localdate()}
    assert rolled_days(project) == [(date(2026, 11, 20), timezone.localdate() - timedelta(days=1))]
    assert_same(answers(project), live)


def test_a_submit_leaves_one_mark_after_commit_only(
    project_factory, org_admin, people, make_rows, django_capture_on_commit_callbacks
):
    from apps.labeling import services as labeling

    project = project_factory(name="Marks", review={"sample_rate": 0.0})
    labeling.project_member_set(actor=org_admin, project=project, user=people["ann"], role="labeler")
    rows = make_rows(2, prefix="mark")
    labeling.batch_create(actor=org_admin, project=project, name="b", data_row_ids=[str(r.id) for r in rows])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        _label(people["ann"], project, weather("sunny"))
    assert not DirtyDay.objects.exists()
    for callback in callbacks:
        callback()
    assert list(DirtyDay.objects.values_list("project_id", "day")) == [(project.pk, timezone.localdate())]
    with django_capture_on_commit_callbacks(execute=True):
        _label(people["ann"], project, weather("rain"))
    assert DirtyDay.objects.count() == 1


def test_histogram_medians_above_the_limit(history, people, client_for, settings, monkeypatch):
    project = history["project"]
    url = f"/api/v1/projects/{project.id}/performance"
    exact = client_for(people["boss"]).get(url, {"group_by": "labeler"}).json()
    assert exact["median_method"] == "exact"
    services.rollup_rebuild(project=project)
    settings.ANALYTICS_EXACT_MEDIAN_LIMIT = 0
    body = client_for(people["boss"]).get(url, {"group_by": "labeler"}).json()
    assert body["median_method"] == "histogram" and body["summary"]["median_method"] == "histogram"
    exact_rows = {r["name"]: r for r in exact["rows"]}
    for row in body["rows"]:
        for field in ("median_seconds_per_label", "median_seconds_per_review"):
            if exact_rows[row["name"]][field] is None:
                assert row[field] is None
            else:
                assert row[field] == pytest.approx(exact_rows[row["name"]][field], rel=hist.RATIO - 1)
        assert row["labels"] == exact_rows[row["name"]]["labels"]
        assert row["label_seconds"] == exact_rows[row["name"]]["label_seconds"]
    assert body["summary"]["median_seconds_per_label"] == pytest.approx(52.5, rel=hist.RATIO - 1)
    csv = client_for(people["boss"]).get(url + ".csv", {"group_by": "labeler"})
    assert csv["X-Median-Method"] == "histogram"


def test_bucket_edges_in_the_database_match_the_domain(history):
    label = history["labels"][0]
    for seconds in (0.0, 0.4, 1.0, 1.05, 2.0, 9.99, 75.0, 3600.0):
        Label.objects.filter(pk=label.pk).update(seconds_spent=seconds, server_seconds=seconds)
        bucket = Label.objects.filter(pk=label.pk).annotate(b=selectors.bucket_of("seconds_spent")).get().b
        low, high = hist.bucket_bounds(bucket)
        assert low <= seconds < high or seconds == pytest.approx(low), (seconds, bucket)


def test_rebuild_command(history, capsys):
    call_command("analytics_rollup_rebuild", str(history["project"].id))
    assert f"{history['project'].id}: " in capsys.readouterr().out
    assert RollupDay.objects.filter(project=history["project"]).exists()
    with pytest.raises(CommandError):
        call_command("analytics_rollup_rebuild")
    with pytest.raises(CommandError):
        call_command("analytics_rollup_rebuild", "01a22023-e8f7-7578-baf5-acd30e1c0efd")


def test_scores_and_new_revisions_mark_the_days_of_their_labels(
    history, people, monkeypatch, django_capture_on_commit_callbacks
):
    project = history["project"]
    services.rollup_rebuild(project=project)
    l3 = history["labels"][2]
    with django_capture_on_commit_callbacks(execute=True):
        row_score(project=project, data_row_id=l3.data_row_id)
    assert list(DirtyDay.objects.filter(project=project).values_list("day", flat=True)) == [date(2026, 11, 21)]
    DirtyDay.objects.all().delete()
    # A reviewer's correction replaces bob's label: the old one's scores stop counting on its day.
    with django_capture_on_commit_callbacks(execute=True):
        labeling_services.label_revision_create(
            task=Task.objects.select_related("project", "data_row").get(pk=l3.task_id),
            author=people["rev"],
            annotations=weather("sunny"),
        )
    marked = set(DirtyDay.objects.filter(project=project).values_list("day", flat=True))
    assert {date(2026, 11, 21), timezone.localdate()} <= marked
    assert_same(answers(project), live_answers(project, monkeypatch))
