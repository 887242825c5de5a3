"""Notifications (信息推送) in Chromium against the demo server: the admin's template messages
section (the demo's templates, a bad field key refused with its field marked and focused, a save,
the rate limits), then a bank system's template message as the customer sees it in the
simulator (WeChat's card: title, fields, 详情) and as the agent serving them sees it (the card
in the transcript, the customer panel's list). axe on the section and the agent console;
screenshots looked at."""

from __future__ import annotations

import json
import re
import urllib.request
import uuid
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DEMO_PASSWORDS, go_available, login, run_axe, save_screenshot, wait_until
from wechat.sim.templates import TRANSACTION_ALERT

pytestmark = pytest.mark.browser


def _call(base: str, path: str, body: Any = None, token: str | None = None) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(base + path, data=None if body is None else json.dumps(body).encode(),
                                 headers=headers, method="GET" if body is None else "POST")
    try:
        with urllib.request.urlopen(req, timeout=15) as res:
            return res.status, json.loads(res.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def _bank_token(base: str) -> str:
    _, admin = _call(base, "/api/auth/login", {"username": "admin", "password": DEMO_PASSWORDS["admin"]})
    status, _ = _call(base, "/api/users", {"username": "core-banking", "password": "bank-secret-123",
                                          "name": "核心系统", "roles": ["integration"]}, token=admin["token"])
    assert status in (201, 409)
    _, bank = _call(base, "/api/auth/login", {"username": "core-banking", "password": "bank-secret-123"})
    return str(bank["token"])


def test_the_admin_configures_templates_and_limits(open_page, artifacts):
    admin = open_page("1280x800", name="admin-templates", bypass_csp=True)
    open_page.allow("status of 400")  # the refused saves, on purpose
    login(admin, "admin", expect_path="/admin")
    admin.goto("/admin#/notifications")
    expect(admin.locator("#admin-section-title")).to_have_text("模板消息")
    cards = admin.locator(".tpl-card")
    expect(cards).to_have_count(3)  # the demo account's library
    expect(admin.locator("#tpl-f-templates-0-title")).to_have_value("交易提醒")
    expect(admin.locator("#tpl-preview .wx-template-title")).to_have_text("交易提醒")
    expect(admin.locator("#tpl-preview dt")).to_have_text(["卡号尾号", "交易时间", "交易类型", "交易金额", "可用余额"])
    expect(admin.locator("#tpl-status")).to_contain_text("已保存：第 0 版")

    # A new template whose field key is not a template field name: refused, named, marked, focused.
    admin.locator("#tpl-add").click()
    expect(admin.locator("#tpl-f-templates-3-id")).to_be_focused()
    admin.locator("#tpl-f-templates-3-id").fill("kfAccountChange-Qw3Er5Ty7Ui9Op1As3Df5Gh7")
    admin.locator("#tpl-f-templates-3-title").fill("账户变动通知")
    admin.locator("#tpl-f-templates-3-fields-0-key").fill("变动 金额")
    admin.locator("#tpl-f-templates-3-fields-0-label").fill("变动金额")
    expect(admin.locator("#tpl-preview .wx-template-title")).to_have_text("账户变动通知")
    admin.locator("#tpl-save").click()
    expect(admin.locator("#tpl-error")).to_contain_text("templates[3].fields[0].key")
    bad = admin.locator("#tpl-f-templates-3-fields-0-key")
    expect(bad).to_have_attribute("aria-invalid", "true")
    expect(bad).to_be_focused()
    expect(admin.locator("#tpl-status")).to_contain_text("有未保存的修改")
    bad.fill("amount1")
    admin.locator(".tpl-card").nth(3).locator(".tpl-add-field").click()
    admin.locator("#tpl-f-templates-3-fields-1-key").fill("time2")
    admin.locator("#tpl-f-templates-3-fields-1-label").fill("变动时间")
    admin.locator("#tpl-save").click()
    expect(admin.locator("#tpl-status")).to_have_text("已保存：第 1 版")
    expect(admin.locator("#tpl-preview dt")).to_have_text(["变动金额", "变动时间"])

    # The limits: a zero is refused by name; a good value is kept.
    admin.locator("#tpl-f-notification-limits-customer-burst").fill("0")
    admin.locator("#tpl-limits-save").click()
    expect(admin.locator("#tpl-limits-error")).to_contain_text("notification_limits.customer_burst")
    expect(admin.locator("#tpl-f-notification-limits-customer-burst")).to_be_focused()
    admin.locator("#tpl-f-notification-limits-customer-burst").fill("10")
    admin.locator("#tpl-limits-save").click()
    expect(admin.locator(".toast", has_text="发送频率限制已保存")).to_be_visible()
    expect(admin.locator("#tpl-recent-none")).to_be_visible()
    save_screenshot(admin, artifacts, "admin-templates-limits-1280x800")
    admin.evaluate("window.scrollTo(0, 0)")
    save_screenshot(admin, artifacts, "admin-templates-1280x800", docs_name="admin-templates.png")
    assert not run_axe(admin), "template messages section"


def test_a_bank_alert_as_the_customer_and_the_agent_see_it(open_page, sim, kefu_server, artifacts):
    bank = _bank_token(kefu_server.base)
    phone_page = open_page("1280x800", name="simulator")
    phone_page.goto("/simulator")
    openid = "o_sim_zhangsan"  # the page's first customer
    phone = phone_page.locator(f'.phone[data-openid="{openid}"]')
    expect(phone).to_be_visible()

    alice = open_page("1280x800", name="alice", bypass_csp=True)
    login(alice, "alice", expect_path="/agent")
    go_available(alice)
    sim.send(openid, f"我的卡刚才被扣了一笔钱 {uuid.uuid4().hex[:4]}")
    offer = alice.locator(".offer-card")
    expect(offer).to_be_visible()
    offer.get_by_role("button", name="接入").first.click()
    expect(alice.locator("#customer-notifications")).to_contain_text("没有模板消息")

    status, sent = _call(kefu_server.base, "/api/notifications", {
        "openid": openid, "template_id": TRANSACTION_ALERT.template_id, "url": "https://bank.example/tx/42",
        "data": {"character_string1": "6222****1234", "time2": "2026-12-01 09:30", "thing3": "消费",
                 "amount4": {"value": "128.00元", "color": "#C0392B"}, "amount5": "4871.00元"}}, token=bank)
    assert status == 201 and sent["status"] == "sent", sent

    # The customer's WeChat: the account's card with the title, the fields and 详情.
    card = phone.locator(".msg.template .tpl-card")
    expect(card.locator(".tpl-title")).to_have_text("交易提醒")
    expect(card.locator("dt")).to_have_text(["卡号尾号", "交易时间", "交易类型", "交易金额", "可用余额"])
    expect(card.locator("dd").nth(3)).to_have_text("128.00元")
    expect(card.locator(".tpl-more")).to_have_attribute("href", "https://bank.example/tx/42")
    wait_until(lambda: any(r.get("kind") == "template" for r in sim.replies(openid)), what="the card at WeChat")
    save_screenshot(phone_page, artifacts, "simulator-template-1280x800", docs_name="simulator-template.png")

    # The agent: the card in the transcript, by the bank system, and in the customer's list.
    msg = alice.locator("#messages .msg-template")
    expect(msg.locator(".wx-template-title")).to_have_text("交易提醒")
    expect(msg.locator(".msg-author")).to_have_text("核心系统")
    expect(msg.locator(".wx-template-more")).to_have_text("详情")
    # Sent, or delivered when WeChat's report was in before the panel read it.
    expect(alice.locator("#customer-notifications .notification-item")).to_contain_text(
        [re.compile("交易提醒 · (已发送|已送达)")])
    save_screenshot(alice, artifacts, "agent-template-1280x800")
    assert not run_axe(alice), "agent console with a template message"

    # Unfollowing on the phone: the next alert is refused with WeChat's reason, nothing arrives.
    phone.locator(".btn-unsub").click()
    expect(phone.locator(".msg.event").last).to_contain_text("取消了关注")
    status, refused = _call(kefu_server.base, "/api/notifications", {
        "openid": openid, "template_id": TRANSACTION_ALERT.template_id,
        "data": {"character_string1": "6222****1234", "time2": "2026-12-01 09:31", "thing3": "消费",
                 "amount4": "1.00元", "amount5": "4870.00元"}}, token=bank)
    assert status == 409 and refused["error"]["code"] == "customer_unsubscribed", refused
    expect(phone.locator(".msg.template")).to_have_count(1)
