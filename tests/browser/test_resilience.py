"""The workbench survives a dropped socket, and its first load is small."""

from __future__ import annotations

import json
import re
import urllib.request
import uuid

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DEMO_PASSWORDS, VIEWPORTS, go_available, login, save_screenshot

pytestmark = pytest.mark.browser

FIRST_LOAD_BUDGET_BYTES = 300 * 1024


def _accept_new_customer(page, sim, openid, first_text):
    sim.send(openid, first_text)
    offer = page.locator(".offer-card")
    expect(offer).to_be_visible()
    offer.get_by_role("button", name=re.compile("^接入")).click()
    # The new session is the one on screen (an earlier test's session of this agent may show the
    # same first text: the openid tells them apart).
    expect(page.locator("#conv")).to_contain_text(openid)
    expect(page.locator("#messages .msg-in")).to_contain_text([first_text])


def _inbound_texts(page):
    return [t.strip() for t in page.locator("#messages .msg-in .msg-text").all_text_contents()]


@pytest.mark.parametrize("how", ["offline", "socket_closed"])
def test_socket_cut_mid_conversation_loses_nothing(open_page, sim, artifacts, how):
    page = open_page("1280x800", name=f"alice-{how}")
    login(page, "alice", expect_path="/agent")
    go_available(page)
    openid = f"o_cut_{uuid.uuid4().hex[:10]}"
    _accept_new_customer(page, sim, openid, "第1条：你好")
    composer = page.locator("#composer-input")
    composer.fill("还没写完的草稿")

    context = page.context
    if how == "offline":
        # The network goes away: the socket is cut and reconnects fail until it comes back.
        context.set_offline(True)
        page.evaluate("window.kefuDebug.socket.drop()")
    else:
        # Only the socket drops (a proxy timeout, say); it reconnects by itself.
        page.evaluate("window.kefuDebug.socket.drop()")
    expect(page.locator("#conn-status")).not_to_have_attribute("data-state", "open")

    later = [f"第{i}条：断线期间的消息" for i in range(2, 6)]
    for text in later:
        sim.send(openid, text)
    if how == "offline":
        expect(page.locator("#conn-banner")).to_be_visible()
        expect(page.locator("#conn-banner")).to_contain_text("连接已断开")
        save_screenshot(page, artifacts, "agent-disconnected-1280x800")
        context.set_offline(False)

    expect(page.locator("#conn-status")).to_have_attribute("data-state", "open")
    expect(page.locator("#conn-banner")).to_be_hidden()
    expected = ["第1条：你好", *later]
    expect(page.locator("#messages .msg-in .msg-text")).to_have_text(expected)
    # Once each, in order, and the ids are unique on screen.
    assert _inbound_texts(page) == expected
    ids = page.locator("#messages .msg").evaluate_all("nodes => nodes.map(n => n.dataset.id)")
    assert len(ids) == len(set(ids)), ids
    # Nothing typed was lost, and sending works again.
    expect(composer).to_have_value("还没写完的草稿")
    composer.fill("收到，已恢复连接")
    composer.press("Enter")
    out = page.locator("#messages .msg-out", has_text="收到，已恢复连接")
    expect(out).to_have_count(1)
    expect(out.locator(".msg-status")).to_have_text("已送达")
    # Another customer message after the reconnect arrives live, once.
    sim.send(openid, "第6条：恢复后")
    expect(page.locator("#messages .msg-in .msg-text")).to_have_text([*expected, "第6条：恢复后"])


def test_draft_is_kept_per_session(open_page, sim):
    # Bob: Alice's desk may be full from the tests above (the server lives for the module).
    page = open_page("1920x1080", name="bob-drafts")
    login(page, "bob", expect_path="/agent")
    go_available(page)
    a, b = f"o_da_{uuid.uuid4().hex[:8]}", f"o_db_{uuid.uuid4().hex[:8]}"
    _accept_new_customer(page, sim, a, "客户A")
    page.locator("#composer-input").fill("给A的草稿")
    _accept_new_customer(page, sim, b, "客户B")
    expect(page.locator("#composer-input")).to_have_value("")
    page.locator("#composer-input").fill("给B的草稿")
    # Customers are listed by their WeChat nickname; the openid is the name's tooltip.
    page.locator(f'.session-item:has(.session-name[title="{a}"])').click()
    expect(page.locator("#composer-input")).to_have_value("给A的草稿")
    page.locator(f'.session-item:has(.session-name[title="{b}"])').click()
    expect(page.locator("#composer-input")).to_have_value("给B的草稿")


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_agent_first_load_under_300_kb(browser, kefu_server, viewport):
    req = urllib.request.Request(kefu_server.url("/api/auth/login"), method="POST",
                                 data=json.dumps({"username": "alice", "password": DEMO_PASSWORDS["alice"]}).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req) as res:
        auth = json.loads(res.read())
    # A cold cache: a new context whose sessionStorage already holds the token.
    context = browser.new_context(viewport=VIEWPORTS[viewport], base_url=kefu_server.base)
    token, user = json.dumps(auth["token"]), json.dumps(json.dumps(auth["user"]))
    context.add_init_script(f"sessionStorage.setItem('kefu.token', {token}); sessionStorage.setItem('kefu.user', {user});")
    finished: list = []
    context.on("requestfinished", lambda r: finished.append(r))
    page = context.new_page()
    try:
        page.goto("/agent")
        expect(page.locator("#conn-status")).to_have_attribute("data-state", "open")
        page.wait_for_load_state("networkidle")
        total = 0
        rows = []
        for r in finished:
            sizes = r.sizes()
            n = sizes["responseBodySize"] + sizes["responseHeadersSize"]
            total += n
            rows.append((n, r.url.split("?")[0]))
        report = "\n".join(f"{n:>8}  {url}" for n, url in sorted(rows, reverse=True))
        print(f"\nfirst load of /agent at {viewport}: {total} bytes in {len(rows)} responses\n{report}")
        assert total < FIRST_LOAD_BUDGET_BYTES, report
        # Versioned assets are cacheable for a long time.
        css = next(r for r in finished if "/static/css/app.css" in r.url)
        assert "v=" in css.url
        assert "max-age" in (css.response().headers.get("cache-control") or "")
    finally:
        context.close()
