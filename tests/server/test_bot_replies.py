"""How the bot's words reach the customer, through the real app and the simulator: as the webhook's
passive reply when the answer is ready while WeChat's request is open (encrypted when the request
was), through the customer-service API when it is not; and the bot answering a customer who waits
in the queue, with their place, while their messages still reach the agent."""

from __future__ import annotations

import asyncio

import pytest

from .test_bot import FEE, bot_first, said

AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"


def kinds(platform, openid: str) -> list[tuple[str, str]]:
    return [(r["kind"], r["text"]) for r in platform.replies.get(openid, []) if r.get("kind") in ("api", "passive")]


@pytest.mark.gen_test(timeout=30)
async def test_a_ready_answer_is_the_passive_reply_and_a_late_one_goes_through_the_api(
        kefu, api, login, customer, platform) -> None:
    admin, [fee] = await bot_first(api, login, FEE)
    answer = await customer.send_text("o-fast", "年费可以免吗")
    assert "<MsgType><![CDATA[text]]></MsgType>" in answer and FEE["answer"] in answer
    assert "<ToUserName><![CDATA[o-fast]]></ToUserName>" in answer
    await kefu.desk.drain()
    assert kinds(platform, "o-fast") == [("passive", FEE["answer"])]  # and no API message
    [message] = [m for m in await kefu.store.customer_messages("o-fast") if m["author"] == "bot"]
    assert (message["text"], message["status"]) == (FEE["answer"], "sent")
    budget = (await kefu.store.get_customer("o-fast"))["budget"]
    assert (await api("/api/bot/answers", token=admin))[1]["counts"][fee["id"]]["used"] == 1
    # A passive reply costs nothing of the 5 customer-service messages per customer message.
    assert budget["sent_since_message"] == 0

    # The bot is held up past the webhook's wait: WeChat got "success", the answer follows by API.
    gate = asyncio.Event()
    take = kefu.desk.bot.take

    async def held(work):
        await gate.wait()
        return await take(work)

    kefu.desk.bot.take = held
    kefu.desk.passive.wait_secs = 0.2
    assert await customer.send_text("o-slow", "年费可以免吗") == "success"
    gate.set()
    await kefu.desk.drain()
    assert kinds(platform, "o-slow") == [("api", FEE["answer"])]

    # A message the bot does not take (its skill is the humans') holds the webhook no longer than
    # its processing: answered "success" at once, without waiting for the timeout.
    kefu.desk.bot.take = take
    kefu.desk.passive.wait_secs = 30.0
    assert (await api("/api/skills/general", "PUT", {"mode": "human_first"}, token=admin))[0] == 200
    assert await asyncio.wait_for(customer.send_text("o-human", "你好"), 10) == "success"


@pytest.mark.kefu(wechat_aes_key=AES_KEY)
@pytest.mark.gen_test(timeout=30)
async def test_in_safe_mode_the_passive_reply_is_encrypted(kefu, api, login, customer, platform) -> None:
    assert customer.safe_mode
    await bot_first(api, login, FEE)
    raw: list[str] = []
    take_answer = customer._take_answer

    def keep(openid, answer):
        raw.append(answer)
        return take_answer(openid, answer)

    customer._take_answer = keep
    plain = await customer.send_text("o-safe", "年费可以免吗")
    assert "<Encrypt>" in raw[0] and FEE["answer"] not in raw[0]
    assert FEE["answer"] in plain  # the simulator opened it as WeChat does
    assert said(platform, "o-safe") == [FEE["answer"]]


@pytest.mark.gen_test(timeout=30)
async def test_while_queued_the_bot_answers_what_it_knows_with_the_place_and_the_agent_sees_it(
        kefu, api, login, console, customer, platform) -> None:
    await bot_first(api, login, FEE, mode="human_first")
    alice = await console("alice")  # logged in, not available: the customers wait
    await customer.send_text("o-q1", "你好")
    await customer.send_text("o-q2", "你好")
    await kefu.desk.drain()
    [session] = await kefu.store.customer_sessions("o-q2")
    assert session["state"] == "queued" and said(platform, "o-q2") == []

    await customer.send_text("o-q2", "年费可以免吗")
    await customer.send_text("o-q2", "还有别的问题")  # the bot is not sure: it stays quiet
    await kefu.desk.drain()
    assert said(platform, "o-q2") == [f"{FEE['answer']}\n（您仍在排队等候人工客服，目前排在第 2 位，请稍候。）"]
    assert (await kefu.store.get_session(session["id"]))["state"] == "queued"

    await alice.ok("presence", status="available")
    offers = [await alice.event("offer"), await alice.event("offer", session_id=session["id"])]
    accepted = await alice.ok("accept", session_id=offers[1]["session_id"])
    assert [(m["author"], m["text"]) for m in accepted["messages"]] == [
        ("customer", "你好"), ("customer", "年费可以免吗"), ("bot", said(platform, "o-q2")[0]),
        ("customer", "还有别的问题")]
