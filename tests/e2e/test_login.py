"""A newcomer logs in to the labeler home page and to the admin with real credentials, in Chromium."""

import pytest

from tests.factories import TEST_PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def login(page, username: str, password: str) -> None:
    page.goto("/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")


def test_labeler_logs_in_sees_home_and_logs_out(page, org, make_user):
    make_user(role="labeler", organization=org, username="lana")
    login(page, "lana", TEST_PASSWORD)
    page.wait_for_url("**/")
    assert page.locator("h2", has_text="My projects").is_visible()
    assert "lana · Acme · Labeler" in page.locator(".who").inner_text()
    assert page.locator("a", has_text="Admin").count() == 0
    page.click("button:has-text('Log out')")
    page.wait_for_url("**/login/")


def test_wrong_password_shows_an_error(page, org, make_user):
    make_user(role="labeler", organization=org, username="lana")
    login(page, "lana", "not-the-password")
    assert page.locator(".error").is_visible()
    assert "/login/" in page.url


def test_org_admin_reaches_the_admin_and_sees_only_their_users(page, org, other_org, org_admin, make_user):
    make_user(role="reviewer", organization=org, username="rev-acme")
    make_user(role="reviewer", organization=other_org, username="rev-globex")
    login(page, org_admin.username, TEST_PASSWORD)
    page.wait_for_url("**/")
    page.click("a:has-text('Admin')")
    page.wait_for_url("**/admin/")
    page.goto("/admin/accounts/user/")
    table = page.locator("#result_list").inner_text()
    assert "rev-acme" in table
    assert "rev-globex" not in table
