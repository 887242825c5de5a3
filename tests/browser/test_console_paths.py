"""Console paths no other browser test walks, kept working through the split of agent.js and
supervisor.js into modules (issue 11): rejecting an offer, the canned-reply list, a draft that
survives a reload, a supervisor setting an agent's state from the wall, and the one auth guard
taking a console back to the login page when its token is revoked (socket closed with 4010)."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import go_available, login
from tests.browser.test_handover import _api

pytestmark = pytest.mark.browser


def test_reject_canned_draft_supervisor_presence_and_revoked_token(open_page, sim, kefu_server):
    alice = open_page("1280x800", name="alice")
    login(alice, "alice", expect_path="/agent")
    go_available(alice)

    # Rejecting an offer takes its card away.
    rejected = f"o_rej_{uuid.uuid4().hex[:8]}"
    sim.send(rejected, "先拒绝这个")
    card = alice.locator(".offer-card", has_text=rejected)
    card.get_by_role("button", name=re.compile("^拒绝")).click()
    expect(card).to_have_count(0)

    openid = f"o_paths_{uuid.uuid4().hex[:8]}"
    sim.send(openid, "你好")
    alice.locator(".offer-card", has_text=openid).get_by_role("button", name=re.compile("^接入")).click()
    expect(alice.locator("#conv-meta")).to_contain_text(openid)

    # "/" opens the canned-reply list (the demo has none: it says so); Escape closes it.
    composer = alice.locator("#composer-input")
    composer.fill("/")
    expect(alice.locator("#canned")).to_be_visible()
    expect(alice.locator("#canned")).to_contain_text("还没有快捷回复。")
    expect(composer).to_have_attribute("aria-expanded", "true")
    composer.press("Escape")
    expect(alice.locator("#canned")).to_be_hidden()

    # A draft is kept for the session through a reload of the tab.
    composer.fill("还没写完的草稿")
    alice.reload()
    expect(alice.locator("#conv-meta")).to_contain_text(openid)
    expect(alice.locator("#composer-input")).to_have_value("还没写完的草稿")

    # The supervisor sets Alice away from the wall; Alice's switch follows.
    sup = open_page("1920x1080", name="super")
    login(sup, "super", expect_path="/supervisor")
    select = sup.get_by_label("设置 Alice 的状态")
    expect(select).to_have_value("available")
    select.select_option("away")
    expect(sup.locator("#toasts")).to_contain_text("已将 Alice 设为「离开」。")
    expect(alice.locator("#presence-away")).to_have_attribute("aria-pressed", "true")

    # Alice's token revoked elsewhere: the socket closes with 4010, the console says so, forgets
    # the token and goes back to the login page.
    token = alice.evaluate("() => sessionStorage.getItem('kefu.token')")
    assert token
    _api(kefu_server.base, "/api/auth/logout", token=token, body={})
    expect(alice.locator("#conn-banner-text")).to_have_text("你已在其他地方退出登录或账号已被停用，即将返回登录页。")
    expect(alice.locator("#conn-retry")).to_be_hidden()
    alice.wait_for_url(re.compile(r"/$"))
    expect(alice.locator("body")).to_have_attribute("data-page", "login")
    assert alice.evaluate("() => sessionStorage.getItem('kefu.token')") is None
