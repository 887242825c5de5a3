"""Leave-messages (留言) in Chromium against the demo server: the supervisor's list page (and the
wall's mark), and the agent's view of a leave-message, its window open and closed.

Nobody is logged in when two customers write, so both become leave-messages of the general skill
(SLA 1 s: past due at once). A supervisor sees them on the Leave-messages page with age, due and
the breach mark, and on the wall; an assignment to an agent who is away is refused in words.
Alice comes available and is offered the backlog (kind leave_message); she answers one (the
simulated customer receives it) and closes it as answered; for the other, WeChat's 48-hour
window is shown closed (the console's copy of the customer's reply budget set to 49 hours ago:
a subprocess server's clock cannot be moved; the server's refusal and the template message are
tested end to end in tests/server/test_leave_messages.py), the template alternative is offered,
and she closes it with a callback note. axe on each page;
screenshots looked at.
"""

from __future__ import annotations

import json
import urllib.request
import uuid
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DEMO_PASSWORDS, go_available, login, run_axe, save_screenshot, wait_until

pytestmark = pytest.mark.browser

# Alice answers one leave-message while the other's offer waits: offers last long enough for that.
KEFU_SERVER_ARGS = ["--offer-timeout", "120"]

RUN = uuid.uuid4().hex[:6]
CUSTOMERS = (f"o_lm_a_{RUN}", f"o_lm_b_{RUN}")


def _api(base: str, path: str, token: str | None = None, body: Any = None, method: str | None = None) -> Any:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(base + path, data=json.dumps(body).encode() if body is not None else None,
                                 headers=headers, method=method or ("POST" if body is not None else "GET"))
    with urllib.request.urlopen(req, timeout=10) as res:
        return json.loads(res.read() or b"{}")


def _token(base: str, username: str) -> str:
    return _api(base, "/api/auth/login", body={"username": username, "password": DEMO_PASSWORDS[username]})["token"]


@pytest.fixture(scope="module")
def backlog(kefu_server) -> dict[str, Any]:
    """Two leave-messages of general, left while no agent was logged in, already past due."""
    base = kefu_server.base
    admin = _token(base, "admin")
    _api(base, "/api/skills/general", admin, {"leave_message_sla_s": 1}, method="PUT")
    from tests.browser.conftest import Simulator

    sim = Simulator(base)
    sim.send(CUSTOMERS[0], "我的信用卡被盗刷了，请回电")
    sim.send(CUSTOMERS[1], "想咨询房贷提前还款")
    sup = _token(base, "super")
    items = wait_until(lambda: len(_api(base, "/api/leave-messages?status=open", sup)["items"]) >= 2 and
                       _api(base, "/api/leave-messages?status=open", sup)["items"], what="two leave-messages")
    return {"admin": admin, "super": sup, "items": {i["openid"]: i for i in items}}


def test_the_supervisor_sees_the_leave_messages_with_ages_due_and_breach(open_page, backlog, artifacts):
    page = open_page("1280x800", name="super-leave-messages", bypass_csp=True)
    open_page.allow("status of 409")  # the refused assignment below, on purpose
    login(page, "super", expect_path="/supervisor")
    # The wall marks the general queue's backlog and its breach.
    mark = page.locator('[data-leave-messages="general"]')
    expect(mark).to_contain_text("留言")
    expect(mark).to_contain_text("超时 2")
    # The waiting ones are in the wall's sessions: monitored from there, and the customer may be answered.
    first_id = backlog["items"][CUSTOMERS[0]]["session_id"]
    row = page.locator(f'#live tr[data-session-id="{first_id}"]')
    expect(row).to_contain_text("留言")
    row.get_by_role("button").first.click()
    expect(page.locator("#monitor-body")).to_be_visible()
    expect(page.locator("#btn-barge")).to_be_enabled()
    expect(page.locator("#btn-whisper")).to_be_disabled()  # nobody to whisper to
    save_screenshot(page, artifacts, "wall-leave-messages-1280x800")

    page.goto("/admin#/leave_messages")
    expect(page.locator("#admin-section-title")).to_have_text("留言")
    rows = page.locator("#lm-table tbody tr[data-session]")
    expect(rows).to_have_count(2)
    expect(page.locator("#lm-summary")).to_have_text("共 2 条留言，2 条已超时。")
    first = rows.nth(0)  # oldest first
    expect(first).to_contain_text(CUSTOMERS[0])
    expect(first).to_contain_text("我的信用卡被盗刷了")
    expect(first.locator(".badge-breach")).to_have_text("已超时")
    expect(first).to_contain_text("待分配")
    # The filters: closed ones (none yet), then the open ones again, kept in the address.
    page.locator("#lm-status").select_option("closed")
    page.get_by_role("button", name="显示").click()
    expect(page.locator("#lm-table tbody")).to_contain_text("没有符合条件的留言")
    assert "status=closed" in page.url
    page.locator("#lm-status").select_option("open")
    page.locator("#lm-skill").select_option("general")
    page.get_by_role("button", name="显示").click()
    expect(rows).to_have_count(2)
    # Assigning to an agent who is not available is refused, in words; nothing changes.
    session_id = backlog["items"][CUSTOMERS[0]]["session_id"]
    page.locator(f"#lm-assign-{session_id}").select_option(label="Alice")
    first.get_by_role("button", name="分配").click()
    expect(page.locator(".toast").last).to_contain_text("未能分配")
    expect(rows).to_have_count(2)
    save_screenshot(page, artifacts, "admin-leave-messages-1280x800", docs_name="admin-leave-messages.png")
    assert not run_axe(page), "leave-messages page"


