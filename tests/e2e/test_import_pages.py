"""Setup without the API, in Chromium. A team manager uploads 20 images (one dropped connection on the way, then the
same folder again: stored files are skipped), imports a 1,000-line CSV with bad lines (progress, per-row errors, the
errors as a CSV file) and queues the rows in a project as a batch. Then creates a model run, uploads its
predictions (COCO results) and attaches the ground truth, and the run page shows the metrics. The project is on a
boxes-only ontology (the `ontology` fixture below)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from playwright.sync_api import expect

from apps.datasets import services as dataset_services
from apps.datasets.models import DataRow
from apps.diagnostics.models import GroundTruth
from apps.labeling import services as labeling_services
from apps.labeling.models import Batch, Task
from apps.ontologies import services as ontology_services
from apps.predictions.models import ModelRun, Prediction
from tests.datasets.conftest import aws_env, moto_server  # noqa: F401
from tests.datasets.test_storage_prefix_import import integration, prefix_bucket  # noqa: F401
from tests.diagnostics.conftest import GT, PREDS, label_all
from tests.e2e.test_login import login
from tests.factories import TEST_PASSWORD
from tests.labeling.conftest import make_rows, members, project, project_factory  # noqa: F401

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Records every text the progress summaries showed, so the test sees the progress, not only the end state.
WATCH_SUMMARIES = """
window.__summaries = [];
new MutationObserver((records) => {
  for (const r of records) {
    const node = r.target.nodeType === 1 ? r.target : r.target.parentElement;
    if (node && node.id && node.id.endsWith("-summary")) window.__summaries.push(node.id + ": " + node.textContent);
  }
}).observe(document, {subtree: true, childList: true, characterData: true});
"""


def images(folder: Path, count: int) -> list[str]:
    paths = []
    for i in range(count):
        image = Image.new("RGB", (320, 240), (30 + 10 * i, 90, 160))
        ImageDraw.Draw(image).rectangle((20 + i, 30, 120 + i, 110), fill=(240, 200, 40))
        path = folder / f"street-{i:02d}.png"
        image.save(path)
        paths.append(str(path))
    return paths


def rows_csv(folder: Path, lines: int, bad: set[int]) -> Path:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["global_key", "row_data", "media_type"])
    for i in range(lines):
        writer.writerow([f"csv-{i:04d}", "not a url" if i in bad else f"https://img.example.com/{i}.jpg", "image"])
    path = folder / "rows.csv"
    path.write_text(out.getvalue())
    return path


@pytest.fixture
def manager(org, make_user):
    return make_user(role="team_manager", organization=org, username="mia")


def test_manager_uploads_images_imports_a_csv_and_makes_a_batch(page, manager, project, tmp_path, settings):  # noqa: F811
    settings.MEDIA_ROOT = str(tmp_path / "media")
    dataset = dataset_services.dataset_create(actor=manager, name="street scenes")
    page.add_init_script(WATCH_SUMMARIES)
    login(page, manager.username, TEST_PASSWORD)
    page.wait_for_url("**/")
    page.goto(f"/projects/{project.id}/")
    page.click("text=Import data")
    page.wait_for_url("**/datasets/?project=*")
    page.click("#datasets >> text=Import data")
    page.wait_for_url(f"**/datasets/{dataset.id}/import/?project={project.id}")

    # 20 images; the first upload request's connection drops, and the page retries it.
    dropped = []

    def drop_first(route):
        if not dropped:
            dropped.append(route.request.url)
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route("**/api/v1/datasets/*/uploads", drop_first)
    files = images(tmp_path, 21)
    page.set_input_files("#upload-files", files[:20])
    assert page.locator("#upload-table tbody tr").count() == 20
    page.click("#upload-start")
    expect(page.locator("#upload-summary")).to_contain_text("20 of 20 files", timeout=60_000)
    assert page.locator("#upload-summary").inner_text() == "20 of 20 files · 20 uploaded"
    assert dropped and page.locator("#upload-table tr[data-state=done]").count() == 20
    assert page.evaluate(
        "document.getElementById('upload-progress').value === document.getElementById('upload-progress').max"
    )
    seen = page.evaluate("window.__summaries")
    assert any("upload-summary: 5 of 20 files" in s for s in seen), seen  # the count went up file by file
    assert DataRow.objects.filter(dataset=dataset).count() == 20
    assert DataRow.objects.get(global_key="street-07.png").row_data.startswith(
        f"upload://uploads/{dataset.organization_id}/"
    )

    # Started again with one more file (as after closing the tab): the 20 stored ones are skipped.
    page.click("#upload-clear")
    page.set_input_files("#upload-files", files)
    page.click("#upload-start")
    expect(page.locator("#upload-summary")).to_contain_text("21 of 21 files", timeout=60_000)
    assert page.locator("#upload-summary").inner_text() == "21 of 21 files · 1 uploaded · 20 already stored"
    assert DataRow.objects.filter(dataset=dataset).count() == 21

    # A file that is not an image is left out with a reason, before anything is sent.
    (tmp_path / "notes.txt").write_text("hello")
    page.set_input_files("#upload-files", [str(tmp_path / "notes.txt")])
    assert "Not an image file" in page.locator("#upload-table tr[data-state=error] .status").inner_text()

    # A 1,000-line CSV with 7 bad lines, imported as a background job (the sync limit is lowered for the test).
    settings.TDP_IMPORT_SYNC_MAX_BYTES = 10_000
    bad = {3, 99, 250, 500, 501, 777, 999}
    page.click("#tab-rows")
    page.set_input_files("#rows-file", str(tmp_path / "notes.txt"))
    assert "Choose a .csv" in page.locator("#rows-message").inner_text()
    assert page.locator("#rows-start").is_disabled()
    page.set_input_files("#rows-file", str(rows_csv(tmp_path, 1000, bad)))
    page.click("#rows-start")
    page.locator("#rows-errors").wait_for()
    assert page.locator("#rows-summary").inner_text() == "993 created · 0 updated · 7 not imported"
    assert page.locator("#rows-phase").inner_text() == "Imported rows.csv"
    table = page.locator("#rows-error-table tbody tr")
    assert table.count() == 7
    assert [table.nth(i).locator("td").nth(1).inner_text() for i in range(7)] == [f"csv-{i:04d}" for i in sorted(bad)]
    assert "row_data" in table.first.locator("td").nth(2).inner_text()
    seen = page.evaluate("window.__summaries")
    assert any(s.startswith("rows-summary:") and " of " in s for s in seen), seen  # bytes sent / imported
    with page.expect_download() as download_info:
        page.click("#rows-errors-csv")
    path = download_info.value.path()
    written = list(csv.reader(Path(path).read_text(encoding="utf-8").splitlines()))
    assert written[0] == ["index", "global_key", "message"] and len(written) == 8
    assert DataRow.objects.filter(dataset=dataset).count() == 21 + 993

    # A broken body: a clear message, nothing stored.
    (tmp_path / "broken.json").write_text('[{"global_key": "x", ')
    page.set_input_files("#rows-file", str(tmp_path / "broken.json"))
    assert not page.locator("#rows-errors").is_visible() and not page.locator("#rows-progress-box").is_visible()
    page.click("#rows-start")
    page.locator("#rows-message").wait_for()
    assert page.locator("#rows-message").inner_text().startswith("Nothing was imported:")

    # The batch: every row of the dataset that is not in the project yet, priority 2.
    page.check("#scope-dataset")
    page.select_option("#batch-project", str(project.id))
    page.fill("#batch-name", "first import")
    page.select_option("#batch-priority", "2")
    page.click("#batch-submit")
    expect(page.locator("#batch-result")).to_contain_text("queued", timeout=60_000)
    assert "1014 row(s) queued in" in page.locator("#batch-result").inner_text()
    batch = Batch.objects.get(project=project, name="first import")
    assert batch.priority == 2 and Task.objects.filter(batch=batch).count() == 1014
    page.click(f"#batch-result a[href='/projects/{project.id}/']")
    page.wait_for_url(f"**/projects/{project.id}/")


@pytest.fixture
def ontology(org, org_admin):
    """Boxes only: a detector's COCO results answer no nested questions (the vehicles ontology requires `kind`)."""
    return ontology_services.ontology_create(
        organization=org,
        name="street boxes",
        tools=[{"name": "vehicle", "tool": "bbox"}],
        classifications=[],
        actor=org_admin,
    )


