"""The bot (客服机器人) through the real app: the knowledge base over ``/api/bot/answers`` (admin,
validated with the field named, audited, with usage counts) and the bot stage in a ``bot_first``
skill — a FAQ asked in other words is answered by the bot with nothing queued; an unsure question
gets "did you mean" choices picked by number or text, ``0`` hands over; 转人工 queues the same
session and the accepting agent reads the bot's part; the counts say which answers led to a
human — real port, real sockets, the simulator."""

from __future__ import annotations

from typing import Any

import pytest

FEE = {"question": "信用卡年费怎么免", "similar": ["信用卡年费可以减免吗"], "keywords": ["年费"],
       "answer": "刷卡满6次即可免次年年费。"}
LOST = {"question": "信用卡丢了怎么挂失", "similar": ["卡片遗失如何办理挂失"], "keywords": ["挂失"],
        "answer": "请立即拨打客服热线或在手机银行挂失。"}
LIMIT = {"question": "怎么提高信用卡额度", "similar": ["申请提额"], "keywords": ["额度", "提额"],
         "answer": "用卡满6个月可在手机银行申请提额。"}


def said(platform: Any, openid: str) -> list[str]:
    """Every text the customer got, passive reply or customer-service message, in order."""
    return [r["text"] for r in platform.replies.get(openid, []) if r.get("kind") in ("api", "passive")]


async def bot_first(api: Any, login: Any, *answers: dict[str, Any], mode: str = "bot_first") -> tuple[str, list]:
    admin, _ = await login("admin")
    assert (await api("/api/skills/general", "PUT", {"mode": mode}, token=admin))[0] == 200
    created = []
    for answer in answers:
        status, body = await api("/api/bot/answers", "POST", answer, token=admin)
        assert status == 201
        created.append(body)
    return admin, created


@pytest.mark.gen_test(timeout=30)
async def test_the_knowledge_base_is_edited_by_admins_validated_and_audited(api, login) -> None:
    admin, _ = await login("admin")
    agent, _ = await login("alice")
    assert (await api("/api/bot/answers", "POST", FEE, token=agent))[0] == 403
    assert (await api("/api/bot/answers", token=agent))[0] == 403
    status, body = await api("/api/bot/answers", "POST", {**FEE, "question": " "}, token=admin)
    assert (status, body["error"]["code"], body["error"]["field"]) == (400, "bad_field", "question")
    status, body = await api("/api/bot/answers", "POST", {"question": "年费"}, token=admin)
    assert (status, body["error"]["field"]) == (400, "answer")
    assert (await api("/api/bot/answers", token=admin))[1] == {"answers": [], "counts": {}}  # nothing kept

    status, created = await api("/api/bot/answers", "POST", FEE, token=admin)
    assert status == 201 and created["id"] and created["question"] == FEE["question"]
    status, changed = await api(f"/api/bot/answers/{created['id']}", "PATCH", {"answer": "刷满6次免年费。"}, token=admin)
    assert (status, changed["answer"], changed["similar"]) == (200, "刷满6次免年费。", FEE["similar"])
    assert (await api(f"/api/bot/answers/{created['id']}", "PATCH", {"answer": ""}, token=admin))[0] == 400
    status, tried = await api("/api/bot/try", "POST", {"question": "年费能免掉吗"}, token=admin)
    assert status == 200 and tried["answered"] and tried["candidates"][0]["explanation"].startswith("matched 年费 免")
    assert (await api("/api/bot/answers/nope", "DELETE", token=admin))[0] == 404
    assert (await api(f"/api/bot/answers/{created['id']}", "DELETE", token=admin))[0] == 200
    assert (await api("/api/bot/answers", token=admin))[1] == {"answers": [], "counts": {}}
    entries = (await api("/api/audit?limit=50", token=admin))[1]["entries"]
    assert [e["details"]["version"] for e in entries if e["target"] == "bot_answers"] == [3, 2, 1]


@pytest.mark.gen_test(timeout=30)
async def test_the_bot_answers_a_paraphrase_and_hands_over_on_request(kefu, api, login, console, customer,
                                                                       platform) -> None:
    admin, [fee] = await bot_first(api, login, FEE)
    alice = await console("alice")
    await alice.ok("presence", status="available")

    await customer.send_text("o-bot", "请问年费能不能免掉？")
    await kefu.desk.drain()
    assert said(platform, "o-bot") == [FEE["answer"]]
    [session] = await kefu.store.customer_sessions("o-bot")
    assert session["state"] == "bot"  # nothing queued, nobody offered
    assert not [e for e in alice.events if e["event"] == "offer"]
    assert await kefu.store.open_session_for_customer("o-bot") is None

    await customer.send_text("o-bot", "转人工")
    offer = await alice.event("offer")
    assert offer["session_id"] == session["id"]
    assert said(platform, "o-bot")[-1] == "好的，正在为您转接人工客服，请稍候。"
    accepted = await alice.ok("accept", session_id=offer["session_id"])
    assert [(m["author"], m["text"]) for m in accepted["messages"]][:4] == [
        ("customer", "请问年费能不能免掉？"), ("bot", FEE["answer"]), ("customer", "转人工"),
        ("bot", "好的，正在为您转接人工客服，请稍候。")]
    counts = (await api("/api/bot/answers", token=admin))[1]["counts"]
    assert counts[fee["id"]]["used"] == 1 and counts[fee["id"]]["handed_over"] == 1


