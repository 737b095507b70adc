"""Similarity search, the index's invalidation, projection/clusters/outliers jobs, drift, slices and lineage."""

from __future__ import annotations

import numpy as np
import pytest

from apps.catalog import registry
from apps.catalog import services as catalog_services
from apps.catalog.index import get_index
from apps.catalog.models import SpaceAnalysis
from apps.core.models import Job
from apps.datasets import services as dataset_services
from tests.catalog.conftest import put_vectors

pytestmark = pytest.mark.django_db


@pytest.fixture
def filled(manager, dataset, make_rows, space):
    """40 rows: camera a (rows 0-19) around axis 0, camera b (20-39) around axis 1; vectors known."""
    rng = np.random.default_rng(0)
    rows = make_rows(dataset, 20, prefix="a", camera="a") + make_rows(
        dataset, 20, prefix="b", camera="b", brightness=50
    )
    vectors = rng.normal(0, 0.1, (40, 8))
    vectors[:20, 0] += 1
    vectors[20:, 1] += 1
    put_vectors(manager, space, rows, vectors)
    return rows, vectors


@pytest.fixture
def analyse(manager_client, django_capture_on_commit_callbacks):
    def run(space, **body):
        with django_capture_on_commit_callbacks(execute=True):
            response = manager_client.post(f"/api/v1/embeddings/{space.id}/analyses", body, format="json")
        assert response.status_code == 202, response.json()
        return response.json()["job"]

    return run


def brute(vectors, query, k, allowed):
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    q = query / np.linalg.norm(query)
    scores = unit @ q
    order = [i for i in np.argsort(-scores, kind="stable") if i in allowed]
    return order[:k]


def test_similar_to_a_row_matches_brute_force(labeler_client, filled, dataset, space):
    rows, vectors = filled
    response = labeler_client.get(
        f"/api/v1/datasets/{dataset.id}/similar", {"embedding": str(space.id), "data_row": str(rows[3].id), "k": 5}
    )
    assert response.status_code == 200, response.json()
    got = [r["data_row"]["id"] for r in response.json()["results"]]
    want = [str(rows[i].id) for i in brute(vectors, vectors[3], 5, set(range(40)) - {3})]
    assert got == want
    scores = [r["score"] for r in response.json()["results"]]
    assert scores == sorted(scores, reverse=True)


def test_similar_with_metadata_filter_and_a_vector(labeler_client, filled, dataset, space):
    rows, vectors = filled
    query = vectors[2] * 3
    response = labeler_client.post(
        f"/api/v1/datasets/{dataset.id}/similar",
        {"embedding": str(space.id), "vector": query.tolist(), "k": 4, "filters": {"metadata.camera": "b"}},
        format="json",
    )
    assert response.status_code == 200, response.json()
    got = [r["data_row"]["id"] for r in response.json()["results"]]
    assert got == [str(rows[i].id) for i in brute(vectors, query, 4, set(range(20, 40)))]
    assert all(r["data_row"]["metadata"]["camera"] == "b" for r in response.json()["results"])


def test_similar_is_restricted_to_the_dataset(manager, labeler_client, filled, space, make_rows):
    rows, vectors = filled
    other = dataset_services.dataset_create(actor=manager, name="other")
    other_rows = make_rows(other, 2, prefix="o")
    put_vectors(manager, space, other_rows, np.array([vectors[3], vectors[3]]))
    url = f"/api/v1/datasets/{other.id}/similar"
    got = labeler_client.get(url, {"embedding": str(space.id), "data_row": str(rows[3].id), "k": 10}).json()
    assert sorted(r["data_row"]["id"] for r in got["results"]) == sorted(str(r.id) for r in other_rows)
    across = labeler_client.get(f"/api/v1/embeddings/{space.id}/similar", {"data_row": str(rows[3].id), "k": 2})
    assert {r["data_row"]["id"] for r in across.json()["results"]} == {str(r.id) for r in other_rows}


def test_similar_bad_input_is_400_not_500(labeler_client, filled, dataset, space, make_rows):
    rows, _ = filled
    url = f"/api/v1/datasets/{dataset.id}/similar"
    no_vector = make_rows(dataset, 1, prefix="novec")[0]
    cases = [
        {"embedding": str(space.id)},
        {"data_row": str(rows[0].id)},
        {"embedding": str(space.id), "data_row": str(rows[0].id), "k": "0"},
        {"embedding": str(space.id), "data_row": str(rows[0].id), "k": "abc"},
        {"embedding": str(space.id), "data_row": str(rows[0].id), "metadata.nope": "x"},
        {"embedding": str(space.id), "data_row": str(no_vector.id)},
    ]
    for params in cases:
        response = labeler_client.get(url, params)
        assert response.status_code == 400, (params, response.json())
    bad_vector = f'{{"embedding": "{space.id}", "vector": [1, Infinity, 0, 0, 0, 0, 0, NaN]}}'.encode()
    assert labeler_client.generic("POST", url, bad_vector, content_type="application/json").status_code == 400
    assert labeler_client.post(url, {"embedding": str(space.id), "vector": [1, 2]}, format="json").status_code == 400


