"""Self-service through the bank adapter, end to end: the real app, the simulator's page API (its
menu's self-service items, its SMS inbox showing the demo bank's codes), real sockets.

Binding with a code then a card query answered masked; wrong codes locking binding (audited);
an adapter that hangs (the webhook answers at once, the customer is told to try later, their
next message goes through); a query before binding; who may read the bound profile."""

from __future__ import annotations

import re

import pytest

from bank.demo import DEMO_CUSTOMERS
from kefu_config import ConfigError
from server import build_services


def replies_to(platform, openid: str) -> list[str]:
    """What the customer was told: passive replies (in the webhook's answer) and API messages alike."""
    return [r["text"] for r in platform.replies.get(openid, []) if r.get("kind") in ("passive", "api")]

ZHANG = DEMO_CUSTOMERS[0]  # 张伟: credit card 6225880123456789, debit 6222021234567890


async def tap(api, openid: str, key: str) -> dict:
    """A tap on the simulator's menu item with ``key`` (nothing published: the page's own menu)."""
    status, shown = await api("/simulator/api/menu")
    assert status == 200
    keys = [s["key"] for b in shown["button"] for s in b.get("sub_button", [b])]
    assert key in keys, keys  # the item is on the simulator's menu
    status, body = await api("/simulator/api/send", "POST", {"openid": openid, "type": "click", "key": key})
    assert status == 200, body
    return body


async def say(api, openid: str, text: str) -> dict:
    status, body = await api("/simulator/api/send", "POST", {"openid": openid, "type": "text", "text": text})
    assert status == 200, body
    return body


async def last_reply(kefu, platform, openid: str) -> str:
    await kefu.desk.drain()
    return replies_to(platform, openid)[-1]


async def sms_code(kefu, api, openid: str) -> str:
    await kefu.desk.drain()
    status, inbox = await api(f"/simulator/api/sms?openid={openid}")
    assert status == 200 and inbox["messages"], inbox
    found = re.search(r"验证码为 (\d{6})", inbox["messages"][-1]["text"])
    assert found, inbox
    return found.group(1)


async def bind(kefu, api, platform, openid: str, phone: str = ZHANG.phone) -> str:
    await tap(api, openid, "self:bind")
    assert "手机号码" in await last_reply(kefu, platform, openid)
    await say(api, openid, phone)
    assert "尾号0001" in await last_reply(kefu, platform, openid)
    code = await sms_code(kefu, api, openid)
    await say(api, openid, code)
    return await last_reply(kefu, platform, openid)


@pytest.mark.gen_test(timeout=30)
async def test_binding_with_the_banks_code_then_card_queries_answer_masked(kefu, api, login, platform) -> None:
    openid = "o-bind"
    await say(api, openid, "账单")
    assert "请先回复“绑定”" in await last_reply(kefu, platform, openid)  # unbound: told to bind first
    assert await kefu.store.open_session_for_customer(openid) is None  # nothing queued

    assert "绑定成功" in await bind(kefu, api, platform, openid)
    # The SMS went to the phone the bank has, shown on the simulator for this customer.
    [sms] = platform.sms.of(openid)
    assert sms["phone"] == ZHANG.phone and "验证码" in sms["text"]

    await say(api, openid, "查一下账单")
    bill = await last_reply(kefu, platform, openid)
    assert "**** **** **** 6789" in bill and "¥3,286.50" in bill and "2026-11-25" in bill
    await tap(api, openid, "self:balance")
    balance = await last_reply(kefu, platform, openid)
    assert "**** **** **** 7890" in balance and "¥128,560.32" in balance
    await say(api, openid, "交易明细")
    history = await last_reply(kefu, platform, openid)
    assert "美团外卖" in history and "尾号6789" in history
    everything = "\n".join(replies_to(platform, openid))
    for number in (ZHANG.cards[0].number, ZHANG.cards[1].number, ZHANG.id_number):
        assert number not in everything  # never a full number
    assert await kefu.store.open_session_for_customer(openid) is None

    # Stored durably on the customer record: the bank's id and a masked profile, read by an admin.
    admin, _ = await login("admin")
    status, record = await api(f"/api/customers/{openid}", token=admin)
    assert status == 200
    assert record["bank"]["customer_id"] == ZHANG.customer_id and record["bank"]["name"] == "张伟"
    assert record["bank"]["vip"] is True and record["bank"]["segment"] == "财富客户"
    assert [c["number"] for c in record["bank"]["cards"]] == ["**** **** **** 6789", "**** **** **** 7890"]
    assert record["bank"]["id_number"].endswith("1234") and ZHANG.id_number not in str(record)
    assert "self_service" not in record  # the flow's state is the desk's own
    # An agent who never served this customer reads nothing of them.
    alice, _ = await login("alice")
    assert (await api(f"/api/customers/{openid}", token=alice))[0] == 403

    entries = (await api(f"/api/audit?target={openid}&limit=50", token=admin))[1]["entries"]
    actions = [e["action"] for e in entries]
    assert "bank_bound" in actions and actions.count("bank_query") == 3

    # Unbinding: the bank forgets it, Kefu too; a query afterwards is told to bind again.
    await say(api, openid, "解绑")
    assert "已解除" in await last_reply(kefu, platform, openid)
    assert (await kefu.store.get_customer(openid))["bank"] is None
    assert openid not in kefu.desk.self_service.bank.adapter.bindings
    await say(api, openid, "余额")
    assert "请先回复“绑定”" in await last_reply(kefu, platform, openid)


