"""The desk end to end: skills and capacity, offer timeouts, transfers, resume, tabs, supervisors,
ownership, WeChat's reply limits, idle close and agent loss — real app, real sockets, simulator."""

from __future__ import annotations

import pytest

from wechat.budget import MESSAGE_WINDOW_SECS


async def take(agent, customer, openid: str, text: str = "你好") -> str:
    """The customer writes, ``agent`` is offered the session and accepts it; returns its id."""
    await customer.send_text(openid, text)
    offer = await agent.event("offer")
    assert offer["customer"]["openid"] == openid
    result = await agent.ok("accept", session_id=offer["session_id"])
    return result["session"]["id"]


def api_replies(platform, openid: str) -> list[str]:
    return [r["text"] for r in platform.replies.get(openid, []) if r.get("kind") == "api"]


@pytest.mark.gen_test(timeout=30)
async def test_sessions_go_to_agents_with_the_skill_and_capacity(console, customer) -> None:
    alice = await console("alice")  # general 5, loans 3; capacity 3
    bob = await console("bob")  # general 3, cards 5; capacity 2
    await alice.ok("presence", status="available")
    await bob.ok("presence", status="available")

    await customer.click("o-card-1", "skill:cards")
    await customer.send_text("o-card-1", "信用卡问题")
    offer = await bob.event("offer")
    assert (offer["skill"], offer["customer"]["openid"]) == ("cards", "o-card-1")
    await bob.ok("accept", session_id=offer["session_id"])

    await customer.click("o-loan-1", "skill:loans")
    await customer.send_text("o-loan-1", "贷款问题")
    offer = await alice.event("offer")
    assert (offer["skill"], offer["customer"]["openid"]) == ("loans", "o-loan-1")
    await alice.ok("accept", session_id=offer["session_id"])

    await customer.click("o-card-2", "skill:cards")
    await customer.send_text("o-card-2", "第二个信用卡问题")
    offer = await bob.event("offer")
    await bob.ok("accept", session_id=offer["session_id"])

    # Bob is at capacity 2/2 and alice lacks the skill: the third cards customer waits.
    await customer.click("o-card-3", "skill:cards")
    await customer.send_text("o-card-3", "第三个")
    supervisor = await console("super")
    wall = await supervisor.ok("subscribe_queues")
    cards = next(q for q in wall["queues"] if q["skill"] == "cards")
    assert cards["waiting"] == 1
    assert not [e for e in alice.events if e["event"] == "offer" and e["data"]["skill"] == "cards"]


@pytest.mark.kefu(offer_timeout=1)
@pytest.mark.gen_test(timeout=30)
async def test_offer_timeout_moves_the_offer_to_the_next_agent(console, customer) -> None:
    alice = await console("alice")
    bob = await console("bob")
    await alice.ok("presence", status="available")
    await bob.ok("presence", status="available")
    await customer.send_text("o-timeout", "有人吗")
    # Whoever got it first lets it time out; the other one gets it next.
    first_agent, offer = await _first_offer(alice, bob)
    other = bob if first_agent is alice else alice
    revoked = await first_agent.event("offer_revoked", session_id=offer["session_id"])
    assert revoked["reason"] == "timeout"
    second = await other.event("offer", session_id=offer["session_id"])
    assert second["customer"]["openid"] == "o-timeout"
    late = await first_agent.command("accept", session_id=offer["session_id"])
    assert not late["ok"] and late["error"]["code"] == "invalid_state"
    await other.ok("accept", session_id=offer["session_id"])


async def _first_offer(a, b):
    """Wait for the one offer that went to a or b (reading both sockets without sleeping)."""
    import asyncio

    tasks = {asyncio.ensure_future(a.event("offer")): a, asyncio.ensure_future(b.event("offer")): b}
    done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    task = done.pop()
    return tasks[task], task.result()


