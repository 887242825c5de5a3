"""Accessibility: axe-core (vendored, run in the page) finds no serious or critical violation on
any page in the states people see (an offer showing, a conversation open and scrolling, the wall
with a live session monitored, the simulator mid-conversation), and the agent's work goes from
the keyboard alone: sign in, go available, accept offers, reply, move between conversations."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DEMO_PASSWORDS, go_available, login, run_axe, save_screenshot

pytestmark = pytest.mark.browser


def _no_serious(page, what):
    violations = run_axe(page)
    assert not violations, f"{what}: {violations}"


def _tab_to(page, selector, limit=40):
    """Press Tab until ``selector`` has the focus (as a keyboard user would)."""
    for _ in range(limit):
        if page.evaluate("s => document.activeElement && document.activeElement.matches(s)", selector):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {selector}")


# First in the module: the axe test below leaves a simulator customer waiting in the queue.
def test_agent_works_from_the_keyboard_alone(open_page, sim, artifacts):
    page = open_page("1280x800", name="bob-keyboard")
    page.goto("/")
    expect(page.get_by_label("用户名")).to_be_focused()
    page.keyboard.type("bob")
    page.keyboard.press("Tab")
    page.keyboard.type(DEMO_PASSWORDS["bob"])
    page.keyboard.press("Enter")
    page.wait_for_url("**/agent")
    expect(page.locator("#conn-status")).to_have_attribute("data-state", "open")
    expect(page.locator("#shortcuts")).to_contain_text("Alt+A")

    _tab_to(page, "#presence-available")
    page.keyboard.press("Enter")
    expect(page.locator("#presence-available")).to_have_attribute("aria-pressed", "true")

    first, second = f"o_kb1_{uuid.uuid4().hex[:8]}", f"o_kb2_{uuid.uuid4().hex[:8]}"
    sim.send(first, "第一位客户")
    expect(page.locator(".offer-card")).to_have_count(1)
    page.keyboard.press("Alt+A")
    expect(page.locator(".offer-card")).to_have_count(0)
    expect(page.locator("#conv-title")).to_have_attribute("title", first)
    composer = page.locator("#composer-input")
    expect(composer).to_be_focused()
    page.keyboard.type("您好，第一位")
    page.keyboard.press("Enter")
    expect(page.locator("#messages .msg-out", has_text="您好，第一位").locator(".msg-status")).to_have_text("已送达")

    sim.send(second, "第二位客户")
    expect(page.locator(".offer-card")).to_have_count(1)
    page.keyboard.press("Alt+A")
    expect(page.locator("#conv-title")).to_have_attribute("title", second)
    expect(composer).to_be_focused()
    page.keyboard.type("您好，第二位")
    page.keyboard.press("Enter")
    expect(page.locator("#messages .msg-out", has_text="您好，第二位")).to_have_count(1)

    # Next / previous conversation, in the list's order, wrapping round.
    order = page.locator("#sessions .session-item").evaluate_all("ns => ns.map(n => n.dataset.sessionId)")
    assert len(order) == 2
    shown = page.locator(".session-item[aria-current=true]").get_attribute("data-session-id")
    page.keyboard.press("Alt+ArrowDown")
    other = order[(order.index(shown) + 1) % 2]
    expect(page.locator(".session-item[aria-current=true]")).to_have_attribute("data-session-id", other)
    expect(composer).to_be_focused()
    page.keyboard.press("Alt+ArrowUp")
    expect(page.locator(".session-item[aria-current=true]")).to_have_attribute("data-session-id", shown)

    # The message list takes the focus and scrolls from the keyboard.
    _tab_to(page, "#messages")
    expect(page.locator("#messages")).to_be_focused()
    save_screenshot(page, artifacts, "a11y-agent-keyboard-1280x800")


def test_every_page_in_realistic_states_has_no_serious_axe_violation(open_page, sim, artifacts):
    login_page = open_page("1280x800", name="login-axe", bypass_csp=True)
    login_page.goto("/")
    _no_serious(login_page, "login")

    agent = open_page("1280x800", name="alice-axe", bypass_csp=True)
    login(agent, "alice", expect_path="/agent")
    go_available(agent)
    openid = f"o_a11y_{uuid.uuid4().hex[:8]}"
    sim.send(openid, "你好，我想咨询信用卡年费")
    offer = agent.locator(".offer-card")
    expect(offer).to_be_visible()
    save_screenshot(agent, artifacts, "a11y-agent-offer-1280x800")
    _no_serious(agent, "agent with an offer")

    offer.get_by_role("button", name=re.compile("^接入")).click()
    for i in range(14):  # enough for the message list to scroll
        sim.send(openid, f"第{i + 2}条：补充说明")
    expect(agent.locator("#messages .msg-in")).to_have_count(15)
    agent.locator("#composer-input").fill("您好，年费可以减免，我帮您查询。")
    agent.locator("#composer-input").press("Enter")
    expect(agent.locator("#messages .msg-out .msg-status")).to_have_text(["已送达"])
    assert agent.locator("#messages").evaluate("n => n.scrollHeight > n.clientHeight"), "the list should scroll"

    sup = open_page("1920x1080", name="super-axe", bypass_csp=True)
    login(sup, "super", expect_path="/supervisor")
    row = sup.locator("#live tr[data-session-id]", has_text=openid)
    expect(row).to_be_visible()
    _no_serious(sup, "supervisor wall with a live session")
    row.get_by_role("button").click()
    expect(sup.locator("#monitor-messages")).to_contain_text("第15条")
    sup.locator("#sup-input").fill("先核实身份")
    sup.locator("#sup-input").press("Enter")
    expect(agent.locator("#messages .msg-whisper")).to_contain_text("先核实身份")
    save_screenshot(sup, artifacts, "a11y-supervisor-monitor-1920x1080")
    _no_serious(sup, "supervisor monitoring")
    save_screenshot(agent, artifacts, "a11y-agent-conversation-1280x800")
    _no_serious(agent, "agent with a conversation open")

    simulator = open_page("1280x800", name="simulator-axe", bypass_csp=True)
    simulator.goto("/simulator/")
    phone = simulator.locator(".phone").first
    expect(phone).to_be_visible()
    phone.locator('input[name="text"]').fill("你好，我要转人工")
    phone.locator('input[name="text"]').press("Enter")
    expect(phone.locator(".phone-chat .msg.out")).to_contain_text(["你好，我要转人工"])
    save_screenshot(simulator, artifacts, "a11y-simulator-1280x800")
    _no_serious(simulator, "simulator mid-conversation")
