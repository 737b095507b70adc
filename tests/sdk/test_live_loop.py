"""The SDK and the CLI against a live server (pytest-django's live server on the test PostgreSQL) with a real
`qcluster` worker running the background jobs: the whole loop a pipeline scripts."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django_q.conf import Conf
from tdp_sdk import BadRequest, Classification, Client, NotFound, OntologyBuilder, RowErrors

from apps.accounts.models import User
from tests.factories import TEST_PASSWORD
from tests.worker import running_qcluster

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

ROWS = 10_000
LABELED = 20


def _box(i: int) -> dict[str, float]:
    return {"top": 40 + i, "left": 60 + 2 * i, "height": 120, "width": 160}


@pytest.fixture
def worker(monkeypatch):
    monkeypatch.setattr(Conf, "SYNC", False)  # the live server enqueues; the qcluster process runs the jobs
    with running_qcluster() as process:
        yield process


def test_the_whole_loop_through_the_sdk(live_server, org_admin, worker, tmp_path):
    admin = Client.login(live_server.url, org_admin.username, TEST_PASSWORD)
    assert admin.accounts.me()["username"] == org_admin.username

    # Ontology from the builder: a box with a required nested question, and a global checklist.
    kind = Classification("kind", "radio", required=True).option("sedan").option("truck")
    tree = OntologyBuilder("street").tool("car", "bbox", color="#ff0000", questions=[kind])
    tree.question(Classification("tags", "checklist").option("night").option("blurry"))
    ontology = admin.ontologies.create(tree)
    assert ontology["version"] == 1 and ontology["tools"][0]["classifications"][0]["schema_id"]

    # 10,000 rows from a generator, in requests of 2,500; re-importing upserts.
    dataset = admin.datasets.create("street scenes")
    rows = (
        {
            "global_key": f"scene-{i:05d}.jpg",
            "row_data": f"https://images.example.com/scene-{i:05d}.jpg",
            "media_type": "image",
            "width": 640,
            "height": 480,
        }
        for i in range(ROWS)
    )
    progress: list[int] = []
    result = admin.datasets.import_rows(
        dataset["id"], rows, rows_per_request=2_500, progress=lambda d, t: progress.append(d)
    )
    assert (result["created"], result["failed"], progress[-1]) == (ROWS, 0, ROWS)
    assert len(progress) == 4
    listed = list(itertools.islice(admin.datasets.data_rows(dataset["id"], page_size=500), 1_200))
    assert len({row["global_key"] for row in listed}) == 1_200, "the lazy iterator follows the cursors (3 pages)"

    # A bad row is reported by its index over the whole iterable, and raised on request; the good ones stay.
    with pytest.raises(RowErrors) as caught:
        admin.datasets.import_rows(
            dataset["id"],
            [{"global_key": "fine", "row_data": "https://x.example/1.jpg"}, {"global_key": "broken"}],
            raise_on_errors=True,
        )
    assert caught.value.errors[0]["index"] == 1 and caught.value.result["created"] == 1

    # Project, labeler and reviewer, a batch of 20 rows.
    project = admin.projects.create("street", ontology["id"], review={"sample_rate": 1.0})
    labeler_user = admin.accounts.create_user("sdk-labeler", "Labeler-pass-2026!", "labeler")
    reviewer_user = admin.accounts.create_user("sdk-reviewer", "Reviewer-pass-2026!", "reviewer")
    admin.projects.add_member(project["id"], labeler_user["id"], "labeler")
    admin.projects.add_member(project["id"], reviewer_user["id"], "reviewer")
    keys = [f"scene-{i:05d}.jpg" for i in range(LABELED)]
    batch = admin.projects.create_batch(project["id"], "first", global_keys=keys, priority=3)
    assert batch["id"]

    # Scripted labeling: claim and submit until the queue is empty.
    labeler = Client.login(live_server.url, "sdk-labeler", "Labeler-pass-2026!")
    submitted: dict[str, int] = {}
    while (claim := labeler.projects.claim(project["id"])) is not None:
        key = claim["data_row"]["global_key"]
        i = keys.index(key)
        if not submitted:  # bad input is refused with the API's error shape, and the task stays claimable
            with pytest.raises(BadRequest) as refused:
                labeler.projects.submit(claim["task"], [{"name": "no-such-tool", "point": {"x": 1, "y": 1}}])
            assert refused.value.code and refused.value.message
        annotation = {
            "name": "car",
            "bbox": _box(i),
            "classifications": [{"name": "kind", "answer": {"name": "sedan"}}],
        }
        label = labeler.projects.submit(claim["task"], [annotation], seconds_spent=3.5)
        submitted[key] = i
        assert label["id"]
    assert len(submitted) == LABELED

    # Review: approve every label.
    reviewer = Client.login(live_server.url, "sdk-reviewer", "Reviewer-pass-2026!")
    approved = 0
    while (item := reviewer.projects.review_next(project["id"])) is not None:
        reviewer.projects.review(item["label"]["id"], "approve")
        approved += 1
    assert approved == LABELED
    assert admin.projects.overview(project["id"])["done"] == LABELED

    # Export: NDJSON streamed as dicts, COCO through a background job on the worker, written to a file.
    exported = list(admin.exports.stream(project["id"]))
    labeled_rows = [row for row in exported if row["data_row"]["global_key"] in submitted]
    assert len(labeled_rows) == LABELED
    job_progress: list[dict] = []
    coco_path = admin.exports.export_to_file(
        project["id"], tmp_path / "coco.json", format="coco", progress=job_progress.append, timeout=120
    )
    coco = json.loads(coco_path.read_text())
    assert len(coco["annotations"]) == LABELED and {c["name"] for c in coco["categories"]} >= {"car"}
    first = next(
        a
        for a in coco["annotations"]
        if a["image_id"] == next(im["id"] for im in coco["images"] if im["file_name"].endswith("scene-00003.jpg"))
    )
    assert first["bbox"] == [66, 43, 160, 120], "COCO bbox is [left, top, width, height] of the submitted box"
    assert job_progress and job_progress[-1]["status"] == "succeeded"

    # Model run: predictions for the 20 rows (two of them misses), ground truth, metrics.
    model = admin.models.create("detector", ontology["id"])
    run = admin.models.create_run(model["id"], "v1")
    predictions = [
        {
            "name": "car",
            "bbox": _box(i),
            "confidence": 0.9,
            "classifications": [{"name": "kind", "answer": {"name": "sedan"}}],
            "data_row": {"global_key": key},
        }
        for key, i in submitted.items()
        if i >= 2
    ]
    imported = admin.models.import_predictions(run["id"], predictions)
    assert imported.get("failed", 0) == 0 and not imported.get("errors"), imported
    admin.models.attach_ground_truth(run["id"], project["id"])
    metrics = admin.models.metrics(run["id"], iou=0.5)
    car = next(c for c in metrics["classes"] if c["name"] == "car")
    assert car["precision"] == pytest.approx(1.0) and car["recall"] == pytest.approx(18 / 20)

    with pytest.raises(NotFound):
        admin.projects.get("00000000-0000-7000-8000-000000000000")


def test_the_cli_imports_a_file_streamed_and_exports(live_server, org_admin, tmp_path):
    # Sync jobs (no worker): the CLI's own behaviour is under test here.
    admin = Client.login(live_server.url, org_admin.username, TEST_PASSWORD)
    dataset = admin.datasets.create("cli")
    source = tmp_path / "rows.ndjson"
    with source.open("w") as out:
        for i in range(3_000):
            out.write(json.dumps({"global_key": f"cli-{i}", "row_data": f"https://x.example/{i}.jpg"}) + "\n")
        out.write('{"global_key": "cli-bad"}\n')
    env = {**os.environ, "TDP_CONFIG": str(tmp_path / "config.json"), "TDP_PASSWORD": TEST_PASSWORD}
    tdp = [sys.executable, "-m", "tdp_sdk.cli"]

    login = subprocess.run(
        [*tdp, "--url", live_server.url, "--json", "login", "--username", org_admin.username],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert login.returncode == 0, login.stderr
    config = Path(env["TDP_CONFIG"])
    assert oct(config.stat().st_mode & 0o777) == "0o600" and json.loads(config.read_text())["token"]

    imported = subprocess.run(
        [*tdp, "--json", "--progress", "import", dataset["id"], str(source)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert imported.returncode == 0, imported.stderr
    answer = json.loads(imported.stdout)
    assert (answer["created"], answer["failed"]) == (3_000, 1)
    assert answer["errors"][0]["index"] == 3_000 and answer["errors"][0]["global_key"] == "cli-bad"
    assert "100.0%" in imported.stderr, "a progress bar reached the end of the file"

    strict = subprocess.run(
        [*tdp, "import", "--strict", dataset["id"], str(source)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert strict.returncode == 1 and "line 3000" in strict.stderr

    listed = subprocess.run(
        [*tdp, "--json", "datasets", "ls"], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert dataset["id"] in {d["id"] for d in json.loads(listed.stdout)}

    missing = subprocess.run(
        [*tdp, "--json", "jobs", "show", "00000000-0000-7000-8000-000000000000"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert missing.returncode == 2 and json.loads(missing.stderr)["error"]["code"] == "not_found"
    assert User.objects.filter(username=org_admin.username).exists()


def test_a_parallel_file_import_answers_as_one_request_does(live_server, org_admin, tmp_path, monkeypatch):
    """Cut into three parts sent side by side, a file with blank lines and refused rows gives the same counts and
    the same error indexes (counted from the file's first row) as the same file in one request."""
    from tdp_sdk.resources import datasets as sdk_datasets

    monkeypatch.setattr(sdk_datasets, "PARALLEL_MIN_BYTES", 1)
    admin = Client.login(live_server.url, org_admin.username, TEST_PASSWORD)

    def rows_file(prefix: str) -> Path:  # global keys are unique per organization: one prefix per import
        source = tmp_path / f"{prefix}.ndjson"
        with source.open("w") as out:
            for i in range(900):
                if i % 97 == 0:
                    out.write("\n   \n")  # blank lines: skipped and not counted by the server
                row = {"global_key": f"{prefix}-{i}", "row_data": f"https://x.example/{i}.jpg"}
                if i % 301 == 0:
                    row = {"global_key": f"{prefix}-{i}"}  # refused: no row_data
                out.write(("{not json" if i % 250 == 7 else json.dumps(row)) + "\n")
        return source

    def errors(result: dict, prefix: str) -> list[tuple[int, str]]:
        return [(e["index"], (e.get("global_key") or "").removeprefix(prefix)) for e in result["errors"]]

    whole = admin.datasets.import_file(admin.datasets.create("whole")["id"], rows_file("one"), parallel=1)
    sent: list[tuple[int, int]] = []
    source = rows_file("three")
    dataset = admin.datasets.create("parts")["id"]
    parts = admin.datasets.import_file(dataset, source, parallel=3, progress=lambda n, total: sent.append((n, total)))
    assert (whole["created"], whole["failed"]) == (893, 7), whole
    counts = ("created", "updated", "failed")
    assert {k: parts[k] for k in counts} == {k: whole[k] for k in counts}
    assert errors(parts, "three") == errors(whole, "one") and len(errors(whole, "one")) == 7
    assert sent[-1] == (source.stat().st_size, source.stat().st_size)