@pytest.mark.gen_test(timeout=30)
async def test_transfer_to_an_agent_and_to_a_skill(console, customer) -> None:
    alice = await console("alice")
    bob = await console("bob")
    carol = await console("carol")
    await alice.ok("presence", status="available")
    session_id = await take(alice, customer, "o-transfer", "我要转人工")
    await bob.ok("presence", status="available")
    await carol.ok("presence", status="available")

    # Direct transfer declined: the session stays with alice.
    await alice.ok("transfer", session_id=session_id, to_agent="bob")
    offer = await bob.event("offer", session_id=session_id)
    assert offer["transfer_from"] == alice.user["id"]
    await bob.ok("reject", session_id=session_id)
    notice = await alice.event("notice", code="transfer_returned")
    assert notice["session_id"] == session_id
    await alice.ok("send", session_id=session_id, text="还是我来帮您")

    # Direct transfer accepted: bob has it, alice is told it left.
    await alice.ok("transfer", session_id=session_id, to_agent="bob", note="cards question")
    await bob.event("offer", session_id=session_id)
    accepted = await bob.ok("accept", session_id=session_id)
    assert [m["text"] for m in accepted["messages"]][-1] == "还是我来帮您"
    assert (await alice.event("session_closed", session_id=session_id))["reason"] == "transferred"
    refused = await alice.command("send", session_id=session_id, text="还在吗")
    assert refused["error"]["code"] == "not_your_session"

    # To a skill: the loans queue; carol (loans 4) gets it while alice (loans 3) is away.
    await alice.ok("presence", status="away")
    await bob.ok("transfer", session_id=session_id, to_skill="loans")
    assert (await bob.event("session_closed", session_id=session_id))["reason"] == "transferred"
    offer = await carol.event("offer", session_id=session_id)
    assert offer["skill"] == "loans"
    bundle = await carol.ok("accept", session_id=session_id)
    # Transfers that happened, not attempts: the declined one does not count.
    assert [t.get("to_skill") or t.get("to_agent") for t in bundle["session"]["transfers"]] == [
        bob.user["id"], "loans"]


@pytest.mark.gen_test(timeout=30)
async def test_resume_after_a_dropped_socket_loses_and_doubles_nothing(console, customer) -> None:
    alice = await console("alice")
    await alice.ok("presence", status="available")
    session_id = await take(alice, customer, "o-resume", "第1条")
    await alice.event("session_assigned")
    last_seq = max(e["seq"] for e in alice.events)
    alice.close()

    for i in range(2, 6):
        await customer.send_text("o-resume", f"第{i}条")

    again = await console("alice", resume=last_seq, token=alice.token)
    texts = []
    while len(texts) < 4:
        data = await again.event("message", session_id=session_id)
        texts.append(data["message"]["text"])
    assert texts == ["第2条", "第3条", "第4条", "第5条"]
    seqs = [e["seq"] for e in again.events]
    assert seqs == list(range(last_seq + 1, last_seq + 1 + len(seqs)))
    # The session is in welcome too, and live events follow the replay.
    assert [b["session"]["id"] for b in again.welcome["sessions"]] == [session_id]
    await customer.send_text("o-resume", "第6条")
    assert (await again.event("message", session_id=session_id))["message"]["text"] == "第6条"
    texts_seen = [e["data"]["message"]["text"] for e in again.events if e["event"] == "message"]
    assert len(texts_seen) == len(set(texts_seen))


@pytest.mark.gen_test(timeout=30)
async def test_every_tab_of_a_user_gets_every_event(console, customer) -> None:
    tab1 = await console("alice")
    tab2 = await console("alice", token=tab1.token)
    await tab1.ok("presence", status="available")
    await customer.send_text("o-tabs", "两个标签页")
    offer1 = await tab1.event("offer")
    offer2 = await tab2.event("offer")
    assert offer1 == offer2
    await tab2.ok("accept", session_id=offer1["session_id"])
    assigned1 = await tab1.event("session_assigned")
    assigned2 = await tab2.event("session_assigned")
    assert assigned1["session"]["id"] == assigned2["session"]["id"] == offer1["session_id"]
    seq1 = [e["seq"] for e in tab1.events]
    seq2 = [e["seq"] for e in tab2.events]
    assert seq1 == seq2