def test_index_reloads_after_an_upload(manager, filled, space, dataset, make_rows):
    _rows, vectors = filled
    first = get_index(space)
    assert len(first) == 40 and get_index(space) is first  # warm: the same object
    new = make_rows(dataset, 1, prefix="late")
    put_vectors(manager, space, new, np.array([vectors[0]]))
    space.refresh_from_db()
    second = get_index(space)
    assert second is not first and len(second) == 41


def test_analysis_job_computes_projection_clusters_outliers_and_caches(
    manager_client, labeler_client, filled, dataset, space, analyse
):
    rows, _vectors = filled
    projection_url = f"/api/v1/datasets/{dataset.id}/projection"
    missing = labeler_client.get(projection_url, {"embedding": str(space.id)})
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_computed"
    assert labeler_client.post(f"/api/v1/embeddings/{space.id}/analyses", {}, format="json").status_code == 403
    job = manager_client.get(f"/api/v1/jobs/{analyse(space, clusters=2, neighbors=3)}").json()
    assert job["status"] == "succeeded", job
    assert job["result"]["rows"] == 40 and sorted(job["result"]["cluster_sizes"]) == [20, 20]
    body = labeler_client.get(projection_url, {"embedding": str(space.id)}).json()
    assert body["total"] == 40 and body["analysis"]["stale"] is False
    by_row = {p["data_row"]: p for p in body["points"]}
    clusters_a = {by_row[str(r.id)]["cluster"] for r in rows[:20]}
    clusters_b = {by_row[str(r.id)]["cluster"] for r in rows[20:]}
    assert len(clusters_a) == 1 and len(clusters_b) == 1 and clusters_a != clusters_b
    xs_a = np.array([by_row[str(r.id)]["x"] for r in rows[:20]])
    xs_b = np.array([by_row[str(r.id)]["x"] for r in rows[20:]])
    assert abs(xs_a.mean() - xs_b.mean()) > 1.0  # the first axis separates the two groups
    # running the same analysis again reuses the cached result
    again = analyse(space, clusters=2, neighbors=3)
    assert Job.objects.get(pk=again).result["analysis"] == job["result"]["analysis"]
    assert SpaceAnalysis.objects.count() == 1
    filtered = labeler_client.get(projection_url, {"embedding": str(space.id), "metadata.camera": "b"}).json()
    assert filtered["total"] == 20


def test_outliers_rank_the_odd_row_first(manager, labeler_client, dataset, space, make_rows, analyse):
    rows = make_rows(dataset, 30)
    rng = np.random.default_rng(1)
    vectors = rng.normal(0, 0.05, (30, 8))
    vectors[:, 0] += 1
    vectors[17] = [0, 0, 0, 0, 0, 0, 0, 1]
    put_vectors(manager, space, rows, vectors)
    analyse(space, clusters=2)
    body = labeler_client.get(f"/api/v1/datasets/{dataset.id}/outliers", {"embedding": str(space.id), "limit": 3})
    assert body.status_code == 200, body.json()
    results = body.json()["results"]
    assert results[0]["data_row"]["id"] == str(rows[17].id)
    assert results[0]["outlier_rank"] == pytest.approx(1.0)


def test_projection_reports_stale_after_new_vectors(manager, labeler_client, filled, dataset, space, analyse):
    rows, vectors = filled
    analyse(space, clusters=2)
    put_vectors(manager, space, rows[:1], vectors[:1] * 2)
    body = labeler_client.get(f"/api/v1/datasets/{dataset.id}/projection", {"embedding": str(space.id)}).json()
    assert body["analysis"]["stale"] is True