@pytest.mark.gen_test(timeout=30)
@pytest.mark.kefu(wechat_max_skew=0)  # the clock moves half an hour; the webhook's skew check would refuse it
async def test_a_code_guessed_five_times_locks_binding_and_is_audited(kefu, api, login, platform) -> None:
    openid = "o-guess"
    clock = {"now": kefu.desk.clock()}
    # The desk's clock and WeChat's (the simulator stamps CreateTime with it) move together.
    kefu.desk.clock = platform.clock = lambda: clock["now"]
    await tap(api, openid, "self:bind")
    await say(api, openid, ZHANG.phone)
    code = await sms_code(kefu, api, openid)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    replies = []
    for _ in range(5):
        await say(api, openid, wrong)
        replies.append(await last_reply(kefu, platform, openid))
    assert replies[:4] == [f"验证码错误，还可尝试 {n} 次。" for n in (4, 3, 2, 1)]
    assert "已锁定" in replies[4]
    clock["now"] += 1  # a second tap on the same item in the same second would be a WeChat retry
    await tap(api, openid, "self:bind")
    assert "已锁定" in await last_reply(kefu, platform, openid)  # asking again while locked
    assert not (await kefu.store.get_customer(openid)).get("bank")

    admin, _ = await login("admin")
    entries = (await api(f"/api/audit?target={openid}&limit=50", token=admin))[1]["entries"]
    assert [e["action"] for e in entries].count("self_service_code_wrong") == 5
    [lock] = [e for e in entries if e["action"] == "self_service_locked"]
    assert lock["details"]["failures"] == 5 and wrong not in str(entries) and code not in str(entries)

    # The lock runs out (an admin's lock_minutes): binding works again, with a fresh code.
    clock["now"] += 30 * 60 + 1
    assert "绑定成功" in await bind(kefu, api, platform, openid)


