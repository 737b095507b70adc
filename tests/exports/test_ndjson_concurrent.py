"""NDJSON pages built concurrently on worker connections (`apps.exports.page_pool`, `TDP_EXPORT_PAGE_WORKERS`):
the same bytes and the same pages as the sequential keyset path, also when resuming, when rows are inserted between
the boundaries query and the pages, inside an atomic block (sequential path), and no connection left open."""

from __future__ import annotations

import threading
import time
import uuid

import pytest
from django.db import connection, transaction

from apps.datasets.models import DataRow, MetadataField
from apps.exports import page_pool, sql_pages
from apps.exports.domain.filters import parse_filters
from apps.exports.selectors import RowQuery, ndjson_sql_pages
from apps.labeling import services
from apps.labeling.models import Task, TaskState

pytestmark = pytest.mark.django_db(transaction=True)  # committed rows: the worker connections must see them

PAGE = 7


@pytest.fixture
def many(project, lineage, org_admin, make_rows):
    """The lineage fixture (labels, reviews, an issue) plus 40 rows in a third batch; every third row done and the
    rows split by metadata, so state and metadata filters select non-contiguous rows."""
    rows = make_rows(40, prefix="c")
    services.batch_create(actor=org_admin, project=project, name="c", data_row_ids=[str(r.id) for r in rows])
    MetadataField.objects.create(organization=project.organization, name="split", kind="string")
    for i, row in enumerate(rows):
        DataRow.objects.filter(pk=row.pk).update(metadata={"split": "train" if i % 2 else "test"})
    Task.objects.filter(data_row__in=rows[::3]).update(state=TaskState.DONE)
    return lineage


@pytest.fixture
def pools(monkeypatch):
    """Counts the thread pools created by the concurrent path."""
    created = []
    real = page_pool.ThreadPoolExecutor

    def counting(*args, **kwargs):
        created.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(page_pool, "ThreadPoolExecutor", counting)
    return created


def pages(project, raw, *, workers, settings, after=None, page_size=PAGE):
    settings.TDP_EXPORT_PAGE_WORKERS = workers
    query = RowQuery.build(project, parse_filters(raw))
    return [(page.ids, page.text) for page in ndjson_sql_pages(query, after=after, page_size=page_size)]


def backends() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND backend_type = 'client backend'"
        )
        return cursor.fetchone()[0]


def wait_for_backends(expected: int) -> int:
    """Closed connections leave pg_stat_activity as their backend exits: a moment after the client closed them."""
    deadline = time.monotonic() + 10
    while (count := backends()) != expected and time.monotonic() < deadline:
        time.sleep(0.05)
    return count


def page_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("export-page")]


@pytest.mark.parametrize(
    "raw",
    [{}, {"state": ["done"]}, {"metadata": {"split": "train"}}, {"label": "approved"}],
    ids=["all", "states", "metadata", "approved"],
)
@pytest.mark.parametrize("boundary_pages", [sql_pages.BOUNDARY_PAGES, 2], ids=["one-boundaries-query", "several"])
def test_concurrent_pages_are_the_sequential_pages(many, project, settings, pools, monkeypatch, raw, boundary_pages):
    monkeypatch.setattr(sql_pages, "BOUNDARY_PAGES", boundary_pages)
    sequential = pages(project, raw, workers=1, settings=settings)
    assert not pools
    concurrent = pages(project, raw, workers=2, settings=settings)
    assert len(pools) == 1 and pools[0]["max_workers"] == 2
    assert concurrent == sequential  # the same pages (ids and bytes), in the same order
    assert len(sequential) >= 2 and sum(len(ids) for ids, _ in sequential) >= 3
    if raw == {}:
        assert len(sequential) == 7 and [len(ids) for ids, _ in sequential][-1] == 45 - 6 * PAGE


@pytest.mark.parametrize("raw", [{}, {"state": ["done"]}], ids=["all", "states"])
def test_resuming_after_a_row_gives_the_same_pages(many, project, settings, pools, raw):
    everything = [row_id for ids, _ in pages(project, raw, workers=1, settings=settings) for row_id in ids]
    for after in (everything[3], everything[PAGE - 1], everything[-2]):
        sequential = pages(project, raw, workers=1, settings=settings, after=after)
        assert pages(project, raw, workers=2, settings=settings, after=after) == sequential
        assert [row_id for ids, _ in sequential for row_id in ids] == everything[everything.index(after) + 1 :]
    assert pools


