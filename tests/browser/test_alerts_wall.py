"""Alerts through Chromium against the real server: the admin sets thresholds in the "alerts"
section (a bad value refused on its field), a waiting customer crosses the queue threshold, the
supervisor's wall shows the banner (with its mute toggle and the sound offered), and it clears when
the agent answers; the agent's customer panel shows a past session's satisfaction score."""

from __future__ import annotations

import re
import urllib.request

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import go_available, login, run_axe, save_screenshot

pytestmark = pytest.mark.browser


def test_thresholds_page_then_the_wall_banner_appears_and_clears(open_page, sim, artifacts, kefu_server):
    open_page.allow("status of 400")  # the refused save below, on purpose
    admin = open_page("1280x800", name="admin-alerts", bypass_csp=True)
    login(admin, "admin", expect_path="/admin")
    admin.locator("#admin-nav").get_by_role("link", name="告警阈值").click()
    expect(admin.locator("#admin-section-title")).to_have_text("告警阈值")
    expect(admin.get_by_label("最长等待超过", exact=True)).to_have_value("")  # off by default

    # A wait of 0 s is refused, naming the field; nothing is saved.
    admin.get_by_label("最长等待超过", exact=True).fill("0")
    admin.get_by_role("button", name="保存").click()
    expect(admin.get_by_label("最长等待超过", exact=True)).to_have_attribute("aria-invalid", "true")
    expect(admin.locator(".form-error[role=alert]")).to_contain_text("oldest_wait_s")
    save_screenshot(admin, artifacts, "admin-alerts-refused-1280x800")

    admin.get_by_label("最长等待超过", exact=True).fill("120")
    admin.get_by_label("服务水平低于", exact=True).fill("80")
    admin.get_by_label("坐席离开超过", exact=True).fill("900")
    admin.get_by_label("贷款业务：排队人数超过").fill("3")
    admin.get_by_label("排队人数超过", exact=True).fill("0")  # any waiting customer: the alert to see below
    admin.get_by_role("button", name="保存").click()
    expect(admin.locator(".toast", has_text="告警阈值已保存")).to_be_visible()
    expect(admin.get_by_label("最长等待超过", exact=True)).not_to_have_attribute("aria-invalid", "true")
    save_screenshot(admin, artifacts, "admin-alerts-1280x800", docs_name="admin-alerts.png")
    assert not run_axe(admin), "admin alerts section"
    admin.reload()
    expect(admin.get_by_label("服务水平低于", exact=True)).to_have_value("80")
    expect(admin.get_by_label("贷款业务：排队人数超过")).to_have_value("3")

    # The sound is vendored and served.
    with urllib.request.urlopen(kefu_server.url("/static/sounds/alert.wav"), timeout=10) as res:
        assert res.status == 200 and res.read(4) == b"RIFF"

    alice = open_page("1280x800", name="alice")
    login(alice, "alice", expect_path="/agent")  # logged in and away: the customer waits
    expect(alice.locator("#conn-status")).to_have_attribute("data-state", "open")
    wall = open_page("1280x800", name="wall", bypass_csp=True)
    login(wall, "super", expect_path="/supervisor")
    expect(wall.locator("#conn-status")).to_have_attribute("data-state", "open")
    expect(wall.locator("#alert-banner")).to_be_hidden()

    sim.send("o-browser-alert", "你好，有人吗")
    banner = wall.locator("#alert-banner")
    expect(banner).to_be_visible()
    expect(banner.locator(".alert-item[data-code=queue_too_long][data-skill=general]")).to_contain_text(
        "综合咨询：排队人数过多（1 人排队，阈值 0）")
    # No click on the page yet: the browser may refuse the sound, and the banner then offers it.
    enable = wall.locator("#alert-enable-sound")
    if enable.is_visible():
        enable.click()
        expect(enable).to_be_hidden()
    mute = wall.locator("#alert-mute")
    expect(mute).to_have_attribute("aria-pressed", "false")
    save_screenshot(wall, artifacts, "wall-alert-1280x800", docs_name="wall-alert.png")
    assert not run_axe(wall), "wall with an alert"
    mute.click()
    expect(mute).to_have_attribute("aria-pressed", "true")
    expect(mute).to_have_text("取消静音")

    # A reload during the alert: the welcome brings it back, and the mute is remembered.
    wall.reload()
    expect(wall.locator("#alert-banner .alert-item[data-code=queue_too_long]")).to_be_visible()
    expect(wall.locator("#alert-mute")).to_have_attribute("aria-pressed", "true")

    # Alice answers: the queue empties and the banner clears.
    go_available(alice)
    offer = alice.locator(".offer-card")
    expect(offer).to_be_visible()
    offer.get_by_role("button", name=re.compile("^接入")).click()
    expect(wall.locator("#alert-banner")).to_be_hidden()
    save_screenshot(wall, artifacts, "wall-alert-cleared-1280x800")

    # Satisfaction: alice closes, the customer (surveyed: on in --demo) scores 4 with a comment;
    # the supervisor is told, the wall counts it, and alice's customer panel shows it next time.
    alice.locator("#btn-close").click()
    close = alice.locator("#close-dialog")
    close.get_by_label("小结代码").select_option("resolved")
    close.get_by_role("button", name="结束会话").click()
    expect(close).to_be_hidden()
    sim.send("o-browser-alert", "4 回复很快")
    expect(wall.locator(".toast", has_text="Alice 的客户评价：4/5")).to_be_visible()
    expect(wall.locator("[data-csat-hour=general]")).to_have_text("4.0（1 条）")
    sim.send("o-browser-alert", "还有一个问题")
    offer = alice.locator(".offer-card")
    expect(offer).to_be_visible()
    offer.get_by_role("button", name=re.compile("^接入")).click()
    badge = alice.locator("#history .csat-badge")
    expect(badge).to_have_text("满意度 4/5")
    expect(badge).to_have_attribute("title", "回复很快")
    save_screenshot(alice, artifacts, "agent-history-csat-1280x800", docs_name="agent-history-csat.png")
