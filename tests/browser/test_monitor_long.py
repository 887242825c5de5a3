"""Monitoring a long conversation: the socket sends the latest messages only, and the console says so.

The server bounds what one ``monitor`` produces (the latest 200 messages, ``earlier`` counting the
rest); the supervisor sees how many were left out and loads the whole transcript on request.
"""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect

from desk.desk import MONITOR_MAX_MESSAGES
from tests.browser.conftest import go_available, login, save_screenshot

pytestmark = pytest.mark.browser

EXTRA = 6  # messages beyond what one monitor result carries


def test_monitor_of_a_long_session_shows_the_latest_and_loads_the_rest(open_page, sim, artifacts):
    alice = open_page("1280x800", name="alice")
    login(alice, "alice", expect_path="/agent")
    go_available(alice)
    openid = f"o_long_{uuid.uuid4().hex[:10]}"
    sim.send(openid, "第 0 条：最早的一条消息")
    offer = alice.locator(".offer-card")
    offer.get_by_role("button", name="接入").first.click()
    expect(offer).to_have_count(0)
    session_id = alice.locator(".session-item").first.get_attribute("data-session-id")
    for i in range(1, MONITOR_MAX_MESSAGES + EXTRA):
        sim.send(openid, f"第 {i} 条")
    expect(alice.locator("#messages .msg-in").last).to_contain_text(f"第 {MONITOR_MAX_MESSAGES + EXTRA - 1} 条")

    sup = open_page("1920x1080", name="super")
    login(sup, "super", expect_path="/supervisor")
    sup.locator(f'#live tr[data-session-id="{session_id}"]').get_by_role("button").click()
    banner = sup.locator("#monitor-earlier")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text(f"显示最近 {MONITOR_MAX_MESSAGES} 条消息，更早的 {EXTRA} 条未显示。")
    messages = sup.locator("#monitor-messages .msg-in")
    expect(messages).to_have_count(MONITOR_MAX_MESSAGES)
    expect(sup.locator("#monitor-messages")).not_to_contain_text("最早的一条消息")
    save_screenshot(sup, artifacts, "supervisor-monitor-long-1920x1080")

    banner.get_by_role("button", name="显示全部").click()
    expect(banner).to_be_hidden()
    expect(messages).to_have_count(MONITOR_MAX_MESSAGES + EXTRA)
    expect(messages.first).to_contain_text("最早的一条消息")
    save_screenshot(sup, artifacts, "supervisor-monitor-long-all-1920x1080")