@pytest.mark.gen_test(timeout=30)
async def test_supervisor_monitors_whispers_barges_and_explains(console, customer, platform, api, login) -> None:
    alice = await console("alice")
    supervisor = await console("super")
    wall = await supervisor.ok("subscribe_queues")
    assert {q["skill"] for q in wall["queues"]} >= {"general", "loans", "cards"}
    await alice.ok("presence", status="available")
    update = await supervisor.event("queues")
    assert any(a["id"] == alice.user["id"] and a["status"] == "available" for a in update["agents"])
    session_id = await take(alice, customer, "o-super", "我要投诉")

    watched = await supervisor.ok("monitor", session_id=session_id)
    assert [m["text"] for m in watched["messages"]] == ["我要投诉"]
    await customer.send_text("o-super", "等了很久")
    assert (await supervisor.event("message", session_id=session_id))["message"]["text"] == "等了很久"

    before = len(platform.replies.get("o-super", []))
    await supervisor.ok("whisper", session_id=session_id, text="先道歉，再处理")
    whisper = await alice.event("whisper", session_id=session_id)
    assert whisper["message"]["text"] == "先道歉，再处理"
    assert len(platform.replies.get("o-super", [])) == before  # the customer never sees a whisper

    await supervisor.ok("barge", session_id=session_id, text="您好，我是值班主管")
    barged = await alice.event("message", session_id=session_id,
                               where=lambda d: d["message"]["author"] == "supervisor")
    assert (barged["message"]["author"], barged["message"]["text"]) == ("supervisor", "您好，我是值班主管")
    await alice.event("message_status", message_id=barged["message"]["id"])
    assert api_replies(platform, "o-super")[-1] == "您好，我是值班主管"

    explained = await supervisor.ok("explain", session_id=session_id)
    assert alice.user["id"] in explained["text"]

    admin_token, _ = await login("admin")
    code, audit = await api(f"/api/audit?session_id={session_id}", token=admin_token)
    assert code == 200
    assert {e["action"] for e in audit["entries"]} >= {"monitor", "whisper", "barge", "explain"}
    assert all(e["actor_id"] == supervisor.user["id"] for e in audit["entries"])

    # An agent may not use supervisor commands.
    denied = await alice.command("whisper", session_id=session_id, text="x")
    assert denied["error"]["code"] == "forbidden"


@pytest.mark.gen_test(timeout=30)
async def test_agents_cannot_act_on_sessions_that_are_not_theirs(console, customer, api) -> None:
    alice = await console("alice")
    bob = await console("bob")
    await alice.ok("presence", status="available")
    session_id = await take(alice, customer, "o-mine")
    for command, fields in (("send", {"text": "hi"}), ("close", {"wrapup": "resolved"}),
                            ("transfer", {"to_skill": "loans"})):
        result = await bob.command(command, session_id=session_id, **fields)
        assert result["error"]["code"] == "not_your_session", (command, result)
    taken = await bob.command("accept", session_id=session_id)
    assert taken["error"]["code"] == "invalid_state"
    code, _ = await api(f"/api/sessions/{session_id}", token=bob.token)
    assert code == 403


@pytest.mark.gen_test(timeout=30)
async def test_reply_budget_refuses_the_sixth_send_before_wechat(console, customer, platform) -> None:
    alice = await console("alice")
    await alice.ok("presence", status="available")
    session_id = await take(alice, customer, "o-budget")
    assigned = await alice.event("session_assigned")
    assert assigned["session"]["budget"]["replies_left"] == 5
    for i in range(5):
        await alice.ok("send", session_id=session_id, text=f"回复{i}")
    update = None
    while update is None or update["session"]["budget"]["replies_left"] != 0:
        update = await alice.event("session_updated")
    assert update["session"]["budget"]["can_reply"] is False
    sixth = await alice.command("send", session_id=session_id, text="第六条")
    assert sixth["error"]["code"] == "reply_quota_used"
    assert "5" in sixth["error"]["message"]
    await customer.send_text("o-budget", "我又发了一条")
    refreshed = await alice.event("session_updated")
    assert refreshed["session"]["budget"]["replies_left"] == 5
    await alice.ok("send", session_id=session_id, text="现在可以了")
    calls = [r for r in api_replies(platform, "o-budget")]
    assert "第六条" not in calls


