"""In Chromium with the Content-Security-Policy on: the API tokens page (create, key shown once, revoke) and an
injected inline script refused by the browser."""

import pytest

from apps.accounts.models import ApiToken
from tests.e2e.test_login import login
from tests.factories import TEST_PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_user_creates_and_revokes_a_token_in_the_settings_page(page, org, make_user):
    make_user(role="labeler", organization=org, username="tina")
    login(page, "tina", TEST_PASSWORD)
    page.wait_for_url("**/")
    page.click("a:has-text('API tokens')")
    page.fill("#id_name", "My notebook")
    page.click("#token-create button[type=submit]")
    key = page.locator("#new-token-key").inner_text()
    token = ApiToken.objects.get(user__username="tina", name="My notebook")
    assert key.startswith(token.prefix) and len(key) == 40
    page.goto("/settings/tokens/")
    assert page.locator("#new-token-key").count() == 0
    row = page.locator(f"tr[data-token='{token.id}']")
    assert "active" in row.inner_text()
    row.locator("button:has-text('Revoke')").click()
    page.wait_for_url("**/settings/tokens/")
    assert "revoked" in page.locator(f"tr[data-token='{token.id}']").inner_text()


def test_an_injected_inline_script_does_not_run(page, csp_violations, org, make_user):
    """The policy itself: an inline script in one of our pages is refused by the browser."""
    make_user(role="labeler", organization=org, username="ivy")
    login(page, "ivy", TEST_PASSWORD)
    page.wait_for_url("**/")
    page.evaluate(
        """() => { const s = document.createElement('script'); s.textContent = 'window.__pwned = 1';
                   document.body.appendChild(s); }"""
    )
    assert page.evaluate("() => window.__pwned") is None
    assert any("inline script" in message for message in csp_violations), csp_violations
    csp_violations.clear()  # expected here: the page fixture fails on any other