def test_rows_inserted_after_the_boundaries_are_neither_lost_nor_repeated(many, project, settings, pools, monkeypatch):
    before = [row_id for ids, _ in pages(project, {}, workers=1, settings=settings) for row_id in ids]
    batch_id = Task.objects.filter(project=project).values_list("batch_id", flat=True).first()
    real = sql_pages.next_boundaries
    inserted: list[str] = []

    def insert_after_boundaries(*args, **kwargs):
        found = real(*args, **kwargs)
        if not inserted:
            # Committed by the time the pages run: one just below the first and second bounds (it would push the
            # bound's row into the next page if pages were `LIMIT page_size`), one before every row, one after.
            targets = [
                uuid.UUID(int=uuid.UUID(found[0]).int - 1),
                uuid.UUID(int=uuid.UUID(found[1]).int - 1),
                uuid.UUID(int=uuid.UUID(before[0]).int - 1),
                uuid.UUID(int=uuid.UUID(before[-1]).int + 1),
            ]
            for i, target in enumerate(targets):
                row = DataRow.objects.create(
                    id=target,
                    organization=project.organization,
                    dataset_id=DataRow.objects.get(pk=before[0]).dataset_id,
                    global_key=f"late-{i}",
                    row_data=f"https://example.com/late-{i}.jpg",
                )
                Task.objects.create(project=project, batch_id=batch_id, data_row=row)
                inserted.append(str(target))
        return found

    monkeypatch.setattr(sql_pages, "next_boundaries", insert_after_boundaries)
    got = pages(project, {}, workers=2, settings=settings)
    assert pools and len(inserted) == 4
    ids = [row_id for page_ids, _ in got for row_id in page_ids]
    assert sorted(ids) == sorted(before + inserted) and len(ids) == len(set(ids))
    assert ids == sorted(ids, key=uuid.UUID)  # still in data row order
    assert [len(page_ids) for page_ids, _ in got][:2] == [PAGE + 2, PAGE + 1]  # the bounds stayed in their pages
    lines = [line for _, text in got for line in text.splitlines()]
    assert len(lines) == len(ids) and all(f'"global_key":"late-{i}"' in "".join(lines) for i in range(4))


def test_inside_a_transaction_the_sequential_path_reads_uncommitted_rows(
    many, project, settings, pools, make_rows, org_admin
):
    expected = pages(project, {}, workers=1, settings=settings)
    pools.clear()
    with transaction.atomic():
        assert pages(project, {}, workers=2, settings=settings) == expected
        late = make_rows(3, prefix="late")
        services.batch_create(actor=org_admin, project=project, name="late", data_row_ids=[str(r.id) for r in late])
        ids = [row_id for page_ids, _ in pages(project, {}, workers=2, settings=settings) for row_id in page_ids]
        transaction.set_rollback(True)
    assert not pools  # no thread pool: other connections would not see the uncommitted rows
    assert {str(r.id) for r in late} <= set(ids) and len(ids) == 48
    transaction.set_autocommit(False)  # a transaction without an atomic block
    try:
        assert pages(project, {}, workers=2, settings=settings) == expected
    finally:
        transaction.rollback()
        transaction.set_autocommit(True)
    assert not pools
    assert pages(project, {}, workers=2, settings=settings) == expected and pools


def later_pages_first_run(monkeypatch, statement: str) -> None:
    """Every bounded page after the first runs `statement` before its own query (a failure, a slow page)."""
    real = sql_pages.execute_page

    def patched(cursor, query, params):
        if params.get("upto") is not None and params.get("after") is not None:
            cursor.execute(statement)
        return real(cursor, query, params)

    monkeypatch.setattr(sql_pages, "execute_page", patched)


def test_connections_are_closed_after_the_export_and_when_the_consumer_stops(many, project, settings):
    settings.TDP_EXPORT_PAGE_WORKERS = 2
    idle = backends()
    query = RowQuery.build(project, parse_filters({}))
    assert sum(len(page.ids) for page in ndjson_sql_pages(query, page_size=PAGE)) == 45
    assert wait_for_backends(idle) == idle and not page_threads()

    stream = ndjson_sql_pages(query, page_size=PAGE)
    assert len(next(stream).ids) == PAGE
    assert backends() > idle  # the workers' connections, building the next pages
    stream.close()  # the client went away after the first page
    assert wait_for_backends(idle) == idle and not page_threads()


def test_a_failing_page_closes_the_pool_and_its_connections(many, project, settings, monkeypatch):
    settings.TDP_EXPORT_PAGE_WORKERS = 2
    idle = backends()
    later_pages_first_run(monkeypatch, "SELECT 1 / 0")
    query = RowQuery.build(project, parse_filters({}))
    with pytest.raises(Exception, match="division by zero"):
        list(ndjson_sql_pages(query, page_size=PAGE))
    assert wait_for_backends(idle) == idle and not page_threads()


def test_a_client_leaving_the_stream_closes_the_pool(many, project, settings, members, client_for, monkeypatch):
    """The HTTP stream: the response is closed after its first chunk (as a WSGI server does when the client goes
    away); the pages in flight are dropped and the workers' connections closed."""
    settings.TDP_EXPORT_PAGE_WORKERS = 2
    monkeypatch.setattr("apps.exports.apis.ProjectExportStreamApi.page_size", PAGE)
    client = client_for(members["team_manager"])
    url = f"/api/v1/projects/{project.pk}/export.ndjson"
    idle = backends()
    assert b"".join(client.get(url).streaming_content).count(b"\n") == 45
    assert wait_for_backends(idle) == idle
    response = client.get(url)
    first = next(iter(response.streaming_content))
    assert first.count(b"\n") == PAGE and backends() > idle and page_threads()
    response.close()
    assert wait_for_backends(idle) == idle and not page_threads()


def test_pages_running_when_the_consumer_stops_are_cancelled(many, project, settings, monkeypatch):
    settings.TDP_EXPORT_PAGE_WORKERS = 2
    idle = backends()
    later_pages_first_run(monkeypatch, "SELECT pg_sleep(60)")
    stream = ndjson_sql_pages(RowQuery.build(project, parse_filters({})), page_size=PAGE)
    assert len(next(stream).ids) == PAGE
    started = time.monotonic()
    stream.close()  # the next two pages are sleeping on the server: their queries are cancelled, not waited for
    assert time.monotonic() - started < 10
    assert wait_for_backends(idle) == idle and not page_threads()