@pytest.mark.gen_test(timeout=30)
async def test_wechat_45015_is_reported_in_words(console, customer, platform) -> None:
    alice = await console("alice")
    await alice.ok("presence", status="available")
    session_id = await take(alice, customer, "o-45015")
    # WeChat's clock says the customer last wrote 49 hours ago (Kefu's record says otherwise).
    platform.customers["o-45015"].budget.last_message_at -= MESSAGE_WINDOW_SECS + 3600
    sent = await alice.ok("send", session_id=session_id, text="您还在吗？")
    status = await alice.event("message_status", message_id=sent["message"]["id"])
    assert status["status"] == "failed"
    assert status["error"]["code"] == "wechat_45015"
    assert "48-hour" in status["error"]["message"]


@pytest.mark.gen_test(timeout=30)
async def test_idle_customer_session_is_closed_and_the_customer_told(console, customer, kefu, platform) -> None:
    alice = await console("alice")
    await alice.ok("presence", status="available")
    session_id = await take(alice, customer, "o-idle")
    await kefu.store.update_session(session_id, last_customer_at=kefu.desk.clock() - kefu.config.idle_timeout - 5)
    assert await kefu.desk.close_idle_sessions() == 1
    closed = await alice.event("session_closed", session_id=session_id)
    assert closed["reason"] == "idle"
    await kefu.desk.drain()  # the notice to the customer is delivered in the background
    # The idle text, then the satisfaction survey (on in --demo: idle closes are surveyed too).
    assert "结束" in api_replies(platform, "o-idle")[-2] and "打分" in api_replies(platform, "o-idle")[-1]
    assert (await kefu.store.get_session(session_id))["state"] == "closed"


@pytest.mark.kefu(disconnect_grace=1)
@pytest.mark.gen_test(timeout=30)
async def test_an_absent_agents_sessions_are_requeued_after_the_grace(console, customer) -> None:
    alice = await console("alice")
    bob = await console("bob")
    await alice.ok("presence", status="available")
    session_id = await take(alice, customer, "o-lost")
    await bob.ok("presence", status="available")
    alice.close()
    offer = await bob.event("offer", session_id=session_id)
    assert offer["customer"]["openid"] == "o-lost"
    bundle = await bob.ok("accept", session_id=session_id)
    assert bundle["session"]["agent_id"] == bob.user["id"]


@pytest.mark.gen_test(timeout=30)
async def test_presence_changes_reach_every_tab_and_supervisor_changes_reach_the_agent(console) -> None:
    tab1 = await console("alice")
    tab2 = await console("alice", token=tab1.token)
    await tab1.ok("presence", status="available")
    assert (await tab2.event("presence"))["status"] == "available"
    supervisor = await console("super")
    await supervisor.ok("set_presence", agent_id="alice", status="away")
    changed = await tab1.event("presence", status="away")
    assert changed["reason"] == "supervisor"
    assert (await tab2.event("presence", status="away"))["by"] == supervisor.user["id"]


@pytest.mark.gen_test(timeout=30)
async def test_skill_comes_from_the_menu_then_keyword_rules_then_the_default(console, customer, api, login) -> None:
    admin, _ = await login("admin")
    status, rules = await api("/api/settings/keyword_rules", "PUT", [{"keyword": "贷款", "skill": "loans"},
                                                                    {"keyword": "Card", "skill": "cards"}], token=admin)
    assert status == 200 and len(rules) == 2, rules
    alice = await console("alice")  # general, loans
    bob = await console("bob")  # general, cards
    await alice.ok("presence", status="available")
    await bob.ok("presence", status="available")
    await customer.send_text("o-kw-1", "我想申请贷款")
    assert (await alice.event("offer"))["skill"] == "loans"
    await customer.send_text("o-kw-2", "my credit card is lost")
    assert (await bob.event("offer"))["skill"] == "cards"
    await customer.click("o-kw-3", "skill:cards")
    await customer.send_text("o-kw-3", "贷款")  # the menu click wins over the keyword
    assert (await bob.event("offer", where=lambda d: d["customer"]["openid"] == "o-kw-3"))["skill"] == "cards"
