"""desk/self_service.py with fakes: the stage takes what is self-service and passes on the rest;
binding, cancelling, wrong codes and the lock; queries answered masked; an unbound customer told
to bind; a bank that fails; no bank at all; the setting's checks."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest

from bank.adapter import BankError
from bank.demo import DEMO_CUSTOMERS, DemoBank
from bank.timed import TimedBank
from desk import self_service_answers as say
from desk.errors import ValidationError
from desk.self_service import FLOW_TTL_SECS, SelfService, validate_settings
from desk.settings import Settings
from tests.unit.fakes import MemorySessions
from wechat.messages import InboundMessage

ZHANG = DEMO_CUSTOMERS[0]


class Env:
    def __init__(self, bank: Any = "demo") -> None:
        self.now = 10_000.0
        self.store = MemorySessions()
        self.said: list[tuple[str, str]] = []
        self.changed: list[dict[str, Any]] = []
        self.demo = DemoBank(clock=lambda: self.now)
        adapter = TimedBank(self.demo, 1.0) if bank == "demo" else bank
        self.settings = Settings(self.store, lambda: self.now)
        self.feature = SelfService(self.store, self.settings, self.notify, adapter, lambda: self.now,
                                   customer_changed=self.customer_changed)
        self.seq = 0

    async def notify(self, openid: str, text: str) -> None:
        self.said.append((openid, text))

    async def customer_changed(self, customer: dict[str, Any]) -> None:
        self.changed.append(customer)

    async def send(self, content: str | None = None, key: str | None = None, openid: str = "o1",
                   session: Any = None, voice: str | None = None) -> str | None:
        """One message through the stage; the answer the customer got, or None (passed on)."""
        self.seq += 1
        self.now += 1
        if key is not None:
            data = {"openid": openid, "to_user": "gh", "create_time": int(self.now), "msg_type": "event",
                    "event": "CLICK", "event_key": key}
        elif voice is not None:
            data = {"openid": openid, "to_user": "gh", "create_time": int(self.now), "msg_type": "voice",
                    "msg_id": str(self.seq), "recognition": voice}
        else:
            data = {"openid": openid, "to_user": "gh", "create_time": int(self.now), "msg_type": "text",
                    "msg_id": str(self.seq), "content": content}
        work = SimpleNamespace(key=f"k{self.seq}", message=InboundMessage.from_dict(data), openid=openid, now=self.now,
                               known=await self.store.get_customer(openid), session=session,
                               changes={"budget": {"x": self.seq}})
        before = len(self.said)
        done = await self.feature.stage(work)
        if done is None:
            assert len(self.said) == before
            return None
        assert done.session_id is None  # nothing is filed into a session
        [(to, text)] = self.said[before:]
        assert to == openid
        return text

    def audit(self, action: str) -> list[dict[str, Any]]:
        return [e for e in self.store.audit if e["action"] == action]

    async def bind(self, openid: str = "o1") -> str | None:
        await self.send(key="self:bind", openid=openid)
        await self.send(ZHANG.phone, openid=openid)
        return await self.send(self.demo.sent[-1][1], openid=openid)


@pytest.fixture
def env() -> Env:
    return Env()


@pytest.mark.gen_test
async def test_what_is_not_self_service_passes_on(env: Env) -> None:
    assert await env.send("信用卡年费怎么免") is None
    assert await env.send("余额宝是什么") is None
    assert await env.send(key="skill:cards") is None
    # Talking to an agent: "余额" is the agent's to answer; a menu item still works.
    assert await env.send("余额", session={"id": "s1", "state": "assigned"}) is None
    assert await env.send(key="self:balance", session={"id": "s1", "state": "assigned"}) == say.NOT_BOUND


@pytest.mark.gen_test
async def test_an_unbound_customer_is_told_to_bind_first(env: Env) -> None:
    for words in ("账单", "查额度", "我想查一下余额", "交易明细", "我的信息", "解绑"):
        assert await env.send(words) == say.NOT_BOUND
    assert await env.send(voice="查余额。") == say.NOT_BOUND  # a voice message, by WeChat's recognition
    stored = await env.store.get_customer("o1")
    assert stored["budget"] == {"x": 7}  # the message's changes (its reply budget) are kept


@pytest.mark.gen_test
async def test_binding_with_the_code_then_answers_masked(env: Env) -> None:
    assert await env.send("绑定") == say.BIND_ASK_PHONE
    assert await env.send("138 0000") == say.BIND_BAD_PHONE  # still asking
    assert "尾号0001" in (await env.send("138-0000-0001") or "")
    assert await env.send("abc") == say.BIND_BAD_CODE
    answer = await env.send(env.demo.sent[-1][1])
    assert answer is not None and "绑定成功" in answer and "张伟" in answer
    customer = await env.store.get_customer("o1")
    bank = customer["bank"]
    assert bank["customer_id"] == "C0001" and bank["segment"] == "财富客户" and bank["vip_level"] == "金卡"
    assert [c["number"] for c in bank["cards"]] == ["**** **** **** 6789", "**** **** **** 7890"]
    assert ZHANG.id_number not in str(customer) and ZHANG.cards[0].number not in str(customer)
    assert env.changed[-1]["bank"] == bank  # the consoles showing the customer are told
    assert [e["details"] for e in env.audit("bank_bound")] == [{"customer_id": "C0001"}]

    bill = await env.send(key="self:bill") or ""
    assert "**** **** **** 6789" in bill and "¥3,286.50" in bill
    limit = await env.send("信用卡额度") or ""
    assert "¥50,000.00" in limit and "¥43,120.18" in limit
    assert "**** **** **** 7890" in (await env.send("余额") or "")
    assert "尾号6789" in (await env.send("最近交易") or "")
    profile = await env.send("我的信息") or ""
    assert "**************1234" in profile and ZHANG.id_number not in profile
    assert [e["details"]["query"] for e in env.audit("bank_query")] == ["bill", "limit", "balance", "transactions",
                                                                      "profile"]
    assert "已绑定" in (await env.send("绑定") or "")  # bound already: unbind first
    everything = "\n".join(text for _, text in env.said)
    assert all(c.number not in everything for c in ZHANG.cards)


@pytest.mark.gen_test
async def test_cancelling_and_a_binding_left_half_way(env: Env) -> None:
    await env.send("绑定")
    assert await env.send("取消") == say.BIND_CANCELLED
    assert await env.send("13800000001") is None  # no flow any more: just a message
    await env.send("绑定")
    env.now += FLOW_TTL_SECS
    assert await env.send("13800000001") is None  # forgotten after a while
    await env.send(key="self:bind")
    assert await env.send("账单") == say.NOT_BOUND  # another action ends the binding
    assert await env.send("13800000001") is None


@pytest.mark.gen_test
async def test_five_wrong_codes_lock_binding_audited_until_the_lock_runs_out(env: Env) -> None:
    await env.send("绑定")
    await env.send(ZHANG.phone)
    code = env.demo.sent[-1][1]
    wrong = "000000" if code != "000000" else "111111"
    answers = [await env.send(wrong) for _ in range(5)]
    assert answers == [say.wrong_code(n) for n in (4, 3, 2, 1)] + [say.locked(30)]
    assert [e["details"]["failures"] for e in env.audit("self_service_code_wrong")] == [1, 2, 3, 4, 5]
    [lock] = env.audit("self_service_locked")
    assert lock["target"] == "o1" and lock["details"]["locked_until"] == env.now + 30 * 60
    assert await env.send(code) is None  # the flow ended: the right code now binds nothing
    env.now += 60
    assert await env.send("绑定") == say.locked(29)
    assert not (await env.store.get_customer("o1")).get("bank")
    # Wrong codes count across fresh codes: asking for a new one does not reset them.
    other = Env()
    await other.send("绑定")
    await other.send(ZHANG.phone)
    for _ in range(3):
        await other.send("999999" if other.demo.sent[-1][1] != "999999" else "888888")
    await other.send("绑定")
    await other.send(ZHANG.phone)
    assert await other.send("999999" if other.demo.sent[-1][1] != "999999" else "888888") == say.wrong_code(1)

    env.now += 30 * 60
    assert await env.bind() == say.bound({"name": "张伟"})
    assert (await env.store.get_customer("o1"))["self_service"]["failures"] == 0


@pytest.mark.gen_test
async def test_asking_for_code_after_code_locks_too(env: Env) -> None:
    """Each code texts a phone: a customer may not have the bank text any number without end."""
    for _ in range(5):
        await env.send("绑定")
        assert "尾号0002" in (await env.send("13800000002") or "")
    await env.send("绑定")
    assert await env.send("13800000002") == say.locked(30)
    assert len(env.demo.sent) == 5
    [lock] = env.audit("self_service_locked")
    assert lock["details"]["reason"] == "too_many_codes" and lock["details"]["codes_sent"] == 5
    env.now += 30 * 60
    assert await env.bind() == say.bound({"name": "张伟"})  # the lock ran out: counting starts again


@pytest.mark.gen_test
async def test_the_lock_follows_the_admins_setting(env: Env) -> None:
    await env.settings.update({"id": "admin", "roles": ["admin"]}, "self_service",
                              {"max_code_attempts": 2, "lock_minutes": 5})
    await env.send("绑定")
    await env.send(ZHANG.phone)
    assert await env.send("000001") == say.wrong_code(1)
    assert await env.send("000001") == say.locked(5)


class FailingBank(TimedBank):
    def __init__(self) -> None:
        super().__init__(DemoBank(), 1.0)
        self.fail = True

    async def debit_balance(self, customer_id: str):  # type: ignore[no-untyped-def]
        raise BankError("down")

    async def send_verification_code(self, identity: str, openid: str):  # type: ignore[no-untyped-def]
        raise BankError("down")

    async def customer(self, customer_id: str):  # type: ignore[no-untyped-def]
        if self.fail:
            raise BankError("down")
        return await super().customer(customer_id)


@pytest.mark.gen_test
async def test_a_bank_that_fails_gets_try_later_and_changes_nothing() -> None:
    env = Env(bank=FailingBank())
    await env.store.upsert_customer("o1", bank={"customer_id": "C0001"})
    assert await env.send("余额") == say.TRY_LATER
    assert await env.send("我的信息") == say.TRY_LATER
    assert (await env.store.get_customer("o1"))["bank"] == {"customer_id": "C0001"}
    assert not env.audit("bank_query")
    await env.store.update_customer("o1", bank=None)
    await env.send("绑定")
    assert await env.send(ZHANG.phone) == say.TRY_LATER
    assert await env.send("123456") is None  # no code was sent: nothing to check


@pytest.mark.gen_test
async def test_a_binding_the_bank_no_longer_knows_is_forgotten(env: Env) -> None:
    await env.store.upsert_customer("o1", bank={"customer_id": "C-gone"})
    assert await env.send("我的信息") == say.NOT_BOUND
    assert (await env.store.get_customer("o1"))["bank"] is None
    assert env.audit("bank_unbound")[0]["details"]["reason"] == "not_a_customer"


@pytest.mark.gen_test
async def test_unbinding_tells_the_bank(env: Env) -> None:
    await env.bind()
    assert env.demo.bindings == {"o1": "C0001"}
    assert await env.send(key="self:unbind") == say.UNBOUND
    assert env.demo.bindings == {} and (await env.store.get_customer("o1"))["bank"] is None
    assert env.changed[-1]["bank"] is None


@pytest.mark.gen_test
async def test_without_a_bank_menu_items_say_so_and_words_pass_on() -> None:
    env = Env(bank=None)
    assert await env.send(key="self:bill") == say.UNAVAILABLE
    assert await env.send(key="self:nonsense") == say.UNAVAILABLE
    assert await env.send("账单") is None


def test_the_setting_is_checked_field_by_field() -> None:
    assert validate_settings({"lock_minutes": 10}, None) == {"max_code_attempts": 5, "lock_minutes": 10}
    assert validate_settings({"max_code_attempts": 3}, {"max_code_attempts": 5, "lock_minutes": 10}) == {
        "max_code_attempts": 3, "lock_minutes": 10}
    for body, field in (({"max_code_attempts": 0}, "max_code_attempts"), ({"lock_minutes": True}, "lock_minutes"),
                        ({"lock_minutes": 99999}, "lock_minutes"), ({"other": 1}, "other"), ([], "self_service")):
        with pytest.raises(ValidationError) as exc:
            validate_settings(body, None)
        assert exc.value.field == field


@pytest.mark.gen_test
async def test_the_answer_rides_in_the_webhooks_answer_while_it_waits() -> None:
    from desk.passive import PassiveReplies

    env = Env()
    env.feature.passive = passive = PassiveReplies(wait_secs=30)
    click = InboundMessage.from_dict({"openid": "o1", "to_user": "gh", "create_time": 1, "msg_type": "event",
                                      "event": "CLICK", "event_key": "self:bind"})
    assert env.feature.may_answer(click)
    assert not env.feature.may_answer(InboundMessage.from_dict({
        "openid": "o1", "to_user": "gh", "create_time": 1, "msg_type": "event", "event": "CLICK",
        "event_key": "skill:cards"}))
    work = SimpleNamespace(key="k1", message=click, openid="o1", now=env.now, known=None, session=None, changes={})
    passive.expect("k1")
    waiting = asyncio.ensure_future(passive.wait("k1"))
    assert (await env.feature.stage(work)) is not None
    assert await waiting == (say.BIND_ASK_PHONE, None) and env.said == []  # passive: no API message
    # Half-way through binding, the phone number is waited for too; other words are not.
    phone = InboundMessage.from_dict({"openid": "o1", "to_user": "gh", "create_time": 2, "msg_type": "text",
                                      "msg_id": "9", "content": ZHANG.phone})
    assert env.feature.may_answer(phone)
    assert not env.feature.may_answer(InboundMessage.from_dict({**phone.to_dict(), "openid": "o2"}))
    # Nobody waiting (the webhook gave up): the customer-service API.
    assert await env.send(ZHANG.phone) is not None and len(env.said) == 1


@pytest.mark.gen_test
async def test_a_binding_walked_away_from_is_forgotten_by_the_webhook_too(env: Env) -> None:
    """The openids in a binding (the webhook waits for their answers) shrink as flows run out,
    not only when a flow ends by its words: else every customer who ever walked away stays."""
    from desk.self_service import FLOW_TTL_SECS

    await env.send(key="self:bind", openid="o-gone")
    assert "o-gone" in env.feature._in_flow
    env.now += FLOW_TTL_SECS + 1
    assert await env.send("信用卡年费怎么免", openid="o-gone") is None  # passed on: the flow ran out
    assert "o-gone" not in env.feature._in_flow
