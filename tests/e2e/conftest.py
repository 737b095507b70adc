"""Browser tests: Playwright's Python API driving Debian's Chromium against pytest-django's live server."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests import inflight

CHROMIUM = os.environ.get("TDP_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make are still synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium not found at {CHROMIUM}: `make test` installs Debian's chromium package")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def close_quietly(context) -> None:
    """Close a browser context without the requests its pages send while unloading (the editor saves its draft on
    `pagehide`): one arriving while the test database is flushed deadlocks the flush's TRUNCATE."""
    try:
        context.route("**/*", lambda route: route.abort())
    finally:
        context.close()
        inflight.wait_idle()  # and those the server had already started on


@pytest.fixture
def csp_violations() -> list[str]:
    """Content-Security-Policy violations the browser reported on `page` (a test expecting one clears the list)."""
    return []


@pytest.fixture
def page(browser, live_server, csp_violations) -> Iterator[object]:
    """A fresh browser page. Any Content-Security-Policy violation on it (an inline script or `on*=` handler that
    slipped into a template) fails the test."""
    context = browser.new_context(viewport={"width": 1366, "height": 768}, base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.on(
        "console",
        lambda message: csp_violations.append(message.text) if "Content Security Policy" in message.text else None,
    )
    yield page
    close_quietly(context)
    assert not csp_violations, f"Content-Security-Policy violations: {csp_violations}"
