"""The login page: keyboard-only sign-in, clear errors, redirect by role, accessibility."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DEMO_PASSWORDS, run_axe, save_screenshot

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("viewport", ["1280x800", "1920x1080"])
def test_login_page_renders_and_passes_axe(open_page, artifacts, viewport):
    page = open_page(viewport, name="login", bypass_csp=True)
    page.goto("/")
    expect(page.get_by_role("heading", name="登录客服工作台")).to_be_visible()
    expect(page.get_by_label("用户名")).to_be_focused()
    save_screenshot(page, artifacts, f"login-{viewport}", "login.png" if viewport == "1280x800" else None)
    violations = run_axe(page)
    assert not violations, violations


def test_keyboard_only_login_redirects_agent(open_page):
    page = open_page(name="alice")
    page.goto("/")
    # Only the keyboard: the username field has focus on load, Tab moves to the password, Enter submits.
    expect(page.get_by_label("用户名")).to_be_focused()
    page.keyboard.type("alice")
    page.keyboard.press("Tab")
    expect(page.get_by_label("密码")).to_be_focused()
    page.keyboard.type(DEMO_PASSWORDS["alice"])
    page.keyboard.press("Enter")
    page.wait_for_url("**/agent")
    expect(page.locator("#conn-status")).to_have_attribute("data-state", "open")
    # The token lives in sessionStorage, never in the URL.
    assert "token" not in page.url
    assert page.evaluate("sessionStorage.getItem('kefu.token')")


def test_supervisor_goes_to_wall_and_logout_revokes(open_page, kefu_server):
    open_page.allow("status of 401")  # the test's own call with the revoked token
    page = open_page(name="super")
    page.goto("/")
    page.get_by_label("用户名").fill("super")
    page.get_by_label("密码").fill(DEMO_PASSWORDS["super"])
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/supervisor")
    expect(page.locator("#conn-status")).to_have_attribute("data-state", "open")
    token = page.evaluate("sessionStorage.getItem('kefu.token')")
    page.get_by_role("button", name="退出登录").click()
    page.wait_for_url(lambda url: url.rstrip("/") == kefu_server.base)
    assert page.evaluate("sessionStorage.getItem('kefu.token')") is None
    status = page.evaluate("""async (token) => (await fetch('/api/me', {headers: {Authorization: 'Bearer ' + token}})).status""", token)
    assert status == 401


def test_wrong_password_shows_error_and_then_rate_limit(open_page):
    # The browser itself logs the 401 and 429 answers; those are the point of this test.
    open_page.allow("status of 401")
    open_page.allow("status of 429")
    page = open_page(name="login")
    page.goto("/")
    page.get_by_label("用户名").fill("bob")
    page.get_by_label("密码").fill("not-the-password")
    page.get_by_role("button", name="登录").click()
    alert = page.locator("#login-error")
    expect(alert).to_have_text("用户名或密码错误，请重新输入。")
    # Repeated failures for the same username get 429 with the wait shown.
    for _ in range(8):
        if "尝试次数过多" in (alert.text_content() or ""):
            break
        page.get_by_label("密码").fill("still-wrong")
        expect(page.get_by_role("button", name="登录")).to_be_enabled()
        page.get_by_role("button", name="登录").click()
        page.wait_for_function("""() => {
            const b = document.getElementById('login-submit');
            return !b.hasAttribute('aria-busy');
        }""")
    expect(alert).to_contain_text("尝试次数过多")


def test_english_switch(open_page):
    page = open_page(name="login-en")
    page.goto("/")
    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("heading", name="Sign in to the console")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.get_by_role("button", name="中文").click()
    expect(page.get_by_role("heading", name="登录客服工作台")).to_be_visible()