def boxes_document(i: int) -> list[dict]:
    return [{"name": "vehicle", "bbox": {"left": b[0], "top": b[1], "width": b[2], "height": b[3]}} for b in GT[i]]


def test_manager_creates_a_run_uploads_coco_results_and_sees_metrics(
    page,
    manager,
    project,  # noqa: F811
    members,  # noqa: F811
    make_rows,  # noqa: F811
    org_admin,
    tmp_path,
):
    rows = make_rows(4)
    labeling_services.batch_create(actor=org_admin, project=project, name="all", data_row_ids=[str(r.id) for r in rows])
    label_all(project, members["labeler"], rows, document=boxes_document)
    login(page, manager.username, TEST_PASSWORD)
    page.wait_for_url("**/")
    page.goto("/model_runs/")
    assert page.locator("#no-runs").is_visible()
    page.goto(f"/projects/{project.id}/")
    page.click("text=New model run")
    page.wait_for_url("**/model_runs/new/?project=*")
    assert page.locator("#new-model-fields").is_visible()
    assert "vehicle" in page.locator("#box-tools-hint").inner_text()
    page.fill("#model-name", "street-detector")
    page.fill("#run-name", "v1")
    page.fill("#run-coco", "1 vehicle")
    page.click("#create-run")
    page.wait_for_url("**/model_runs/*/setup/?project=*")
    run = ModelRun.objects.get(name="v1", model__name="street-detector")
    assert run.config == {"coco_categories": {"1": "vehicle"}}

    # A wrong file type is refused on the page, before sending.
    (tmp_path / "results.txt").write_text("x")
    page.set_input_files("#predictions-file", str(tmp_path / "results.txt"))
    assert "Choose an .ndjson" in page.locator("#predictions-message").inner_text()

    # COCO results with the images list (id → global key); one result names an image that is not in it.
    images = [{"id": i + 1, "file_name": row.global_key} for i, row in enumerate(rows)]
    results = [
        {"image_id": i + 1, "category_id": 1, "bbox": list(box), "score": score}
        for i, entries in PREDS.items()
        for box, score in entries
    ]
    results.insert(2, {"image_id": 99, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 0.5})
    coco = tmp_path / "results.json"
    coco.write_text(json.dumps({"images": images, "annotations": results}))
    page.set_input_files("#predictions-file", str(coco))
    page.click("#predictions-start")
    expect(page.locator("#predictions-summary")).to_contain_text("created", timeout=60_000)
    created = len(results) - 1
    assert page.locator("#predictions-summary").inner_text() == f"{created} created · 0 updated · 1 not imported"
    cells = page.locator("#predictions-error-table tbody tr td")
    assert cells.nth(0).inner_text() == "3" and "image_id 99 is not in the images list" in cells.nth(1).inner_text()
    assert page.locator("#prediction-count").inner_text() == str(created)
    assert Prediction.objects.filter(model_run=run).count() == created

    page.select_option("#gt-project", str(project.id))
    page.click("#gt-submit")
    expect(page.locator("#gt-summary")).to_contain_text("attached", timeout=60_000)
    assert page.locator("#gt-summary").inner_text() == f"✓ {len(GT)} row(s) attached."
    assert GroundTruth.objects.filter(model_run=run).count() == len(GT)
    page.click("#open-metrics")
    page.wait_for_url(f"**/model_runs/{run.id}/diagnostics/")
    page.locator("#metric-summary").wait_for()
    # The scene of tests/diagnostics (3 of 4 boxes found, 2 false positives): AP@0.5 = 49/101 (test_api.py).
    assert page.locator("#map50").inner_text() == f"{49 / 101:.3f}"


