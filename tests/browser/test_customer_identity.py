"""Customers appear by their WeChat nickname and avatar in every console view (offer, session list,
conversation header, customer panel, history, supervisor wall and monitor), with the openid kept
as a detail, and with the initial when the avatar picture cannot be loaded."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import go_available, login, save_screenshot

pytestmark = pytest.mark.browser


def expect_picture(avatar) -> None:
    """The avatar shows a loaded picture (not the initial)."""
    img = avatar.locator("img.avatar-img")
    expect(img).to_have_count(1)
    img.evaluate("img => img.decode()")  # resolves once the picture is loaded and decodable
    assert img.evaluate("img => img.naturalWidth") > 0


def test_names_and_avatars_in_every_view(open_page, sim, artifacts):
    sup = open_page("1920x1080", name="super")
    login(sup, "super", expect_path="/supervisor")
    expect(sup.locator("#conn-status")).to_have_attribute("data-state", "open")
    alice = open_page("1280x800", name="alice")
    # A customer whose avatar link is dead (404): the initial stays.
    open_page.allow("the server responded with a status of 404")
    login(alice, "alice", expect_path="/agent")
    expect(alice.locator("#conn-status")).to_have_attribute("data-state", "open")

    openid = f"o_name_{uuid.uuid4().hex[:10]}"
    sim.send(openid, "你好，我想咨询一下贷款", nickname="陈小红")

    # The wall lists the waiting customer by name, the openid beside it.
    row = sup.locator("#live tr", has_text="陈小红")
    expect(row).to_be_visible()
    expect(row.locator(".customer-id")).to_have_text(openid)
    expect_picture(row.locator(".avatar"))

    # The offer says who it is.
    go_available(alice)
    offer = alice.locator(".offer-card", has_text="陈小红")
    expect(offer).to_be_visible()
    expect(offer.locator(".offer-name")).to_have_text("陈小红")
    expect(offer.locator(".offer-name")).to_have_attribute("title", openid)
    expect(offer.locator(".customer-id")).to_have_text(openid)
    expect_picture(offer.locator(".avatar"))
    expect(offer.get_by_role("button", name="接入 陈小红")).to_be_visible()
    save_screenshot(alice, artifacts, "identity-offer-1280x800")

    offer.get_by_role("button", name=re.compile("^接入")).click()
    item = alice.locator(".session-item", has_text="陈小红")
    expect(item).to_be_visible()
    expect(item.locator(".session-name")).to_have_attribute("title", openid)
    expect_picture(item.locator(".avatar"))
    expect(alice.locator("#conv-title")).to_have_text("陈小红")
    expect(alice.locator("#conv-meta")).to_contain_text(openid)
    expect_picture(alice.locator("#conv-avatar .avatar"))
    expect(alice.locator("#customer-name")).to_have_text("陈小红")
    expect(alice.locator("#customer-openid")).to_have_text(openid)
    expect_picture(alice.locator("#customer-avatar .avatar"))
    session_id = item.get_attribute("data-session-id")

    # The supervisor's agents table and monitor name the customer too.
    chip = sup.locator("#agents tr", has_text="Alice").get_by_role("button", name=re.compile("陈小红"))
    expect(chip).to_be_visible()
    sup.locator(f'#live tr[data-session-id="{session_id}"]').get_by_role("button").click()
    expect(sup.locator("#monitor-title")).to_have_text("陈小红")
    expect(sup.locator("#monitor-meta")).to_contain_text(openid)
    expect_picture(sup.locator("#monitor-avatar .avatar"))

    # A second customer whose picture cannot be loaded shows the initial of the name.
    broken = f"o.dead.avatar.{uuid.uuid4().hex[:6]}"  # the simulator serves no picture for this id
    sim.send(broken, "在吗", nickname="李雷")
    second = alice.locator(".offer-card", has_text="李雷")
    expect(second).to_be_visible()
    expect(second.locator(".avatar")).to_have_text("李")
    expect(second.locator(".avatar img")).to_have_count(0)
    save_screenshot(alice, artifacts, "identity-agent-1280x800")
    save_screenshot(sup, artifacts, "identity-supervisor-1920x1080")
    second.get_by_role("button", name=re.compile("^拒绝")).click()

    # Closed and back: the history names the customer.
    alice.locator("#btn-close").click()
    close = alice.locator("#close-dialog")
    close.get_by_label("小结代码").select_option("resolved")
    close.get_by_role("button", name="结束会话").click()
    expect(close).to_be_hidden()
    expect(alice.locator("#conv-closed")).to_have_text("本次会话已结束。仅供查看。")
    sim.send(openid, "我又来了", nickname="陈小红")
    alice.locator(".offer-card", has_text="陈小红").get_by_role("button", name=re.compile("^接入")).click()
    expect(alice.locator("#conv-title")).to_have_text("陈小红")
    history = alice.locator("#history .history-item")
    expect(history).to_have_count(1)
    history.click()
    expect(alice.locator("#history-meta")).to_contain_text("陈小红")
    expect(alice.locator("#history-messages")).to_contain_text("你好，我想咨询一下贷款")
    save_screenshot(alice, artifacts, "identity-history-1280x800")


def test_the_wall_lists_every_agent_and_says_when_it_is_stale(open_page, artifacts):
    open_page.allow("the server responded with a status of 404")  # the dead avatar of the test above
    sup = open_page("1920x1080", name="super")
    cut = {"on": False}
    queues_event = re.compile(r'"event":\s*"queues"')

    def relay(ws):
        # The page's socket goes through here; with ``cut`` on, queue events stop reaching the
        # page while the socket itself stays up (a stalled event stream).
        server = ws.connect_to_server()
        ws.on_message(lambda m: server.send(m))
        server.on_message(lambda m: None if cut["on"] and queues_event.search(str(m)) else ws.send(m))

    sup.route_web_socket("**/ws", relay)
    login(sup, "super", expect_path="/supervisor")
    expect(sup.locator("#conn-status")).to_have_attribute("data-state", "open")
    # Agents who have not logged in are on the wall, as offline, and counted.
    for name in ("Bob", "Carol"):
        expect(sup.locator("#agents tr", has_text=name)).to_have_attribute("data-status", "offline")
    expect(sup.locator("#agents-summary")).to_contain_text(re.compile(r"离线 [1-9]"))
    expect(sup.locator('.queue-card[data-skill="cards"] .pill-offline')).to_have_text(re.compile(r"离线 [1-9]"))

    # A quiet wall still moves: "updated at" changes with the server's periodic repaint.
    updated = sup.locator("#updated-at")
    expect(updated).to_contain_text("更新于")
    before = updated.text_content()
    expect(updated).not_to_have_text(before, timeout=15000)
    save_screenshot(sup, artifacts, "wall-live-1920x1080")

    # Events stop: after three missed repaints the wall says it may be out of date.
    cut["on"] = True
    expect(updated).to_contain_text("数据可能已过时", timeout=25000)
    expect(updated).to_have_class(re.compile("stale"))
    save_screenshot(sup, artifacts, "wall-stale-1920x1080")
    cut["on"] = False
    expect(updated).not_to_contain_text("数据可能已过时", timeout=15000)
