"""The connection indicator tells the truth: a network cut with the socket still "open" in the
browser is found by the heartbeat and shown; a reply written into the cut stays "sending",
is delivered once after the reconnect, and leaves no failed ghost copy."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import go_available, login, save_screenshot, wait_until

pytestmark = pytest.mark.browser

# The heartbeat gives a silent socket up after 15 s (welcome.heartbeat.timeout_s) plus the time
# between pings; the expectation allows twice that on two shared cores.
HEARTBEAT_EXPECT_MS = 45000


def test_a_network_cut_is_shown_and_a_reply_sent_into_it_is_delivered_once(open_page, sim, artifacts):
    page = open_page("1280x800", name="alice-cut")
    login(page, "alice", expect_path="/agent")
    go_available(page)
    openid = f"o_hb_{uuid.uuid4().hex[:10]}"
    sim.send(openid, "你好，在吗")
    page.locator(".offer-card").get_by_role("button", name=re.compile("^接入")).click()
    expect(page.locator("#messages .msg-in")).to_contain_text(["你好，在吗"])

    # The network goes away without the socket closing: Chromium keeps it "open" and holds
    # what is written to it (as a Wi-Fi drop does). Nothing but the heartbeat can notice.
    page.context.set_offline(True)
    composer = page.locator("#composer-input")
    composer.fill("断网时发出的回复")
    composer.press("Enter")
    out = page.locator("#messages .msg-out", has_text="断网时发出的回复")
    expect(out).to_have_count(1)
    expect(out.locator(".msg-status")).to_have_text("发送中")

    banner = page.locator("#conn-banner")
    expect(banner).to_be_visible(timeout=HEARTBEAT_EXPECT_MS)
    expect(banner).to_contain_text("没有响应")
    expect(page.locator("#conn-status")).not_to_have_attribute("data-state", "open")
    expect(page.locator("#conn-text")).to_have_text(re.compile("已断开|正在重连|连接中"))
    # Lost with the socket is not failed: the server may have it.
    expect(out).to_have_count(1)
    expect(out.locator(".msg-status")).to_have_text("发送中")
    expect(page.locator("#messages .msg-failed")).to_have_count(0)
    save_screenshot(page, artifacts, "agent-heartbeat-lost-1280x800")

    page.context.set_offline(False)
    expect(page.locator("#conn-status")).to_have_attribute("data-state", "open")
    expect(banner).to_be_hidden()
    # One bubble, the server's, delivered; no red copy.
    expect(out.locator(".msg-status")).to_have_text("已送达")
    expect(out).to_have_count(1)
    expect(page.locator("#messages .msg-failed")).to_have_count(0)
    assert not out.get_attribute("data-id").startswith("local-")
    save_screenshot(page, artifacts, "agent-heartbeat-restored-1280x800")
    # The customer got it once, whether the held frame or the resend reached the server first.
    wait_until(lambda: any("断网时发出的回复" in str(r) for r in sim.replies(openid)), what="the reply at the customer")
    assert sum("断网时发出的回复" in str(r) for r in sim.replies(openid)) == 1
    # And the conversation goes on live.
    sim.send(openid, "收到了")
    expect(page.locator("#messages .msg-in")).to_contain_text(["你好，在吗", "收到了"])