def test_manager_adds_a_bucket_prefix_and_queues_those_rows(page, manager, project, integration, prefix_bucket):  # noqa: F811
    """The moto S3/STS server of tests/datasets: the objects under a prefix become rows, then a batch of them."""
    dataset = dataset_services.dataset_create(actor=manager, name="from the bucket")
    login(page, manager.username, TEST_PASSWORD)
    page.wait_for_url("**/")
    page.goto(f"/datasets/{dataset.id}/import/?project={project.id}")
    page.click("#tab-bucket")
    page.keyboard.press("ArrowLeft")  # the tabs follow the arrow keys
    assert page.locator("#tab-rows").get_attribute("aria-selected") == "true"
    page.click("#tab-bucket")
    page.select_option("#bucket-integration", str(integration.id))
    page.fill("#bucket-prefix", "cams/front/")
    page.click("#bucket-start")
    expect(page.locator("#bucket-summary")).to_contain_text("row(s) created", timeout=60_000)
    assert page.locator("#bucket-summary").inner_text() == (
        "3 object(s) listed · 2 row(s) created · 0 updated · 1 skipped (other file types)"
    )
    assert page.locator("#row-count").inner_text() == "2"
    assert page.locator("#keys-count").inner_text() == "2" and page.locator("#scope-keys").is_checked()
    page.fill("#bucket-prefix", "/bad")
    page.click("#bucket-start")
    expect(page.locator("#bucket-message")).to_contain_text("Invalid prefix")
    assert not page.locator("#bucket-progress-box").is_visible()
    page.click("#batch-submit")
    expect(page.locator("#batch-result")).to_contain_text("2 row(s) queued")
    keys = set(Task.objects.filter(project=project).values_list("data_row__global_key", flat=True))
    assert keys == {"cams/front/001.jpg", "cams/front/002.PNG"}
