"""The whole life of a session, end to end: WeChat webhook → routing → agent console → WeChat API."""

from __future__ import annotations

import pytest


@pytest.mark.gen_test(timeout=30)
async def test_whole_life_of_a_session(console, customer, platform, api) -> None:
    alice = await console("alice")
    assert (await alice.ok("presence", status="available"))["status"] == "available"

    assert await customer.send_text("o-cust-1", "你好，我想问一下信用卡额度") == "success"
    offer = await alice.event("offer")
    assert offer["customer"]["openid"] == "o-cust-1"
    assert offer["skill"] == "general"
    assert 0 < offer["expires_in"] <= 20

    accepted = await alice.ok("accept", session_id=offer["session_id"])
    session_id = accepted["session"]["id"]
    assert [m["text"] for m in accepted["messages"]] == ["你好，我想问一下信用卡额度"]
    assigned = await alice.event("session_assigned")
    assert assigned["session"]["agent_id"] == alice.user["id"]
    assert assigned["session"]["budget"]["replies_left"] == 5

    await customer.send_text("o-cust-1", "额度是多少？")
    incoming = await alice.event("message", session_id=session_id)
    assert incoming["message"]["text"] == "额度是多少？"
    assert incoming["message"]["direction"] == "in"

    sent = await alice.ok("send", session_id=session_id, text="您好，请稍等，我帮您查询。")
    assert sent["message"]["status"] == "pending"
    status = await alice.event("message_status", message_id=sent["message"]["id"])
    assert status["status"] == "sent"
    replies = [r for r in platform.replies.get("o-cust-1", []) if r.get("kind") == "api"]
    assert replies[-1]["text"] == "您好，请稍等，我帮您查询。"

    await alice.ok("close", session_id=session_id, wrapup="resolved", note="told the limit")
    closed = await alice.event("session_closed", session_id=session_id)
    assert closed["reason"] == "closed"

    code, history = await api("/api/customers/o-cust-1/sessions", token=alice.token)
    assert code == 200
    assert history["sessions"][0]["id"] == session_id
    assert history["sessions"][0]["state"] == "closed"
    assert history["sessions"][0]["wrapup"] == "resolved"
    code, transcript = await api(f"/api/sessions/{session_id}", token=alice.token)
    assert code == 200
    # The last one is the satisfaction survey (on in --demo), sent after the close.
    assert [(m["direction"], m["author"]) for m in transcript["messages"]] == [
        ("in", "customer"), ("in", "customer"), ("out", "agent"), ("out", "system")]
    assert transcript["messages"][-2]["status"] == "sent"