@pytest.mark.gen_test(timeout=30)
async def test_did_you_mean_offers_choices_picked_by_number_or_text_and_0_for_a_human(
        kefu, api, login, console, customer, platform) -> None:
    admin, [fee, lost, limit] = await bot_first(api, login, FEE, LOST, LIMIT)
    alice = await console("alice")
    await alice.ok("presence", status="available")

    await customer.send_text("o-dym", "信用卡")  # fits every card answer equally: the bot asks
    await kefu.desk.drain()
    prompt = said(platform, "o-dym")[-1]
    assert prompt.startswith("您是想问以下哪个问题？请回复序号：")
    lines = prompt.splitlines()[1:]
    assert len(lines) == 4 and lines[-1] == "0. 人工客服"
    offered = {line.split(". ", 1)[0]: line.split(". ", 1)[1] for line in lines[:-1]}
    assert set(offered.values()) == {FEE["question"], LOST["question"], LIMIT["question"]}
    by_question = {a["question"]: a for a in (FEE, LOST, LIMIT)}

    await customer.send_text("o-dym", "２")  # a full-width digit counts too
    await kefu.desk.drain()
    assert said(platform, "o-dym")[-1] == by_question[offered["2"]]["answer"]

    await customer.send_text("o-dym", "信用卡")
    await customer.send_text("o-dym", FEE["question"])  # the choice's own text
    await kefu.desk.drain()
    assert said(platform, "o-dym")[-1] == FEE["answer"]
    assert not [e for e in alice.events if e["event"] == "offer"]

    await customer.send_text("o-dym", "信用卡")
    await customer.send_text("o-dym", "0")
    offer = await alice.event("offer")
    assert offer["customer"]["openid"] == "o-dym"
    counts = (await api("/api/bot/answers", token=admin))[1]["counts"]
    picked_second = next(a for a in (fee, lost, limit) if a["question"] == offered["2"])
    assert counts[fee["id"]]["used"] == 1 + (picked_second is fee)
    assert counts[fee["id"]]["handed_over"] == 1 and counts[picked_second["id"]]["handed_over"] == 1
    assert sum(c["used"] for c in counts.values()) == 2 and set(counts) <= {fee["id"], lost["id"], limit["id"]}

    status, tried = await api("/api/bot/try", "POST", {"question": "信用卡"}, token=admin)
    assert status == 200 and not tried["answered"] and len(tried["choices"]) == 3


@pytest.mark.gen_test(timeout=30)
async def test_two_misses_hand_over_and_a_bot_only_skill_keeps_the_customer(kefu, api, login, console, customer,
                                                                             platform) -> None:
    admin, _ = await bot_first(api, login, FEE)
    alice = await console("alice")
    await alice.ok("presence", status="available")
    await customer.send_text("o-miss", "今天天气怎么样")
    await kefu.desk.drain()
    assert said(platform, "o-miss") == ["抱歉，我没有理解您的问题。请换个说法，或回复“转人工”联系人工客服。"]
    assert not [e for e in alice.events if e["event"] == "offer"]
    await customer.send_text("o-miss", "随便聊聊")
    offer = await alice.event("offer")
    assert offer["customer"]["openid"] == "o-miss"

    assert (await api("/api/skills/general", "PUT", {"mode": "bot_only"}, token=admin))[0] == 200
    await customer.send_text("o-only", "人工客服")
    await kefu.desk.drain()
    assert "暂无人工客服" in said(platform, "o-only")[0]
    [session] = await kefu.store.customer_sessions("o-only")
    assert session["state"] == "bot"


@pytest.mark.gen_test(timeout=30)
async def test_the_bots_texts_are_the_admins(kefu, api, login, console, customer, platform) -> None:
    admin, _ = await bot_first(api, login, FEE, LOST)
    body = {"bot_miss": "没听懂，换个说法？", "bot_choices": "请选择：\n{choices}", "bot_handover": ""}
    status, messages = await api("/api/settings/messages", "PUT", body, token=admin)
    assert status == 200 and messages["bot_miss"] == "没听懂，换个说法？"
    status, refused = await api("/api/settings/messages", "PUT", {"bot_miss": "{choices}"}, token=admin)
    assert (status, refused["error"]["field"]) == (400, "bot_miss")  # {choices} is the prompt's only

    alice = await console("alice")
    await alice.ok("presence", status="available")
    await customer.send_text("o-texts", "天气")
    await customer.send_text("o-texts", "信用卡")
    await kefu.desk.drain()
    assert said(platform, "o-texts")[0] == "没听懂，换个说法？"
    assert said(platform, "o-texts")[1].startswith("请选择：\n1. ")
    await customer.send_text("o-texts", "0")
    await alice.event("offer")
    assert len(said(platform, "o-texts")) == 2  # the hand-over text is empty: nothing said
