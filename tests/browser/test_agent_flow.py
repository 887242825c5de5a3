"""The whole desk through the consoles: offer, accept, chat both ways, supervisor whisper,
transfer to a second agent who accepts and closes with a wrap-up; the supervisor wall live."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import go_available, login, run_axe, save_screenshot, wait_until

pytestmark = pytest.mark.browser


def _texts(page, selector):
    return [t.strip() for t in page.locator(selector).all_text_contents()]


def test_offer_chat_whisper_transfer_close(open_page, sim, artifacts):
    sup = open_page("1920x1080", name="super")
    login(sup, "super", expect_path="/supervisor")
    expect(sup.locator("#conn-status")).to_have_attribute("data-state", "open")

    alice = open_page("1280x800", name="alice")
    login(alice, "alice", expect_path="/agent")
    expect(alice.locator("#conn-status")).to_have_attribute("data-state", "open")
    expect(alice.locator("#presence-away")).to_have_attribute("aria-pressed", "true")

    # A customer writes while nobody is available: the wall shows them waiting, live.
    openid = f"o_flow_{uuid.uuid4().hex[:10]}"
    sim.send(openid, "你好，我想查询信用卡账单")
    expect(sup.locator('[data-testid="waiting-general"]')).to_have_text("1")
    expect(sup.locator("#agents tr", has_text="Alice")).to_have_attribute("data-status", "away")

    # Alice goes available and gets the offer; the wall follows.
    go_available(alice)
    expect(sup.locator("#agents tr", has_text="Alice")).to_have_attribute("data-status", re.compile("available|busy"))
    offer = alice.locator(".offer-card")
    expect(offer).to_be_visible()
    expect(offer.locator(".countdown-text")).to_contain_text("秒后失效")
    offer.get_by_role("button", name=re.compile("^接入")).click()
    expect(offer).to_have_count(0)
    expect(alice.locator("#messages .msg-in")).to_contain_text(["你好，我想查询信用卡账单"])
    session_id = alice.locator(".session-item").first.get_attribute("data-session-id")
    assert session_id
    expect(alice.locator("#budget-replies")).to_contain_text("5/5")

    # Agent -> customer: Enter sends, the status goes pending -> delivered, WeChat gets it.
    composer = alice.locator("#composer-input")
    composer.fill("您好，请稍等，我帮您查询。")
    composer.press("Enter")
    expect(composer).to_have_value("")
    out = alice.locator("#messages .msg-out", has_text="您好，请稍等，我帮您查询。")
    expect(out).to_have_count(1)
    expect(out.locator(".msg-status")).to_have_text("已送达")
    wait_until(lambda: any("您好，请稍等" in str(r) for r in sim.replies(openid)), what="the reply at the customer")
    expect(alice.locator("#budget-replies")).to_contain_text("4/5")

    # Shift+Enter breaks the line instead of sending.
    composer.fill("第一行")
    composer.press("Shift+Enter")
    composer.type("第二行")
    expect(composer).to_have_value("第一行\n第二行")
    composer.fill("")

    # Customer -> agent.
    sim.send(openid, "好的，谢谢")
    expect(alice.locator("#messages .msg-in")).to_contain_text(["你好，我想查询信用卡账单", "好的，谢谢"])

    # The supervisor sees the live session, monitors it and whispers to Alice only.
    row = sup.locator(f'#live tr[data-session-id="{session_id}"]')
    expect(row).to_be_visible()
    expect(sup.locator('[data-testid="waiting-general"]')).to_have_text("0")
    expect(sup.locator("#agents tr", has_text="Alice")).to_have_attribute("data-status", re.compile("busy|available"))
    row.get_by_role("button").click()
    expect(sup.locator("#monitor-messages")).to_contain_text("好的，谢谢")
    sup.locator("#btn-explain").click()
    expect(sup.locator("#explain")).not_to_contain_text("加载中")
    sup.locator("#sup-input").fill("注意先核实客户身份")
    sup.locator("#sup-input").press("Enter")
    whisper = alice.locator("#messages .msg-whisper")
    expect(whisper).to_contain_text("注意先核实客户身份")
    expect(whisper).to_contain_text("仅你可见")
    assert not any("注意先核实" in str(r) for r in sim.replies(openid)), "a whisper reached the customer"
    save_screenshot(alice, artifacts, "agent-conversation-1280x800", "agent.png")
    save_screenshot(sup, artifacts, "supervisor-monitor-1920x1080", "supervisor.png")

    # Bob comes online; Alice transfers the customer to him by username.
    bob = open_page("1920x1080", name="bob")
    login(bob, "bob", expect_path="/agent")
    go_available(bob)
    expect(sup.locator("#agents tr", has_text="Bob")).to_have_attribute("data-status", "available")
    alice.get_by_role("button", name="转接").click()
    dialog = alice.locator("#transfer-dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_label("指定坐席").check()
    dialog.locator("#transfer-agent-text").fill("bob")
    dialog.get_by_label("备注（接手的坐席可见）").fill("客户询问信用卡账单")
    dialog.get_by_role("button", name="确认转接").click()
    expect(dialog).to_be_hidden()
    # Only offered so far: it stays on Alice's desk until Bob accepts.
    expect(alice.locator("#conv-meta")).to_contain_text("等待 Bob 接受转接")
    expect(alice.locator(f'.session-item[data-session-id="{session_id}"]')).to_have_count(1)

    # Bob gets the offer, saying who transfers it and why, and accepts it.
    offer = bob.locator(".offer-card")
    expect(offer.locator('[data-testid="offer-transfer"]')).to_contain_text("Alice 转接给你")
    expect(offer.locator('[data-testid="offer-transfer"]')).to_contain_text("客户询问信用卡账单")
    offer.get_by_role("button", name=re.compile("^接入")).click()
    expect(alice.locator("#conv-closed")).to_be_visible()
    expect(alice.locator(f'.session-item[data-session-id="{session_id}"]')).to_have_count(0)
    expect(bob.locator("#conv-title")).to_be_visible()
    expect(bob.locator("#messages")).to_contain_text("好的，谢谢")
    bob.locator("#composer-input").fill("您好，我是 Bob，接下来由我为您服务。")
    bob.locator("#composer-input").press("Enter")
    expect(bob.locator("#messages .msg-out", has_text="我是 Bob").locator(".msg-status")).to_have_text("已送达")

    # Bob closes with a wrap-up code and a note.
    bob.locator("#btn-close").click()
    close = bob.locator("#close-dialog")
    expect(close).to_be_visible()
    close.get_by_label("小结代码").select_option("resolved")
    close.get_by_label("备注").fill("已告知账单日")
    close.get_by_role("button", name="结束会话").click()
    expect(close).to_be_hidden()
    expect(bob.locator("#conv-closed")).to_be_visible()
    expect(bob.locator(".session-item")).to_have_count(0)
    expect(sup.locator(f'#live tr[data-session-id="{session_id}"]')).to_have_count(0)

    # The supervisor sets Bob away from the wall; Bob's workbench follows.
    bob_row = sup.locator("#agents tr", has_text="Bob")
    bob_row.get_by_role("combobox").select_option("away")
    expect(bob.locator("#presence-away")).to_have_attribute("aria-pressed", "true")
    expect(bob_row).to_have_attribute("data-status", "away")


def test_agent_and_supervisor_pages_pass_axe(open_page, sim, artifacts):
    for viewport in ("1280x800", "1920x1080"):
        agent = open_page(viewport, name="alice-axe", bypass_csp=True)
        login(agent, "alice", expect_path="/agent")
        expect(agent.locator("#conn-status")).to_have_attribute("data-state", "open")
        save_screenshot(agent, artifacts, f"agent-empty-{viewport}")
        violations = run_axe(agent)
        assert not violations, violations
        sup = open_page(viewport, name="super-axe", bypass_csp=True)
        login(sup, "super", expect_path="/supervisor")
        expect(sup.locator("#conn-status")).to_have_attribute("data-state", "open")
        # The subscribe_queues snapshot has been drawn.
        expect(sup.locator("#updated-at")).to_contain_text("更新于")
        save_screenshot(sup, artifacts, f"supervisor-{viewport}")
        violations = run_axe(sup)
        assert not violations, violations