def test_drift_flags_the_shifted_slice(manager, labeler_client, dataset, space, make_rows, analyse):
    old = make_rows(dataset, 60, prefix="old", camera="a", brightness=0)
    new = make_rows(dataset, 60, prefix="new", camera="b", brightness=40)
    rng = np.random.default_rng(3)
    put_vectors(manager, space, old, rng.normal(0, 1, (60, 8)) + 5)
    put_vectors(manager, space, new, rng.normal(0, 1, (60, 8)) + np.array([5, 9, 5, 5, 5, 5, 5, 5]))
    response = labeler_client.get(
        f"/api/v1/datasets/{dataset.id}/drift",
        {"embedding": str(space.id), "a.metadata.camera": "a", "b.metadata.camera": "b"},
    )
    assert response.status_code == 200, response.json()
    report = response.json()
    fields = {f["field"]: f for f in report["fields"]}
    # brightness 0..59 vs 40..99: KS = 40/60
    assert fields["brightness"]["ks"] == pytest.approx(40 / 60)
    assert fields["brightness"]["flagged"] is True
    assert fields["camera"]["flagged"] is True  # disjoint categories
    assert report["embedding"]["flagged"] is True
    assert set(report["flagged"]) >= {"brightness", "camera", "embedding"}
    assert report["embedding"]["analysis"] is None  # no map yet: the slices were clustered together
    assert report["embedding"]["cluster_psi"] > 0.2
    job = analyse(space, clusters=2)
    with_map = labeler_client.get(
        f"/api/v1/datasets/{dataset.id}/drift",
        {"embedding": str(space.id), "a.metadata.camera": "a", "b.metadata.camera": "b"},
    ).json()["embedding"]
    assert with_map["analysis"] == Job.objects.get(pk=job).result["analysis"]
    shares = with_map["cluster_shares"]
    assert len(shares) == 2 and with_map["cluster_psi"] > 0.2
    major_a = max(shares, key=lambda c: c["share_a"])
    major_b = max(shares, key=lambda c: c["share_b"])
    assert major_a["cluster"] != major_b["cluster"] and major_a["share_a"] > 0.9 and major_b["share_b"] > 0.9
    same = labeler_client.get(
        f"/api/v1/datasets/{dataset.id}/drift",
        {"embedding": str(space.id), "a.metadata.camera": "a", "b.metadata.camera": "a"},
    ).json()
    assert same["flagged"] == []


def test_drift_by_import_time_window_and_bad_input(labeler_client, dataset, make_rows):
    rows = make_rows(dataset, 5)
    cut = rows[-1].created_at.isoformat()
    url = f"/api/v1/datasets/{dataset.id}/drift"
    assert labeler_client.get(url).status_code == 400
    assert labeler_client.get(url, {"a.metadata.camera": "zzz", "b.metadata.camera": "a"}).status_code == 400
    assert labeler_client.get(url, {"a.created_before": "yesterday", "b.metadata.camera": "a"}).status_code == 400
    response = labeler_client.get(url, {"a.created_before": "2999-01-01T00:00:00Z", "b.created_after": cut})
    assert response.status_code == 200, response.json()
    assert response.json()["a"]["rows"] == 5


def test_slices_and_sending_to_a_registered_target(
    manager, labeler_client, client_for, other_admin, dataset, make_rows
):
    rows = make_rows(dataset, 4)
    sent: list = []

    def send(actor, row_ids, option, name):
        sent.append((actor.username, sorted(row_ids), option, name))
        return {"batch": "b-1", "rows": len(row_ids)}

    target = registry.SelectionTarget(
        key="test.batch", label="Batch in a project", options=lambda actor: [{"value": "p1", "label": "P1"}], send=send
    )
    registry.register_selection_target(target)
    try:
        response = labeler_client.post(
            "/api/v1/slices",
            {"name": "dark ones", "dataset": str(dataset.id), "data_rows": [str(rows[0].id), str(rows[2].id)]},
            format="json",
        )
        assert response.status_code == 201, response.json()
        slice_id = response.json()["id"]
        targets = labeler_client.get("/api/v1/selection_targets").json()["results"]
        assert [t for t in targets if t["key"] == "test.batch"] == [
            {"key": "test.batch", "label": "Batch in a project", "options": [{"value": "p1", "label": "P1"}]}
        ]
        result = labeler_client.post(
            f"/api/v1/slices/{slice_id}/send", {"target": "test.batch", "option": "p1"}, format="json"
        )
        assert result.status_code == 200, result.json()
        assert result.json()["result"] == {"batch": "b-1", "rows": 2}
        assert sent[0][1] == sorted([str(rows[0].id), str(rows[2].id)]) and sent[0][2:] == ("p1", "dark ones")
        assert (
            labeler_client.post(f"/api/v1/slices/{slice_id}/send", {"target": "nope"}, format="json").status_code == 404
        )
        by_filter = labeler_client.post(
            "/api/v1/slices",
            {"name": "cam a", "dataset": str(dataset.id), "filters": {"metadata.camera": "a"}},
            format="json",
        )
        assert by_filter.status_code == 201
        labeler_client.post(f"/api/v1/slices/{by_filter.json()['id']}/send", {"target": "test.batch"}, format="json")
        assert len(sent[1][1]) == 4
        # another organization sees nothing and cannot send
        other = client_for(other_admin)
        assert other.get(f"/api/v1/slices/{slice_id}").status_code == 404
        assert other.post(f"/api/v1/slices/{slice_id}/send", {"target": "test.batch"}, format="json").status_code == 404
        assert other.get("/api/v1/slices").json()["results"] == []
        # rows of another org or unknown ids are refused
        bad = labeler_client.post("/api/v1/slices", {"name": "x", "data_rows": ["nope"]}, format="json")
        assert bad.status_code == 400
        bad = labeler_client.post("/api/v1/slices", {"name": "x", "filters": {"metadata.zzz": "1"}}, format="json")
        assert bad.status_code == 400
        # only the creator or a manager deletes
        assert client_for(manager).delete(f"/api/v1/slices/{slice_id}").status_code == 204
    finally:
        registry.unregister_selection_target("test.batch")