def test_the_agent_is_offered_the_backlog_answers_one_and_closes_one_with_a_callback(
        open_page, backlog, sim, artifacts, kefu_server):
    page = open_page("1280x800", name="alice-leave-message", bypass_csp=True)
    login(page, "alice", expect_path="/agent")
    go_available(page)
    # Both leave-messages are offered (alice takes 3 at once), each marked as one.
    offers = page.locator(".offer-card")
    expect(offers).to_have_count(2)
    expect(offers.first.locator('[data-testid="offer-leave-message"]')).to_contain_text("留言")
    expect(offers.first.locator('[data-testid="offer-leave-message"]')).to_contain_text("已超时")
    save_screenshot(page, artifacts, "agent-leave-message-offer-1280x800")
    offers.first.get_by_role("button", name="接入").click()
    panel = page.locator("#conv-leave-message")
    expect(panel).to_be_visible()
    expect(panel).to_contain_text("留言")
    expect(panel.locator('[data-testid="lm-due"]')).to_contain_text("已超时")
    expect(panel).to_contain_text("微信回复窗口开放至")
    expect(page.locator("#messages")).to_contain_text("我的信用卡被盗刷了")
    page.locator("#composer-input").fill("您好，已为您冻结该卡，稍后专员回电。")
    page.locator("#send").click()
    wait_until(lambda: any("已为您冻结该卡" in (r.get("text") or "") for r in sim.replies(CUSTOMERS[0])),
               what="the customer to receive the answer")
    save_screenshot(page, artifacts, "agent-leave-message-1280x800", docs_name="agent-leave-message.png")
    assert not run_axe(page), "agent console, leave-message"
    page.locator("#lm-close-answered").click()
    expect(page.locator(".toast").last).to_contain_text("留言已关闭（已答复）")

    # The second: WeChat's window has closed (the console's copy of the budget: 49 hours ago).
    offers.first.get_by_role("button", name="接入").click()
    expect(panel).to_be_visible()
    second = backlog["items"][CUSTOMERS[1]]["session_id"]
    page.evaluate("""(id) => {
        const entry = window.kefuDebug.state.sessions.get(id);
        entry.session.budget = {...entry.session.budget, can_reply: false, reason: "window_closed",
                                window_ends_at: Date.now() / 1000 - 3600, replies_left: 0};
    }""", second)
    page.locator(f"#sessions button[data-session-id=\"{second}\"]").click()
    expect(panel).to_contain_text("微信 48 小时回复窗口已关闭")
    # The demo account's 留言回复通知 template is there (信息推送): the template alternative works.
    expect(page.locator("#lm-template")).to_be_enabled()
    expect(page.locator("#lm-template-text")).to_be_visible()
    expect(page.locator("#composer-input")).to_be_disabled()
    page.get_by_label("电话号码").fill("138 0013 8000")
    page.get_by_label("回电时间（可选）").fill("明天 10:00")
    save_screenshot(page, artifacts, "agent-leave-message-window-closed-1280x800",
                    docs_name="agent-leave-message-window-closed.png")
    assert not run_axe(page), "agent console, leave-message with the window closed"
    page.get_by_role("button", name="登记回访并关闭").click()
    expect(page.locator(".toast").last).to_contain_text("留言已关闭（电话回访）")
    closed = wait_until(lambda: _api(kefu_server.base, "/api/leave-messages?status=closed", backlog["super"])["items"],
                        what="the closed leave-messages")
    wait_until(lambda: len(_api(kefu_server.base, "/api/leave-messages?status=closed", backlog["super"])["items"]) == 2,
               what="both closed")
    outcomes = {i["openid"]: (i["outcome"], i.get("callback"))
                for i in _api(kefu_server.base, "/api/leave-messages?status=closed", backlog["super"])["items"]}
    assert outcomes[CUSTOMERS[0]] == ("answered", None)
    assert outcomes[CUSTOMERS[1]] == ("callback", {"phone": "138 0013 8000", "at": "明天 10:00"})
    assert closed
