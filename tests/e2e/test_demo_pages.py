"""After `load_demo`, every page the README lists (plus the catalog and model run pages) shows real data to each
demo role that may open it: no 4xx/5xx, no console error, no empty table or "No … yet" message, and the page's own
content (counts, charts, the street image on the canvas, the catalog map) is there.

The full demo is loaded once (one test walks all roles, collecting every failure before asserting)."""

from __future__ import annotations

import time
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from apps.accounts.management.commands.load_demo import DEMO_USERS
from apps.datasets.demo import DEMO_DATASET
from apps.datasets.models import DataRow, Dataset
from apps.diagnostics.models import GroundTruth
from apps.issues.models import Comment, Issue
from apps.labeling.demo import CONSENSUS_PROJECT_NAME, PROJECT_NAME
from apps.labeling.models import Project
from apps.predictions.demo import MODEL_NAME
from apps.predictions.models import ModelRun
from apps.quality.models import ConsensusScore, LabelScore
from apps.review.models import Review
from tests.e2e.conftest import close_quietly
from tests.e2e.test_login import login

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

EVERYONE = {"demo-admin", "demo-manager", "demo-reviewer", "demo-labeler", "demo-expert"}
REVIEWERS = {"demo-admin", "demo-manager", "demo-reviewer"}
MANAGERS = {"demo-admin", "demo-manager"}
# page → (roles that may open it, CSS selector that must match at least `n` visible elements)
PAGES: dict[str, tuple[set[str], str, int]] = {
    "home": (EVERYONE, "main a[href^='/projects/']", 2),
    "project": (EVERYONE, "main li strong", 5),
    "issues": (EVERYONE, "main table tbody tr", 2),  # a labeler or expert sees only the issues that concern them
    "me_stats": (EVERYONE - {"demo-reviewer"}, "main .stats li", 6),  # a reviewer who does not label has no stats
    "catalog": (EVERYONE, "main a[href*='/catalog/datasets/']", 1),
    "catalog_dataset": (EVERYONE, "svg circle", 300),
    "lineage": (EVERYONE, "main li, main table tbody tr", 2),
    "password": (EVERYONE, "input[type=password]", 2),
    "review": (REVIEWERS, "main", 1),
    "quality": (REVIEWERS, "main table tbody tr", 6),
    "quality_consensus": (REVIEWERS, "main table tbody tr", 6),
    "analytics": (REVIEWERS, "main svg polyline, main svg path, main svg rect", 3),
    "exports": (REVIEWERS, "main table tbody tr, main li", 2),
    "model_runs": (MANAGERS, "main table tbody tr", 2),
    "model_run": (MANAGERS, "main table tbody tr", 6),
    "compare": (MANAGERS, "main table tbody tr", 6),
    "admin": ({"demo-admin"}, "#content-main table tr", 5),
    "label": ({"demo-labeler", "demo-admin"}, "img, canvas", 1),
}

EMPTY_STATES = """() => {
  const visible = (el) => !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length);
  const found = [];
  for (const el of document.querySelectorAll('td.muted, p.muted, li.muted, .empty')) {
    const text = el.textContent.trim();
    if (visible(el) && /^(No |Nothing|None yet)/.test(text)) found.push(text);
  }
  for (const table of document.querySelectorAll('main table')) {
    if (visible(table) && table.querySelectorAll('tbody tr').length === 0) found.push('a table without rows');
  }
  return found;
}"""


# True statements that are not missing demo data: a task just claimed has no issue on it yet.
NOT_DATA = {("label", "No issues on this asset.")}


