"""Self-service in the browser: a customer on the simulator page binds through the menu's
self-service item with the code the demo bank texts to the phone (shown as an SMS), asks for the
bill (answered masked), then asks for a human; the agent who takes the session sees the bound
bank customer in the customer panel, masked. Screenshots of both; axe on both."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import go_available, login, run_axe, save_screenshot

pytestmark = pytest.mark.browser


def test_binding_on_the_simulator_and_the_bound_profile_in_the_agents_panel(open_page, artifacts):
    phone_page = open_page("1920x1080", name="simulator", bypass_csp=True)
    phone_page.goto("/simulator")
    expect(phone_page.locator("#ws-status")).to_have_attribute("data-state", "open")
    phone = phone_page.locator('.phone[data-openid="o_sim_zhangsan"]')
    chat = phone.locator(".phone-chat")

    # The menu's self-service item, as WeChat's menu shows it: a sub-menu, then the item.
    phone.get_by_role("button", name="≡ 自助服务").click()
    phone.get_by_role("button", name="绑定账户").click()
    expect(chat.locator(".msg.in").last).to_contain_text("11 位手机号码")
    phone.get_by_placeholder("输入消息…").fill("13800000001")
    phone.get_by_role("button", name="发送").click()
    expect(chat.locator(".msg.in").last).to_contain_text("尾号0001")
    # The bank's code arrives as a text message on the phone.
    banner = phone.locator(".phone-sms")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("验证码")
    expect(phone.locator(".sms-count")).to_have_text("1")
    code = re.search(r"验证码为 (\d{6})", banner.inner_text()).group(1)
    save_screenshot(phone_page, artifacts, "self-service-sms-1920x1080")
    phone.get_by_placeholder("输入消息…").fill(code)
    phone.get_by_role("button", name="发送").click()
    expect(chat.locator(".msg.in").last).to_contain_text("绑定成功")
    phone.locator(".sms-close").click()
    expect(banner).to_be_hidden()

    phone.get_by_placeholder("输入消息…").fill("账单")
    phone.get_by_role("button", name="发送").click()
    bill = chat.locator(".msg.in").last
    expect(bill).to_contain_text("**** **** **** 6789")
    expect(bill).to_contain_text("¥3,286.50")
    assert "6225880123456789" not in chat.inner_text()
    save_screenshot(phone_page, artifacts, "self-service-simulator-1920x1080", docs_name="self-service-simulator.png")
    assert not run_axe(phone_page), "simulator with self-service"

    # A human, then: the agent's customer panel shows who the customer is at the bank.
    alice = open_page("1280x800", name="alice", bypass_csp=True)
    login(alice, "alice", expect_path="/agent")
    go_available(alice)
    phone.get_by_placeholder("输入消息…").fill("我想咨询一下信用卡分期")
    phone.get_by_role("button", name="发送").click()
    offer = alice.locator(".offer-card", has_text="o_sim_zhangsan").or_(alice.locator(".offer-card", has_text="张三"))
    expect(offer.first).to_be_visible()
    offer.first.get_by_role("button", name=re.compile("^接入")).click()
    panel = alice.locator("#customer-bank")
    expect(panel).to_contain_text("张伟")
    expect(panel).to_contain_text("财富客户")
    expect(panel).to_contain_text("金卡")
    expect(panel).to_contain_text("**** **** **** 6789")
    expect(panel).to_contain_text("**** **** **** 7890")
    expect(panel).to_contain_text("1234")
    assert "6225880123456789" not in panel.inner_text() and "110101199003071234" not in panel.inner_text()
    save_screenshot(alice, artifacts, "self-service-agent-panel-1280x800", docs_name="self-service-agent-panel.png")
    assert not run_axe(alice), "agent console with a bound customer"
