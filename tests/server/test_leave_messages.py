"""Leave-messages (留言) end to end: the real app, the WeChat simulator, real sockets, the desk's clock moved.

Outside hours a customer's message becomes a leave-message with an SLA in business hours; the
next morning an agent who comes available is offered it (``kind: leave_message``), accepts,
answers through the customer-service API and the simulated customer receives it; a breach shows
on the wall; a closed 48-hour window refuses the send with the alternatives; supervisors assign
one (not to another team's agent), monitor it and barge in while it waits.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from wechat.budget import MESSAGE_WINDOW_SECS
from wechat.sim.templates import LEAVE_MESSAGE_ANSWERED

SH = ZoneInfo("Asia/Shanghai")
EVERY_DAY_9_TO_18 = {"timezone": "Asia/Shanghai",
                     "weekly": {d: [["09:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}}


def api_replies(platform, openid: str) -> list[str]:
    return [r["text"] for r in platform.replies.get(openid, []) if r.get("kind") == "api"]


def at_local(base: float, hour: int, minute: int = 0) -> float:
    """The first moment at ``hour:minute`` Shanghai time after ``base`` (within a day)."""
    local = dt.datetime.fromtimestamp(base, SH)
    target = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if target.timestamp() <= base:
        target += dt.timedelta(days=1)
    return target.timestamp()


def fake_clock(kefu) -> dict[str, float]:
    """The desk's clock under the test's hand. WeChat's (the simulator's) stays real: it is at
    most a day behind, well inside the 48-hour window."""
    clock = {"now": kefu.desk.clock()}
    kefu.desk.clock = kefu.desk.routing.clock = lambda: clock["now"]
    return clock


async def put_skill(api, admin: str, name: str, **fields: Any) -> dict[str, Any]:
    status, skill = await api(f"/api/skills/{name}", "PUT", fields, token=admin)
    assert status == 200, skill
    return skill


async def leave_a_message(kefu, customer, openid: str, *texts: str) -> dict[str, Any]:
    for text in texts:
        await customer.send_text(openid, text)
    await kefu.desk.drain()
    [session] = await kefu.store.customer_sessions(openid)
    assert session["state"] == "diverted" and session["leave_message"], session
    return session


@pytest.mark.gen_test(timeout=60)
async def test_outside_hours_the_next_morning_an_agent_is_offered_it_answers_and_the_customer_gets_it(
        kefu, api, login, console, customer, platform) -> None:
    admin, _ = await login("admin")
    clock = fake_clock(kefu)
    clock["now"] = at_local(clock["now"], 22)  # 22:00 in Shanghai, the skill opens at 09:00
    await put_skill(api, admin, "general", hours=EVERY_DAY_9_TO_18, leave_message_sla_s=2 * 3600)
    alice = await console("alice")
    await alice.ok("presence", status="available")

    session = await leave_a_message(kefu, customer, "o-night", "我的卡被冻结了", "请尽快回电")
    lm = session["leave_message"]
    assert (lm["reason"], lm["created_at"]) == ("outside_hours", clock["now"])
    # Two hours of business hours: 09:00 to 11:00 the next morning, not midnight.
    assert lm["due_at"] == at_local(clock["now"], 11)
    assert not [e for e in alice.events if e["event"] == "offer"]
    inbound = [m for m in await kefu.store.session_messages(session["id"]) if m["direction"] == "in"]
    assert len(inbound) == 2  # the second message joined it (beside the out-of-hours text)

    sup, _ = await login("super")
    status, body = await api("/api/leave-messages?status=open", token=sup)
    assert status == 200
    [item] = body["items"]
    assert (item["session_id"], item["status"], item["skill"], item["breached"]) == (
        session["id"], "open", "general", False)
    assert [m["text"] for m in item["messages"] if m["direction"] == "in"] == ["我的卡被冻结了", "请尽快回电"]

    # The next morning: alice (logged in, away overnight) comes available and is offered it.
    await alice.ok("presence", status="away")
    clock["now"] = at_local(clock["now"], 9, 5)
    await alice.ok("presence", status="available")
    offer = await alice.event("offer", session_id=session["id"])
    assert offer["kind"] == "leave_message"
    assert offer["leave_message"]["due_at"] == lm["due_at"] and offer["leave_message"]["age_s"] == 11 * 3600 + 300
    assert [m["text"] for m in offer["messages"]] == ["我的卡被冻结了", "请尽快回电"]
    bundle = await alice.ok("accept", session_id=session["id"])
    assert bundle["session"]["leave_message"]["due_at"] == lm["due_at"]
    assert bundle["session"]["budget"]["can_reply"] is True
    sent = await alice.ok("send", session_id=session["id"], text="您好，卡已解冻")
    status_event = await alice.event("message_status", message_id=sent["message"]["id"])
    assert status_event["status"] == "sent"
    assert "您好，卡已解冻" in api_replies(platform, "o-night")  # the customer has it, in WeChat

    result = await alice.ok("close_leave_message", session_id=session["id"], outcome="answered")
    assert result["outcome"] == "answered"
    status, body = await api("/api/leave-messages?status=closed&skill=general", token=sup)
    [closed] = body["items"]
    assert (closed["session_id"], closed["outcome"], closed["agent_id"]) == (session["id"], "answered",
                                                                             alice.user["id"])
    assert (await kefu.store.get_session(session["id"]))["state"] == "closed"
    # Bad filters are named, and an agent may not list.
    status, body = await api("/api/leave-messages?status=later", token=sup)
    assert (status, body["error"]["code"], body["error"]["field"]) == (400, "bad_field", "status")
    status, body = await api("/api/leave-messages?skill=nope", token=sup)
    assert (status, body["error"]["field"]) == (400, "skill")
    agent_token, _ = await login("alice")
    assert (await api("/api/leave-messages", token=agent_token))[0] == 403


@pytest.mark.kefu(offer_timeout=1)
@pytest.mark.gen_test(timeout=60)
async def test_the_backlog_is_redistributed_live_customers_first_and_a_missed_offer_moves_on(
        kefu, api, login, console, customer) -> None:
    admin, _ = await login("admin")
    await put_skill(api, admin, "general", offer_timeout_s=1)
    # Nobody with the skill logged in: diverted (no_agents).
    first = await leave_a_message(kefu, customer, "o-lm1", "第一条留言")
    assert first["leave_message"]["reason"] == "no_agents"
    bob = await console("bob")
    await bob.ok("presence", status="away")
    alice = await console("alice")
    await alice.ok("presence", status="away")
    await customer.send_text("o-live", "在线客户")  # waits: agents are logged in, none available
    await kefu.desk.drain()
    await bob.ok("presence", status="available")
    # bob (capacity 2): the live customer first, then the leave-message.
    live = await bob.event("offer")
    assert (live["customer"]["openid"], live["kind"]) == ("o-live", "session")
    left = await bob.event("offer", kind="leave_message")
    assert left["session_id"] == first["id"]
    # bob lets it time out: it goes to alice, who comes available, not left where it fell.
    await bob.event("offer_revoked", session_id=first["id"], reason="timeout")
    await alice.ok("presence", status="available")
    again = await alice.event("offer", session_id=first["id"])
    assert again["kind"] == "leave_message"
    await alice.ok("accept", session_id=first["id"])
    status, body = await api("/api/leave-messages?status=assigned", token=(await login("super"))[0])
    assert [(i["session_id"], i["agent_id"]) for i in body["items"]] == [(first["id"], alice.user["id"])]


@pytest.mark.gen_test(timeout=60)
async def test_an_sla_breach_shows_on_the_wall(kefu, api, login, console, customer) -> None:
    admin, _ = await login("admin")
    clock = fake_clock(kefu)
    await put_skill(api, admin, "cards", leave_message_sla_s=600)  # always open: 10 minutes
    session = await leave_a_message(kefu, customer, "o-wall", "信用卡问题")  # nobody logged in
    customer_session = await kefu.store.get_customer("o-wall")
    assert customer_session is not None
    await kefu.store.update_customer("o-wall", last_skill="cards")
    supervisor = await console("super")
    wall = await supervisor.ok("subscribe_queues")
    general = next(q for q in wall["queues"] if q["skill"] == session["skill"])
    assert general["leave_messages"]["open"] == 1 and general["leave_messages"]["breached"] == 0
    clock["now"] += 8 * 3600 + 60  # past the default SLA of the general skill (8 business hours)
    wall = await supervisor.ok("subscribe_queues")
    general = next(q for q in wall["queues"] if q["skill"] == session["skill"])
    assert general["leave_messages"] == {"open": 1, "assigned": 0, "breached": 1,
                                         "oldest_s": pytest.approx(8 * 3600 + 60, abs=5)}
    assert wall["leave_messages"] == {"open": 1, "assigned": 0, "breached": 1}
    snapshot = await kefu.desk.wall_snapshot()
    assert snapshot["leave_messages"]["breached"] == 1
    status, body = await api("/api/leave-messages", token=(await login("super"))[0])
    assert body["items"][0]["breached"] is True


@pytest.mark.gen_test(timeout=60)
async def test_a_closed_window_refuses_the_send_with_the_alternatives_and_a_template_message_answers(
        kefu, api, login, console, customer, platform) -> None:
    admin, _ = await login("admin")
    session = await leave_a_message(kefu, customer, "o-old", "上周的留言")
    bob = await console("bob")
    await bob.ok("presence", status="available")
    await bob.event("offer", session_id=session["id"])
    await bob.ok("accept", session_id=session["id"])
    # The customer last wrote 49 hours ago, for Kefu and for WeChat.
    stored = await kefu.store.get_customer("o-old")
    budget = dict(stored["budget"])
    budget["last_message_at"] = kefu.desk.clock() - MESSAGE_WINDOW_SECS - 3600
    await kefu.store.update_customer("o-old", budget=budget)
    platform.customers["o-old"].budget.last_message_at -= MESSAGE_WINDOW_SECS + 3600
    refused = await bob.command("send", session_id=session["id"], text="您好")
    assert refused["ok"] is False
    error = refused["error"]
    assert error["code"] == "reply_window_closed" and "48-hour" in error["message"]
    assert [a["kind"] for a in error["alternatives"]] == ["template", "callback"]
    # The demo account has a template for answering leave-messages (信息推送): available.
    template = error["alternatives"][0]
    assert (template["available"], template["template_id"], template["title"]) == (
        True, LEAVE_MESSAGE_ANSWERED.template_id, "留言回复通知")
    options = await bob.ok("leave_message_alternatives", session_id=session["id"])
    assert options["budget"]["can_reply"] is False and options["alternatives"][1]["available"] is True
    # A template id that is not the account's: the alternative says so; a bad one is refused.
    status, _ = await api("/api/settings/leave_messages", "PUT", {"template_id": "TPL_unknown"}, token=admin)
    assert status == 200
    options = await bob.ok("leave_message_alternatives", session_id=session["id"])
    assert options["alternatives"][0]["reason"] == "no_template_configured"
    bad = await api("/api/settings/leave_messages", "PUT", {"template_id": "no spaces!"}, token=admin)
    assert (bad[0], bad[1]["error"]["field"]) == (400, "template_id")
    status, _ = await api("/api/settings/leave_messages", "PUT", {"template_id": ""}, token=admin)
    assert "您好" not in api_replies(platform, "o-old")
    # Closing: answered is refused (nothing was sent), a callback needs a phone number.
    nothing = await bob.command("close_leave_message", session_id=session["id"], outcome="answered")
    assert nothing["error"]["code"] == "invalid_state"
    no_phone = await bob.command("close_leave_message", session_id=session["id"], outcome="callback")
    assert (no_phone["error"]["code"], no_phone["error"]["field"]) == ("bad_field", "callback_phone")
    unknown = await bob.command("close_leave_message", session_id=session["id"], outcome="maybe")
    assert unknown["error"]["code"] == "bad_request"
    # The answer as a template message: the customer's WeChat shows the card, the leave-message closes.
    done = await bob.ok("send_leave_message_template", session_id=session["id"], text="卡已解冻，可正常使用")
    assert (done["outcome"], done["notification"]["status"]) == ("template_sent", "sent")
    card = next(r for r in platform.replies["o-old"] if r["kind"] == "template")
    fields = {f["label"]: f["value"] for f in card["fields"]}
    assert (card["title"], fields["留言内容"], fields["回复内容"], fields["客服"]) == (
        "留言回复通知", "上周的留言", "卡已解冻，可正常使用", "Bob")
    closed = await kefu.store.get_session(session["id"])
    assert (closed["state"], closed["leave_message"]["outcome"]) == ("closed", "template_sent")
    again = await bob.command("close_leave_message", session_id=session["id"], outcome="no_action")
    assert again["error"]["code"] == "not_your_session"  # closed: nobody's any more


@pytest.mark.gen_test(timeout=60)
async def test_a_callback_closes_a_leave_message_with_the_number_and_time(kefu, console, customer) -> None:
    session = await leave_a_message(kefu, customer, "o-call", "请给我回电")
    bob = await console("bob")
    await bob.ok("presence", status="available")
    await bob.event("offer", session_id=session["id"])
    await bob.ok("accept", session_id=session["id"])
    done = await bob.ok("close_leave_message", session_id=session["id"], outcome="callback",
                        callback_phone="138 0013 8000", callback_at="明天 10:00", note="客户要求电话联系")
    assert done["callback"] == {"phone": "138 0013 8000", "at": "明天 10:00"}
    closed = await kefu.store.get_session(session["id"])
    assert closed["state"] == "closed"
    assert (closed["leave_message"]["outcome"], closed["leave_message"]["callback"]["phone"],
            closed["leave_message"]["outcome_note"]) == ("callback", "138 0013 8000", "客户要求电话联系")


async def _team(api, admin: str, supervisor: str, members: list[str]) -> None:
    status, users = await api("/api/users", token=admin)
    ids = {u["username"]: u["id"] for u in users["users"]}
    status, team = await api("/api/teams", "POST", {"name": "早班", "supervisors": [ids[supervisor]],
                                                     "members": [ids[m] for m in members]}, token=admin)
    assert status == 201, team


@pytest.mark.gen_test(timeout=60)
async def test_a_supervisor_assigns_a_leave_message_not_across_teams_and_monitors_and_barges_while_it_waits(
        kefu, api, login, console, customer, platform) -> None:
    admin, _ = await login("admin")
    await put_skill(api, admin, "general", hours={"timezone": "Asia/Shanghai", "weekly": {}})  # closed all week
    await _team(api, admin, "super", ["bob"])
    alice = await console("alice")
    bob = await console("bob")
    await alice.ok("presence", status="available")
    await bob.ok("presence", status="available")
    session = await leave_a_message(kefu, customer, "o-assign", "周末的留言")
    supervisor = await console("super")

    # Monitor and barge on the waiting leave-message (an open one is every team's work).
    watched = await supervisor.ok("monitor", session_id=session["id"])
    assert [m["text"] for m in watched["messages"]][0] == "周末的留言"
    await customer.send_text("o-assign", "还有一个问题")
    joined = await supervisor.event("message", session_id=session["id"])
    assert joined["message"]["text"] == "还有一个问题"
    await supervisor.ok("barge", session_id=session["id"], text="您好，主管已收到留言")
    await kefu.desk.drain()
    assert "您好，主管已收到留言" in api_replies(platform, "o-assign")

    # Across teams: alice is not in super's team.
    refused = await supervisor.command("assign_leave_message", session_id=session["id"], to_agent="alice")
    assert refused["error"]["code"] == "forbidden"
    missing = await supervisor.command("assign_leave_message", session_id="nope", to_agent="bob")
    assert missing["error"]["code"] == "not_found"
    # To bob, at an hour the skill is closed: offered at once.
    result = await supervisor.ok("assign_leave_message", session_id=session["id"], to_agent="bob")
    assert result["status"] == "offered"
    offer = await bob.event("offer", session_id=session["id"])
    assert offer["kind"] == "leave_message"
    assert [m["text"] for m in offer["messages"]] == ["周末的留言", "还有一个问题"]
    await bob.ok("accept", session_id=session["id"])
    assert not [e for e in alice.events if e["event"] == "offer"]
    status, body = await api("/api/leave-messages?status=assigned", token=(await login("super"))[0])
    assert [i["agent_id"] for i in body["items"]] == [bob.user["id"]]
    actions = [e["action"] for e in (await api("/api/audit?action=assign_leave_message", token=admin))[1]["entries"]]
    assert actions == ["assign_leave_message"]


@pytest.mark.gen_test(timeout=60)
async def test_a_customer_who_writes_again_while_the_skill_is_open_waits_as_a_live_customer(
        kefu, console, customer) -> None:
    session = await leave_a_message(kefu, customer, "o-back", "没人在吗")  # nobody logged in: no_agents
    bob = await console("bob")
    await bob.ok("presence", status="away")  # logged in: the queue can take a customer now
    await customer.send_text("o-back", "我又来了")
    await kefu.desk.drain()
    state = kefu.desk.routing.engine.session(session["id"])
    assert (state["state"], state["priority"]) == ("queued", 0)  # a live customer's priority, not -1
    stored = await kefu.store.get_session(session["id"])
    assert stored["leave_message"]["created_at"] == session["leave_message"]["created_at"]  # its age kept
    await bob.ok("presence", status="available")
    offer = await bob.event("offer", session_id=session["id"])
    assert offer["kind"] == "leave_message"
    assert [m["text"] for m in offer["messages"]] == ["没人在吗", "我又来了"]
