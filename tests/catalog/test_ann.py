"""The approximate nearest-neighbour graph of large spaces (apps/catalog/ann.py): recall against exact search, the
threshold, background build, persistence and incremental updates, masked queries."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from apps.catalog import ann
from apps.catalog import selectors as catalog_selectors
from apps.catalog import services as catalog_services
from apps.catalog.index import get_index
from apps.catalog.models import EmbeddingSpace

pytestmark = pytest.mark.django_db

DIMS = 32


@pytest.fixture(autouse=True)
def _ann_settings(settings, tmp_path):
    settings.TDP_CATALOG_ANN_MIN_VECTORS = 200
    settings.TDP_CATALOG_ANN_DIR = str(tmp_path / "ann")
    with ann._lock:
        ann._graphs.clear()
    yield
    for thread in threading.enumerate():
        if thread.name.startswith("ann-"):
            thread.join(timeout=30)
    with ann._lock:
        ann._graphs.clear()


def clustered(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((20, DIMS))
    return centers[rng.integers(0, 20, n)] + 0.3 * rng.standard_normal((n, DIMS))


@pytest.fixture
def big(manager, dataset, make_rows):
    rows = make_rows(dataset, 600, prefix="v")
    space = catalog_services.embedding_space_create(actor=manager, name="big", dims=DIMS)
    vectors = clustered(600)
    by_row = {str(r.pk): v for r, v in zip(rows, vectors, strict=True)}
    catalog_services.embedding_vectors_store(space=space, vectors=by_row)
    return space, rows, vectors


def _ids(neighbors) -> list[str]:
    return [str(n.data_row.pk) for n in neighbors]


def test_recall_at_10_against_exact_search(manager, big):
    space, rows, _ = big
    ann.build_now(get_index(space))
    assert catalog_selectors.uses_approximate_index(space)
    recalls = []
    for row in rows[::12]:
        exact = catalog_selectors.similar_rows(actor=manager, space=space, data_row=row, k=10, exact=True)
        approx = catalog_selectors.similar_rows(actor=manager, space=space, data_row=row, k=10)
        assert str(row.pk) not in _ids(approx)  # the query row itself is left out, as in exact search
        recalls.append(len(set(_ids(exact)) & set(_ids(approx))) / 10)
        shared = {str(n.data_row.pk): n.score for n in exact}
        for n in approx:  # re-ranked with the exact float32 cosine: the same score as exact search gives
            if str(n.data_row.pk) in shared:
                assert n.score == pytest.approx(shared[str(n.data_row.pk)], abs=1e-5)
    assert np.mean(recalls) >= 0.95


def test_below_the_threshold_search_stays_exact(manager, big, settings):
    space, _, _ = big
    settings.TDP_CATALOG_ANN_MIN_VECTORS = 10_000
    assert ann.searcher(get_index(space)) is None
    assert not [t for t in threading.enumerate() if t.name.startswith("ann-")]  # nothing built either


def test_first_query_answers_exactly_and_builds_in_the_background(manager, big):
    space, rows, _ = big
    exact = catalog_selectors.similar_rows(actor=manager, space=space, data_row=rows[0], k=10, exact=True)
    first = catalog_selectors.similar_rows(actor=manager, space=space, data_row=rows[0], k=10)
    assert _ids(first) == _ids(exact)  # no graph yet: the exact answer
    for thread in threading.enumerate():
        if thread.name == f"ann-{space.pk}":
            thread.join(timeout=30)
    assert catalog_selectors.uses_approximate_index(space)
    graph_file, meta_file = ann._paths(str(space.pk))
    assert graph_file.exists() and meta_file.exists()


def test_graph_is_persisted_and_updated_incrementally(manager, dataset, make_rows, big):
    space, rows, vectors = big
    first = ann.build_now(get_index(space))
    assert first.rebuilt and first.count == 600
    ann.forget(space.pk)  # as a new process would: the graph comes from its file
    more = make_rows(dataset, 100, prefix="w")
    added = clustered(100, seed=1)
    by_row = {str(r.pk): v for r, v in zip(more, added, strict=True)}
    catalog_services.embedding_vectors_store(space=space, vectors=by_row)
    space = EmbeddingSpace.objects.get(pk=space.pk)
    extended = ann.build_now(get_index(space))
    assert not extended.rebuilt and extended.count == 700 and extended.version == space.version
    # a changed vector is replaced in place: the row is found next to its new neighbourhood
    moved = vectors[400].copy()
    catalog_services.embedding_vectors_store(space=space, vectors={str(rows[300].pk): moved})
    space = EmbeddingSpace.objects.get(pk=space.pk)
    patched = ann.build_now(get_index(space))
    assert not patched.rebuilt and patched.count == 700
    near = catalog_selectors.similar_rows(actor=manager, space=space, data_row=rows[400], k=3)
    assert str(rows[300].pk) in _ids(near)


def test_removed_vector_rebuilds_the_graph(manager, big):
    space, rows, _ = big
    ann.build_now(get_index(space))
    space.vectors.filter(data_row=rows[10]).delete()
    EmbeddingSpace.objects.filter(pk=space.pk).update(version=space.version + 1)
    space = EmbeddingSpace.objects.get(pk=space.pk)
    graph = ann.build_now(get_index(space))
    assert graph.rebuilt and graph.count == 599


def test_masked_query_falls_back_to_exact_when_the_graph_has_too_few(manager, big):
    space, _, _ = big
    ann.build_now(get_index(space))
    index = get_index(space)
    mask = np.zeros(len(index), dtype=bool)
    mask[[3, 7]] = True  # two allowed rows: the graph's candidates hold fewer than k of them
    graph = ann.searcher(index)
    assert graph is not None
    assert ann.search(graph, index, index.matrix[0], 5, mask=mask, exclude=0) is None
    wide = np.ones(len(index), dtype=bool)
    found = ann.search(graph, index, index.matrix[0], 5, mask=wide, exclude=0)
    assert found is not None and len(found[0]) == 5 and 0 not in found[0]
