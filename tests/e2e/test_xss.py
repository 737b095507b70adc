"""Stored XSS in a real browser: with script and event-handler payloads in every user-text field
(`tests/security/test_xss.py` puts them there), no page opens a dialog in Chromium."""

from __future__ import annotations

import pytest

from tests.factories import TEST_PASSWORD
from tests.security.test_xss import poisoned_world
from tests.security.world import HOOK_HOST, build_world

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PAGES = [
    "/",
    "/projects/{project}/",
    "/projects/{project}/issues/",
    "/issues/{issue}/",
    "/inbox/",
    "/catalog/",
    "/catalog/datasets/{dataset}/",
    "/catalog/rows/{data_row}/lineage/",
    "/projects/{project}/quality/",
    "/projects/{project}/prelabels/",
    "/projects/{project}/review/",
    "/projects/{project}/analytics/",
    "/projects/{project}/exports/",
    "/model_runs/",
    "/model_runs/{run}/diagnostics/",
    "/me/stats/",
]


def test_no_page_runs_a_stored_payload(page, org, make_user, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.TDP_OUTBOUND_ALLOWED_HOSTS = [HOOK_HOST]
    world = build_world(org, make_user)
    ids = poisoned_world(world)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(f"{page.url}: {dialog.message}"), dialog.dismiss()))
    page.goto("/login/")
    page.fill("#id_username", world.admin.username)
    page.fill("#id_password", TEST_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/")
    shown = 0
    for path in PAGES:
        response = page.goto(path.format(**ids))
        assert response is not None and response.status == 200, path
        page.wait_for_load_state("load")
        shown += 'alert("xss")' in page.inner_text("body")
    assert shown >= 5, "the payloads were not on the pages: nothing was tested"
    assert dialogs == []
