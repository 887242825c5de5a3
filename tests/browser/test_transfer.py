"""A transfer through the consoles (issue 10, items 2 and 3): to an agent who cannot take it, it
is refused in the dialog with the reason; otherwise it is an offer that says it is a transfer,
from whom, with the note, the session stays with the agent until it is accepted, and the customer
is told. After each step the consoles' sessions and offers are compared with the server's."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from playwright.sync_api import expect

from desk.handover import CUSTOMER_NOTICE
from tests.browser.conftest import go_available, login, save_screenshot, wait_until
from tests.browser.test_handover import _token, assert_console_matches_server

pytestmark = pytest.mark.browser


def test_transfer_refused_up_front_then_offered_with_context(open_page, sim, artifacts, kefu_server):
    base = kefu_server.base
    token = _token(base, "super")
    alice = open_page("1280x800", name="alice")
    login(alice, "alice", expect_path="/agent")
    go_available(alice)
    openid = f"o_ctx_{uuid.uuid4().hex[:8]}"
    sim.send(openid, "我想办信用卡")
    offer = alice.locator(".offer-card")
    offer.get_by_role("button", name=re.compile("^接入")).click()
    expect(alice.locator("#messages .msg-in")).to_contain_text(["我想办信用卡"])
    session_id = alice.locator(".session-item").first.get_attribute("data-session-id")
    assert_console_matches_server(alice, base, token, "alice")

    bob = open_page("1280x800", name="bob")
    login(bob, "bob", expect_path="/agent")
    expect(bob.locator("#conn-status")).to_have_attribute("data-state", "open")
    if bob.locator("#presence-away").get_attribute("aria-pressed") != "true":
        bob.locator("#presence-away").click()
    expect(bob.locator("#presence-away")).to_have_attribute("aria-pressed", "true")

    def transfer_to_bob(note: str) -> Any:
        alice.get_by_role("button", name="转接").click()
        dialog = alice.locator("#transfer-dialog")
        expect(dialog).to_be_visible()
        dialog.get_by_label("指定坐席").check()
        dialog.locator("#transfer-agent-text").fill("bob")
        dialog.get_by_label("备注（接手的坐席可见）").fill(note)
        dialog.get_by_role("button", name="确认转接").click()
        return dialog

    # Bob is away: the dialog says so, nothing changes anywhere.
    dialog = transfer_to_bob("客户想办信用卡")
    expect(dialog.locator("#transfer-error")).to_contain_text("该坐席处于离开状态")
    save_screenshot(alice, artifacts, "handover-transfer-refused-1280x800")
    dialog.get_by_role("button", name="取消").click()
    expect(alice.locator(f'.session-item[data-session-id="{session_id}"]')).to_have_count(1)
    expect(alice.locator("#conv-closed")).to_be_hidden()
    assert assert_console_matches_server(alice, base, token, "alice")["sessions"] == [session_id]

    # Bob available: the transfer is an offer; the session stays Alice's until he accepts.
    go_available(bob)
    dialog = transfer_to_bob("客户想办信用卡，已核实身份")
    expect(dialog).to_be_hidden()
    expect(alice.locator(".toast", has_text="对方接受前会话仍由你负责")).to_be_visible()
    expect(alice.locator("#conv-meta")).to_contain_text("等待 Bob 接受转接")
    assert assert_console_matches_server(alice, base, token, "alice")["sessions"] == [session_id]
    bob_offer = bob.locator(f'.offer-card[data-session-id="{session_id}"]')
    context = bob_offer.locator('[data-testid="offer-transfer"]')
    expect(context).to_contain_text("Alice 转接给你")
    expect(context).to_contain_text("客户想办信用卡，已核实身份")
    assert assert_console_matches_server(bob, base, token, "bob")["offers"] == [session_id]
    save_screenshot(bob, artifacts, "handover-transfer-offer-1280x800")

    bob_offer.get_by_role("button", name=re.compile("^接入")).click()
    expect(alice.locator("#conv-closed")).to_be_visible()
    assert assert_console_matches_server(alice, base, token, "alice")["sessions"] == []
    assert assert_console_matches_server(bob, base, token, "bob")["sessions"] == [session_id]
    # The customer is told, Bob sees it in the transcript, and it counts as one transfer.
    expect(bob.locator("#messages .msg-system")).to_contain_text(CUSTOMER_NOTICE)
    expect(bob.locator("#conv-meta")).to_contain_text("已转接 1 次")
    wait_until(lambda: any(CUSTOMER_NOTICE in str(r) for r in sim.replies(openid)), what="the notice at the customer")
    save_screenshot(bob, artifacts, "handover-transfer-accepted-1280x800")