@pytest.mark.gen_test(timeout=30)
@pytest.mark.kefu(bank_adapter="tests.server.bank_fakes:HangingBank", bank_timeout=0.2)
async def test_a_bank_that_hangs_gets_try_later_and_the_webhook_answers(kefu, api, customer, platform,
                                                                        console) -> None:
    openid = "o-hang"
    await kefu.store.upsert_customer(openid, bank={"customer_id": ZHANG.customer_id, "name": "张伟"})
    # The webhook answers whatever the bank does: here it waits as long as processing takes, so
    # its answer is the passive reply "try later" (the bank call's deadline ended the wait).
    kefu.desk.passive.wait_secs = 30.0
    answer = await customer.send_text(openid, "余额")
    assert "银行系统暂时无法响应，请稍后再试。" in answer and "<MsgType><![CDATA[text]]>" in answer
    assert await last_reply(kefu, platform, openid) == "银行系统暂时无法响应，请稍后再试。"
    assert kefu.desk.self_service.bank.adapter.calls == 1
    await tap(api, openid, "self:bill")
    assert await last_reply(kefu, platform, openid) == "银行系统暂时无法响应，请稍后再试。"
    # Binding's first bank call hangs too: try later, and no half-way flow is left behind.
    await kefu.store.update_customer(openid, bank=None)
    await tap(api, openid, "self:bind")
    await say(api, openid, "13800000001")
    assert await last_reply(kefu, platform, openid) == "银行系统暂时无法响应，请稍后再试。"
    # The customer's next message is processed as usual: it reaches an agent.
    alice = await console("alice")
    await alice.ok("presence", status="available")
    assert await customer.send_text(openid, "我要投诉") == "success"  # not self-service: not waited for
    offer = await alice.event("offer")
    assert offer["customer"]["openid"] == openid


@pytest.mark.gen_test(timeout=30)
async def test_self_service_settings_and_menu_keys_are_checked(api, login) -> None:
    admin, _ = await login("admin")
    status, body = await api("/api/settings/self_service", "PUT", {"max_code_attempts": 0}, token=admin)
    assert (status, body["error"]["field"]) == (400, "max_code_attempts")
    assert (await api("/api/settings/self_service", token=admin))[1] == {"max_code_attempts": 5, "lock_minutes": 30}
    status, body = await api("/api/settings/self_service", "PUT", {"lock_minutes": 60}, token=admin)
    assert (status, body) == (200, {"max_code_attempts": 5, "lock_minutes": 60})
    menu = {"button": [{"name": "自助", "sub_button": [{"type": "click", "name": "账单", "key": "self:bill"},
                                                         {"type": "click", "name": "乱写", "key": "self:nope"}]}]}
    status, body = await api("/api/settings/menu", "PUT", menu, token=admin)
    assert (status, body["error"]["field"]) == (400, "button[0].sub_button[1].key")
    del menu["button"][0]["sub_button"][1]
    assert (await api("/api/settings/menu", "PUT", menu, token=admin))[0] == 200


def test_an_adapter_that_is_not_one_is_refused_at_start(io_loop, kefu_config) -> None:
    from dataclasses import replace

    config = replace(kefu_config, bank_adapter="tests.server.bank_fakes:NotAnAdapter")
    with pytest.raises(ConfigError, match="not a BankAdapter"):
        io_loop.run_sync(lambda: build_services(config))


@pytest.mark.gen_test(timeout=30)
async def test_binding_during_a_conversation_tells_the_agent_who_reads_the_profile(kefu, api, login, console,
                                                                                    customer, platform) -> None:
    openid = "o-talking"
    alice = await console("alice")
    await alice.ok("presence", status="available")
    await customer.send_text(openid, "你好，我想问信用卡的事")
    offer = await alice.event("offer")
    await alice.ok("accept", session_id=offer["session_id"])
    # Words in a conversation are the agent's; the menu item still starts binding, and the
    # binding's own answers (phone, code) go to the bank, not to the agent.
    await say(api, openid, "余额")
    message = await alice.event("message", where=lambda d: d["message"].get("text") == "余额")
    assert message["session_id"] == offer["session_id"]
    assert "绑定成功" in await bind(kefu, api, platform, openid)
    updated = await alice.event("customer_updated", where=lambda d: d["customer"].get("bank_bound"))
    assert updated["customer"]["openid"] == openid and "bank" not in updated["customer"]  # whether, not who
    texts = [m["text"] for m in (await api(f"/api/sessions/{offer['session_id']}", token=alice.token))[1]["messages"]]
    assert ZHANG.phone not in texts and not any(re.fullmatch(r"\d{6}", t or "") for t in texts)
    status, record = await api(f"/api/customers/{openid}", token=alice.token)  # she holds the customer
    assert status == 200 and record["bank"]["name"] == "张伟" and record["bank"]["vip_level"] == "金卡"