def _urls() -> dict[str, str]:
    main = Project.objects.get(name=PROJECT_NAME)
    consensus = Project.objects.get(name=CONSENSUS_PROJECT_NAME)
    runs = {r.name: r.id for r in ModelRun.objects.filter(model__name=MODEL_NAME)}
    dataset = Dataset.objects.get(name=DEMO_DATASET)
    row = DataRow.objects.get(global_key="street-0001")
    return {
        "home": "/",
        "project": f"/projects/{main.id}/",
        "issues": f"/projects/{main.id}/issues/",
        "me_stats": "/me/stats/",
        "catalog": "/catalog/",
        "catalog_dataset": f"/catalog/datasets/{dataset.id}/",
        "lineage": f"/catalog/rows/{row.id}/lineage/",
        "password": "/password/",
        "review": f"/projects/{main.id}/review/",
        "quality": f"/projects/{main.id}/quality/",
        "quality_consensus": f"/projects/{consensus.id}/quality/",
        "analytics": f"/projects/{main.id}/analytics/",
        "exports": f"/projects/{main.id}/exports/",
        "model_runs": "/model_runs/",
        "model_run": f"/model_runs/{runs['v1']}/diagnostics/",
        "compare": f"/model_runs/compare/?runs={runs['v1']},{runs['v2']}",
        "admin": "/admin/",
        "label": f"/projects/{main.id}/",
    }


def _visit(page: Any, name: str, url: str) -> Any:
    if name != "label":
        return page.goto(url)
    page.goto(url)
    with page.expect_navigation():
        page.click("text=Start labeling")
    page.locator("img").first.wait_for(state="visible")
    page.wait_for_function("() => [...document.images].some((i) => i.complete && i.naturalWidth === 640)")
    return None


def test_every_readme_page_shows_demo_data_to_each_role(browser, live_server, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    started = time.perf_counter()
    out = StringIO()
    call_command("load_demo", stdout=out)
    loaded = time.perf_counter() - started
    assert "load_demo took" in out.getvalue()
    # The full demo's history: rework with resolved issues, open questions, scores, predictions with ground truth.
    assert {"approve", "reject"} <= set(Review.objects.values_list("decision", flat=True))
    assert {"open", "resolved"} <= set(Issue.objects.values_list("status", flat=True))
    assert DataRow.objects.filter(dataset__name=DEMO_DATASET).count() == 320
    assert ConsensusScore.objects.count() > 30 and LabelScore.objects.filter(benchmark_score__isnull=False).exists()
    assert GroundTruth.objects.count() > 100 and Comment.objects.exists()
    urls = _urls()
    passwords = {username: password for username, _, password in DEMO_USERS}
    failures: list[str] = []
    visited = 0
    for username in sorted(EVERYONE):
        context = browser.new_context(viewport={"width": 1440, "height": 900}, base_url=live_server.url)
        page = context.new_page()
        page.set_default_timeout(20_000)
        problems: list[str] = []
        # The favicon is not demo data (and not served yet on every branch); anything else failing is a failure.
        page.on(
            "console",
            lambda m, p=problems: (
                p.append(f"console {m.type}: {m.text} ({m.location.get('url', '')})")
                if m.type == "error" and "favicon" not in m.location.get("url", "")
                else None
            ),
        )
        page.on(
            "response",
            lambda r, p=problems: (
                p.append(f"{r.status} {r.url}") if r.status >= 400 and "favicon" not in r.url else None
            ),
        )
        login(page, username, passwords[username])
        page.wait_for_url("**/")
        for name, (roles, selector, minimum) in PAGES.items():
            if username not in roles:
                continue
            problems.clear()
            response = _visit(page, name, urls[name])
            page.wait_for_load_state("networkidle")
            visited += 1
            where = f"{username} {name} ({page.url})"
            if response is not None and response.status >= 400:
                failures.append(f"{where}: HTTP {response.status}")
            shown = page.locator(selector).evaluate_all(
                "(els) => els.filter((el) => el.offsetWidth || el.offsetHeight || el.getClientRects().length).length"
            )
            if shown < minimum:
                failures.append(f"{where}: {shown} visible '{selector}' (expected at least {minimum})")
            empty = [text for text in page.evaluate(EMPTY_STATES) if (name, text) not in NOT_DATA]
            if empty:
                failures.append(f"{where}: empty states {empty}")
            failures.extend(f"{where}: {problem}" for problem in problems)
        close_quietly(context)
    assert not failures, "\n".join(failures)
    assert visited == sum(len(roles) for roles, _, _ in PAGES.values())
    print(f"demo loaded in {loaded:.1f} s; {visited} pages walked in {time.perf_counter() - started - loaded:.1f} s")
