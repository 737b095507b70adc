"""The query plans and query counts `benchmark scale` relies on, pinned at a small size (20,000 data rows built by
the benchmark's own SQL builder): index use and no sequential scan of the data row table on the hot list queries,
no unbounded COUNT(*) on page loads, a fixed number of queries on the admin's data row changelist."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from apps.datasets.selectors import data_rows_visible_to
from apps.exports.scale.build import ScaleData, build

pytestmark = [
    pytest.mark.django_db(transaction=True),  # CREATE INDEX CONCURRENTLY and VACUUM run outside a transaction
    pytest.mark.skipif(connection.vendor != "postgresql", reason="query plans of PostgreSQL"),
]

ROWS = 20_000


@pytest.fixture
def scale() -> ScaleData:
    return build(ROWS, max_vectors=0)


def _plan(data: ScaleData, params: dict[str, str], **extra: object) -> str:
    rows = data_rows_visible_to(actor=data.admin, dataset=data.dataset, params=params).filter(**extra)
    return rows.order_by("-created_at", "-id")[:101].explain()


BIG_TABLES = ("datasets_datarow", "labeling_task", "labeling_label", "labeling_annotation", "catalog_embeddingvector")


def _unbounded_counts(queries: list[dict[str, str]]) -> list[str]:
    """COUNT queries over a table that grows with the data (rows, tasks, labels, vectors) and are not capped by a
    LIMIT inside them: a count of a whole dataset or project on each page load."""
    counts = [q["sql"] for q in queries if re.search(r"\bCOUNT\(", q["sql"], re.IGNORECASE)]
    big = [sql for sql in counts if any(f'"{table}"' in sql for table in BIG_TABLES)]
    return [sql for sql in big if not re.search(r"LIMIT \d+\) subquery", sql)]


def test_row_list_pages_walk_the_created_index(scale):
    first = _plan(scale, {})
    # (dataset, created_at, id) or (organization, created_at, id): the org holds this one dataset, both fit
    assert "Index Scan Backward using data_row_" in first and "_created_asc" in first, first
    assert "Seq Scan" not in first and "Sort" not in first, first
    # the cursor of a page deep in the list is a created_at bound: the same index, from that point
    boundary = scale.dataset.data_rows.order_by("-created_at").values_list("created_at", flat=True)[10_000]
    deep = _plan(scale, {}, created_at__lt=boundary)
    assert "_created_asc" in deep and "Seq Scan" not in deep and "Sort" not in deep, deep


@pytest.mark.parametrize(
    ("params", "index"),
    [
        (
            {"metadata.captured_at__gte": "2025-01-03T00:00:00Z", "metadata.captured_at__lt": "2025-01-03T01:00:00Z"},
            "data_row_range_",
        ),
        ({"metadata.score__gte": "0.999"}, "data_row_range_"),
        ({"metadata.tag": "glare"}, "data_row_metadata_gin"),
        ({"metadata.split": "valid"}, None),
        ({"created_after": "2026-01-01T00:00:05Z", "created_before": "2026-01-01T00:00:06Z"}, None),
    ],
)
def test_metadata_filters_use_an_index(scale, params, index):
    plan = _plan(scale, params)
    assert "Seq Scan" not in plan, plan
    if index:
        assert index in plan, plan


def test_range_filter_answers_match_the_values(scale):
    params = {"metadata.score__gte": "0.99", "metadata.score__lt": "0.995"}
    rows = list(data_rows_visible_to(actor=scale.admin, dataset=scale.dataset, params=params)[:1000])
    assert rows and all(0.99 <= r.metadata["score"] < 0.995 for r in rows)
    window = {"metadata.captured_at__gte": "2025-01-03T00:00:00Z", "metadata.captured_at__lt": "2025-01-03T01:00:00Z"}
    found = list(data_rows_visible_to(actor=scale.admin, dataset=scale.dataset, params=window))
    assert len(found) == 60  # one row per minute
    assert all(r.metadata["captured_at"].startswith("2025-01-03T00:") for r in found)


def test_admin_data_row_changelist_counts_nothing_whole_and_runs_few_queries(scale):
    scale.admin.is_staff = True
    scale.admin.save(update_fields=["is_staff"])
    client = Client()
    client.force_login(scale.admin)
    client.get("/admin/datasets/datarow/")  # warm-up: session, content types
    with CaptureQueriesContext(connection) as captured:
        page = client.get("/admin/datasets/datarow/")
    assert page.status_code == 200
    assert not _unbounded_counts(captured.captured_queries)
    assert len(captured.captured_queries) <= 12, [q["sql"][:120] for q in captured.captured_queries]
    html = page.content.decode()
    assert re.search(r">about 1?\d+ thousand</span> data rows", html), html[-3000:]  # the estimate, said to be one
    with CaptureQueriesContext(connection) as deep:
        assert client.get("/admin/datasets/datarow/?p=50").status_code == 200
    assert len(deep.captured_queries) == len(captured.captured_queries)


@pytest.mark.parametrize(
    "url",
    ["/", "/admin/datasets/dataset/", "/admin/labeling/task/", "/admin/labeling/label/", "/catalog/"],
)
def test_page_loads_count_nothing_whole(scale, url):
    scale.admin.is_staff = True
    scale.admin.save(update_fields=["is_staff"])
    client = Client()
    client.force_login(scale.admin)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    assert not _unbounded_counts(captured.captured_queries), _unbounded_counts(captured.captured_queries)


def test_dataset_api_says_when_its_row_count_is_an_estimate(scale):
    from apps.accounts import services as account_services

    token = account_services.api_token_create(user=scale.admin).key
    client = Client(HTTP_AUTHORIZATION=f"Token {token}")
    detail = client.get(f"/api/v1/datasets/{scale.dataset.pk}").json()
    assert detail["row_count_exact"] is False and detail["row_count"] > 10_000
    assert abs(detail["row_count"] - ROWS) < ROWS * 0.2  # the planner's estimate after ANALYZE


def test_admin_next_link_pages_by_keyset_through_the_whole_list(scale):
    """ "Next" links carry the last row's (created_at, id): the rows of consecutive pages follow each other without
    gap or repeat, and a deep page's query is the index walk from the cursor (no OFFSET)."""
    scale.admin.is_staff = True
    scale.admin.save(update_fields=["is_staff"])
    client = Client()
    client.force_login(scale.admin)
    expected = [
        str(pk) for pk in scale.dataset.data_rows.order_by("-created_at", "-id").values_list("pk", flat=True)[:300]
    ]
    seen: list[str] = []
    url = "/admin/datasets/datarow/"
    for _ in range(3):
        with CaptureQueriesContext(connection) as captured:
            page = client.get(url)
        assert page.status_code == 200
        seen.extend(str(obj.pk) for obj in page.context["cl"].result_list)
        next_query = page.context["cl"].next_url
        assert next_query.startswith("?after=") and "p=" not in next_query
        url = "/admin/datasets/datarow/" + next_query
        listing = [q["sql"] for q in captured.captured_queries if 'FROM "datasets_datarow"' in q["sql"]]
        assert not any("OFFSET" in sql for sql in listing), listing
    assert seen == expected
    deep_cursor = scale.dataset.data_rows.order_by("-created_at", "-id")[15_000]
    after = f"{deep_cursor.created_at.isoformat()}|{deep_cursor.pk}"
    rows = scale.dataset.data_rows.order_by("-created_at", "-id")
    plan = (
        rows.filter(created_at__lte=deep_cursor.created_at)
        .exclude(created_at=deep_cursor.created_at, pk__gte=deep_cursor.pk)[:101]
        .explain()
    )
    assert "_created_asc" in plan and "Seq Scan" not in plan and "Sort" not in plan, plan
    deep = client.get("/admin/datasets/datarow/", {"after": after})
    assert deep.status_code == 200
    assert [str(o.pk) for o in deep.context["cl"].result_list][:1] == [str(rows[15_001].pk)]
    assert client.get("/admin/datasets/datarow/", {"after": "yesterday|x"}).status_code == 302  # ?e=1: bad cursor


def test_admin_other_sort_orders_keep_numbered_pages(scale):
    scale.admin.is_staff = True
    scale.admin.save(update_fields=["is_staff"])
    client = Client()
    client.force_login(scale.admin)
    page = client.get("/admin/datasets/datarow/", {"o": "1"})  # sorted by global key
    assert page.status_code == 200 and page.context["cl"].next_url == ""