def test_lineage_shows_import_embedding_slice_and_registered_sections(
    manager, labeler_client, client_for, other_admin, dataset, space, make_rows
):
    rows = make_rows(dataset, 2)
    put_vectors(manager, space, rows, np.ones((2, 8)))
    catalog_services.slice_create(actor=manager, name="pick", dataset=dataset, row_ids=[str(rows[0].id)])

    def labels(actor, data_row):
        return registry.LineageSection(key="labels", title="Labels", items=[{"label": "L1", "value": "approved"}])

    registry.register_lineage_section(labels)
    try:
        response = labeler_client.get(f"/api/v1/data_rows/{rows[0].id}/lineage")
        assert response.status_code == 200, response.json()
        sections = {s["key"]: s for s in response.json()["sections"]}
        origin = {i["label"]: i for i in sections["origin"]["items"]}
        assert origin["Dataset"]["value"] == "street scenes"
        assert origin["Source"]["value"] == "inline"
        assert origin["Imported by"]["value"] == manager.username
        assert [i["label"] for i in sections["embeddings"]["items"]] == ["clip"]
        assert [i["label"] for i in sections["slices"]["items"]] == ["pick"]
        assert sections["labels"]["items"][0]["value"] == "approved"
        assert client_for(other_admin).get(f"/api/v1/data_rows/{rows[0].id}/lineage").status_code == 404
    finally:
        registry.unregister_lineage_section(labels)


@pytest.mark.parametrize(
    "method,path",
    [
        ("get", "/api/v1/datasets/{dataset}/similar?embedding={space}&data_row={row}"),
        ("get", "/api/v1/datasets/{dataset}/projection?embedding={space}"),
        ("get", "/api/v1/datasets/{dataset}/outliers?embedding={space}"),
        ("get", "/api/v1/datasets/{dataset}/drift?a.metadata.camera=a&b.metadata.camera=a"),
        ("post", "/api/v1/embeddings/{space}/analyses"),
        ("post", "/api/v1/datasets/{dataset}/embed"),
        ("get", "/api/v1/embeddings/{space}/similar?data_row={row}"),
    ],
)
def test_every_catalog_endpoint_is_404_for_another_organization(
    client_for, other_admin, dataset, space, make_rows, method, path
):
    rows = make_rows(dataset, 1)
    url = path.format(dataset=dataset.id, space=space.id, row=rows[0].id)
    response = getattr(client_for(other_admin), method)(url, {} if method == "post" else None, format="json")
    assert response.status_code == 404, (url, response.json())


def test_drift_on_datetime_and_tag_fields(manager, labeler_client, dataset):
    from apps.datasets import services as ds

    ds.metadata_field_create(actor=manager, name="captured_at", kind="datetime")
    from tests.catalog.conftest import import_rows

    rows = [
        {
            "global_key": f"d-{i}",
            "row_data": "t",
            "media_type": "text",
            "metadata": {
                "camera": "a" if i < 30 else "b",
                "captured_at": f"2026-0{1 if i < 30 else 6}-{(i % 28) + 1:02d}T00:00:00Z",
                "tag": ["night"] if i >= 30 else ["day"],
            },
        }
        for i in range(60)
    ]
    import_rows(manager, dataset, rows)
    report = labeler_client.get(
        f"/api/v1/datasets/{dataset.id}/drift", {"a.metadata.camera": "a", "b.metadata.camera": "b"}
    ).json()
    fields = {f["field"]: f for f in report["fields"]}
    assert fields["captured_at"]["ks"] == pytest.approx(1.0)  # January vs June: disjoint
    assert fields["tag"]["flagged"] is True
    assert {c["value"] for c in fields["tag"]["categories"]} == {"day", "night"}
    assert report["embedding"] is None
