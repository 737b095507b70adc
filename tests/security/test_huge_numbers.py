"""Numbers too large for a float (and non-finite ones) in every field that takes a number answer 400 in the error
shape, never a 500 (`OverflowError`): label `seconds_spent`, issue `position`, prediction and pre-label
`confidence`, embedding vectors and similarity queries, project settings numbers."""

from __future__ import annotations

import json
import uuid

import pytest

from apps.accounts import services as account_services
from apps.labeling.models import Task
from apps.predictions.models import Prediction, Prelabel
from tests.security.world import World

pytestmark = pytest.mark.django_db

HUGE = "1" + "0" * 400  # a JSON integer no float can hold
BIG_BUT_FLOAT = "18446744073709551616"  # 2**64: a float holds it; fields with a range refuse it, others store it
HUGE_VALUES = [HUGE, "-" + HUGE, "1e400", "-1e400", BIG_BUT_FLOAT]


@pytest.fixture
def admin(world: World, client):
    token = account_services.api_token_create(user=world.admin).key
    return {"HTTP_AUTHORIZATION": f"Token {token}"}


def send(client, headers, method: str, url: str, body: str, content_type: str = "application/json"):
    response = getattr(client, method)(url, data=body.encode(), content_type=content_type, **headers)
    assert response.status_code < 500, (url, body[:200], response.content[:500])
    if response.status_code >= 400:
        assert set(response.json()["error"]) == {"code", "message", "details"}
    return response


def test_json_bodies(world: World, client, admin):
    for number in HUGE_VALUES:
        json_bodies(world, client, admin, number)


def json_bodies(world: World, client, admin, number: str) -> None:
    ids = world.ids
    open_task = Task.objects.get(pk=ids["open_task"])
    cases = [
        ("post", f"/api/v1/tasks/{open_task.pk}/labels", f'{{"annotations": [], "seconds_spent": {number}}}'),
        ("post", f"/api/v1/labels/{ids['label']}/issues", f'{{"text": "x", "position": {{"x": {number}, "y": 1}}}}'),
        ("post", f"/api/v1/tasks/{ids['task']}/issues", f'{{"text": "x", "position": {{"x": 1, "y": {number}}}}}'),
        ("patch", f"/api/v1/projects/{ids['project']}", f'{{"review": {{"sample_rate": {number}}}}}'),
        ("patch", f"/api/v1/projects/{ids['project']}", f'{{"routing": {{"due_hours": {number}}}}}'),
        ("patch", f"/api/v1/projects/{ids['project']}", f'{{"quality": {{"consensus_labelers": {number}}}}}'),
        (
            "post",
            f"/api/v1/embeddings/{ids['space']}/vectors",
            f'[{{"data_row": "{ids["data_row"]}", "vector": [{number}, 0, 0, 0]}}]',
        ),
        ("post", f"/api/v1/embeddings/{ids['space']}/similar", f'{{"vector": [{number}, 0, 0, 0], "k": 3}}'),
        ("post", f"/api/v1/embeddings/{ids['space']}/similar", f'{{"data_row": "{ids["data_row"]}", "k": {number}}}'),
        (
            "post",
            f"/api/v1/datasets/{ids['dataset']}/similar",
            f'{{"embedding": "{ids["space"]}", "vector": [{number}, 1, 1, 1]}}',
        ),
        (
            "post",
            "/api/v1/projects",
            f'{{"name": "n", "ontology": "{ids["ontology"]}", "quality": {{"benchmark_rate": {number}}}}}',
        ),
    ]
    for method, url, body in cases:
        response = send(client, admin, method, url, body)
        if number != BIG_BUT_FLOAT:  # beyond a float: refused while parsing, whatever the field
            assert response.status_code == 400, (url, body[:120], response.content[:300])


def test_ndjson_confidence(world: World, client, admin):
    """The line is refused (a per-line error naming it); nothing is stored for it."""
    ids = world.ids
    for number in HUGE_VALUES:
        line = (
            f'{{"uuid": "{uuid.uuid4()}", "data_row": {{"id": "{ids["data_row"]}"}}, "name": "vehicle", '
            f'"bbox": {{"top": 1, "left": 1, "height": 5, "width": 5}}, "confidence": {number}}}\n'
        )
        for url in (f"/api/v1/model_runs/{ids['run']}/predictions", f"/api/v1/projects/{ids['project']}/prelabels"):
            before = (Prediction.objects.count(), Prelabel.objects.count())
            response = send(client, admin, "post", url, line, content_type="application/x-ndjson")
            text = json.dumps(response.json())
            assert '"line": 1' in text or response.status_code == 400, text[:400]
            assert (Prediction.objects.count(), Prelabel.objects.count()) == before


def test_similarity_query_strings(world: World, client, admin):
    ids = world.ids
    urls = [
        f"/api/v1/embeddings/{ids['space']}/similar?data_row={ids['data_row']}&k={n}" for n in ("1e999", HUGE, "nan")
    ]
    urls += [
        f"/api/v1/datasets/{ids['dataset']}/similar?embedding={ids['space']}&data_row={ids['data_row']}&k={n}"
        for n in ("1e999", HUGE)
    ]
    for url in urls:
        response = client.get(url, **admin)
        assert response.status_code == 400, (url, response.content[:300])
