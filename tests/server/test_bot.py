"""The bot (客服机器人) through the real app: the knowledge base over ``/api/bot/answers`` (admin,
validated with the field named, audited) and the bot stage in a ``bot_first`` skill — a FAQ asked
in other words is answered by the bot with nothing queued; 转人工 queues the same session and the
accepting agent reads the bot's part — real port, real sockets, the simulator."""

from __future__ import annotations

import pytest

from .test_desk_flows import api_replies

FEE = {"question": "信用卡年费怎么免", "similar": ["信用卡年费可以减免吗"], "keywords": ["年费"],
       "answer": "刷卡满6次即可免次年年费。"}


@pytest.mark.gen_test(timeout=30)
async def test_the_knowledge_base_is_edited_by_admins_validated_and_audited(api, login) -> None:
    admin, _ = await login("admin")
    agent, _ = await login("alice")
    assert (await api("/api/bot/answers", "POST", FEE, token=agent))[0] == 403
    status, body = await api("/api/bot/answers", "POST", {**FEE, "question": " "}, token=admin)
    assert (status, body["error"]["code"], body["error"]["field"]) == (400, "bad_field", "question")
    status, body = await api("/api/bot/answers", "POST", {"question": "年费"}, token=admin)
    assert (status, body["error"]["field"]) == (400, "answer")
    assert (await api("/api/bot/answers", token=admin))[1] == {"answers": []}  # nothing kept

    status, created = await api("/api/bot/answers", "POST", FEE, token=admin)
    assert status == 201 and created["id"] and created["question"] == FEE["question"]
    status, changed = await api(f"/api/bot/answers/{created['id']}", "PATCH", {"answer": "刷满6次免年费。"}, token=admin)
    assert (status, changed["answer"], changed["similar"]) == (200, "刷满6次免年费。", FEE["similar"])
    assert (await api(f"/api/bot/answers/{created['id']}", "PATCH", {"answer": ""}, token=admin))[0] == 400
    status, tried = await api("/api/bot/try", "POST", {"question": "年费能免掉吗"}, token=admin)
    assert status == 200 and tried["answered"] and tried["candidates"][0]["explanation"].startswith("matched 年费 免")
    assert (await api("/api/bot/answers/nope", "DELETE", token=admin))[0] == 404
    assert (await api(f"/api/bot/answers/{created['id']}", "DELETE", token=admin))[0] == 200
    assert (await api("/api/bot/answers", token=admin))[1] == {"answers": []}
    entries = (await api("/api/audit?limit=50", token=admin))[1]["entries"]
    assert [e["details"]["version"] for e in entries if e["target"] == "bot_answers"] == [3, 2, 1]


@pytest.mark.gen_test(timeout=30)
async def test_the_bot_answers_a_paraphrase_and_hands_over_on_request(kefu, api, login, console, customer,
                                                                       platform) -> None:
    admin, _ = await login("admin")
    assert (await api("/api/skills/general", "PUT", {"mode": "bot_first"}, token=admin))[0] == 200
    assert (await api("/api/bot/answers", "POST", FEE, token=admin))[0] == 201
    alice = await console("alice")
    await alice.ok("presence", status="available")

    await customer.send_text("o-bot", "请问年费能不能免掉？")
    await kefu.desk.drain()
    assert api_replies(platform, "o-bot") == [FEE["answer"]]
    [session] = await kefu.store.customer_sessions("o-bot")
    assert session["state"] == "bot"  # nothing queued, nobody offered
    assert not [e for e in alice.events if e["event"] == "offer"]
    assert await kefu.store.open_session_for_customer("o-bot") is None

    await customer.send_text("o-bot", "转人工")
    offer = await alice.event("offer")
    assert offer["session_id"] == session["id"]
    accepted = await alice.ok("accept", session_id=offer["session_id"])
    assert [(m["author"], m["text"]) for m in accepted["messages"]][:3] == [
        ("customer", "请问年费能不能免掉？"), ("bot", FEE["answer"]), ("customer", "转人工")]


@pytest.mark.gen_test(timeout=30)
async def test_two_misses_hand_over_and_a_bot_only_skill_keeps_the_customer(kefu, api, login, console, customer,
                                                                             platform) -> None:
    admin, _ = await login("admin")
    assert (await api("/api/skills/general", "PUT", {"mode": "bot_first"}, token=admin))[0] == 200
    alice = await console("alice")
    await alice.ok("presence", status="available")
    await customer.send_text("o-miss", "今天天气怎么样")
    await kefu.desk.drain()
    assert len(api_replies(platform, "o-miss")) == 1 and not [e for e in alice.events if e["event"] == "offer"]
    await customer.send_text("o-miss", "随便聊聊")
    offer = await alice.event("offer")
    assert offer["customer"]["openid"] == "o-miss"

    assert (await api("/api/skills/general", "PUT", {"mode": "bot_only"}, token=admin))[0] == 200
    await customer.send_text("o-only", "人工客服")
    await kefu.desk.drain()
    assert "暂无人工客服" in api_replies(platform, "o-only")[0]
    [session] = await kefu.store.customer_sessions("o-only")
    assert session["state"] == "bot"
