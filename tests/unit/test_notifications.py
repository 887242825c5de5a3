"""desk/notifications.py with fakes (tests/unit/fakes.py: a store in dicts, a WeChat client that
answers template sends as told): what is checked before anything is sent, how WeChat's answers
map to the caller's errors and to the stored status, the rate limits with a moved clock, the
transcript and the audit, and who may list which notifications."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest

from desk.access import AccessPolicy
from desk.audience import Audience
from desk.errors import DeskError, ValidationError, WeChatRefused, wire_error
from desk.notification_rules import SendLimited, check_limits, check_templates
from desk.notifications import CustomerUnsubscribed, Notifications
from desk.settings import Settings
from tests.unit.fakes import MemorySessions, RecordingBus, TemplateWeChat
from wechat.sim.templates import LEAVE_MESSAGE_ANSWERED, TRANSACTION_ALERT

T0 = 1_700_000_000.0  # 2023-11-14 22:13:20 UTC = 06:13:20 in Beijing
BANK = {"id": "u-bank", "name": "核心系统", "roles": ["integration"]}
ADMIN = {"id": "u-admin", "name": "Admin", "roles": ["admin"]}
TXN = TRANSACTION_ALERT.template_id
TXN_DATA = {"character_string1": "6222****1234", "time2": "2026-12-01 09:30", "thing3": "消费",
            "amount4": {"value": "128.00元", "color": "#FF0000"}, "amount5": "5,000"}


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def world():
    store = MemorySessions()
    clock = Clock()
    bus = RecordingBus()
    settings = Settings(store, clock)  # type: ignore[arg-type]
    wechat = TemplateWeChat()
    notes = Notifications(store, settings, AccessPolicy(store, clock), Audience(bus),  # type: ignore[arg-type]
                          clock, SimpleNamespace(demo=True), wechat)
    return SimpleNamespace(store=store, clock=clock, bus=bus, wechat=wechat, notes=notes, settings=settings)


def _good_data():
    return {**TXN_DATA, "amount5": "5000.00元"}


@pytest.mark.gen_test
async def test_a_send_is_stored_sent_filed_into_the_open_session_and_audited(world):
    await world.store.upsert_customer("o1", seen_at=T0)
    session = await world.store.create_session({"openid": "o1", "state": "assigned", "agent_id": "alice"})
    rec = await world.notes.send_template(BANK, "o1", TXN, _good_data(), url="https://bank.example/t/1")
    assert rec["status"] == "sent" and rec["msgid"] == 1001 and rec["kind"] == "transaction"
    assert rec["title"] == "交易提醒" and rec["created_by"] == "u-bank" and rec["sent_at"] == T0
    # WeChat got every value in its {"value", "color"?} shape.
    (openid, template_id, data, url), = world.wechat.sent
    assert (openid, template_id, url) == ("o1", TXN, "https://bank.example/t/1")
    assert data["amount4"] == {"value": "128.00元", "color": "#FF0000"} and data["thing3"] == {"value": "消费"}
    # Filed into the customer's open session as a template message, shown to its agent live.
    msg, = world.store.messages
    assert (msg["session_id"], msg["type"], msg["author"], msg["direction"]) == (session["id"], "template",
                                                                                  "notification", "out")
    assert msg["text"].startswith("【交易提醒】卡号尾号：6222****1234；交易时间：")
    assert [f["label"] for f in msg["media"]["fields"]] == ["卡号尾号", "交易时间", "交易类型", "交易金额", "可用余额"]
    assert (rec["session_id"], rec["message_id"]) == (session["id"], msg["id"])
    assert world.bus.events("alice") == ["message"]
    audit, = world.store.audit
    assert (audit["action"], audit["actor_id"], audit["target"]) == ("notification_sent", "u-bank", "o1")
    assert audit["details"]["msgid"] == 1001 and audit["details"]["notification_id"] == rec["id"]
    # Without an open session it is kept as a notification of the customer only.
    again = await world.notes.send_template(BANK, "o2", TXN, _good_data())
    assert again["session_id"] is None and len(world.store.messages) == 1


@pytest.mark.gen_test
async def test_bad_requests_name_the_field_and_send_nothing(world):
    s2 = await world.store.create_session({"openid": "o2", "state": "closed"})
    cases = [
        (("o1", "no-such-template", _good_data()), {}, "template_id"),
        (("o 1", TXN, _good_data()), {}, "openid"),
        (("o1", TXN, "not an object"), {}, "data"),
        (("o1", TXN, {k: v for k, v in _good_data().items() if k != "time2"}), {}, "data.time2"),
        (("o1", TXN, {**_good_data(), "keyword9": "x"}), {}, "data.keyword9"),
        (("o1", TXN, {**_good_data(), "thing3": "这是一段超过二十个字符的交易类型说明文字，太长了"}), {}, "data.thing3"),
        (("o1", TXN, {**_good_data(), "character_string1": "卡号1234"}), {}, "data.character_string1"),
        (("o1", TXN, {**_good_data(), "amount4": {"value": "128", "color": "red"}}), {}, "data.amount4.color"),
        (("o1", TXN, {**_good_data(), "amount4": {"value": 128}}), {}, "data.amount4"),
        (("o1", TXN, _good_data()), {"url": "javascript:alert(1)"}, "url"),
        (("o1", TXN, _good_data()), {"kind": "Big Kind"}, "kind"),
        (("o1", TXN, _good_data()), {"session_id": s2["id"]}, "session_id"),
    ]
    for args, kwargs, field in cases:
        with pytest.raises(ValidationError) as caught:
            await world.notes.send_template(BANK, *args, **kwargs)
        assert caught.value.field == field, (field, caught.value.message)
        assert wire_error(caught.value)[2] == 400
    assert world.wechat.sent == [] and world.store.notifications == {} and world.store.audit == []


@pytest.mark.gen_test
async def test_an_unsubscribed_customer_is_refused_before_wechat_and_after_its_43004(world):
    await world.store.upsert_customer("gone", seen_at=T0, subscribed=False)
    with pytest.raises(CustomerUnsubscribed) as caught:
        await world.notes.send_template(BANK, "gone", TXN, _good_data())
    assert wire_error(caught.value)[:1] == ("customer_unsubscribed",) and caught.value.http_status == 409
    assert world.wechat.sent == [] and world.store.notifications == {}
    assert world.store.audit[-1]["action"] == "notification_refused"
    # Kefu did not know yet: WeChat answers 43004; the record says refused and Kefu remembers.
    await world.store.upsert_customer("o1", seen_at=T0)
    world.wechat.fail_with = [43004]
    with pytest.raises(CustomerUnsubscribed) as caught:
        await world.notes.send_template(BANK, "o1", TXN, _good_data())
    assert caught.value.extra == {"errcode": 43004}
    rec, = world.store.notifications.values()
    assert rec["status"] == "refused" and rec["error"]["code"] == "customer_unsubscribed"
    assert world.store.customers["o1"]["subscribed"] is False
    with pytest.raises(CustomerUnsubscribed):
        await world.notes.send_template(BANK, "o1", TXN, _good_data())
    assert len(world.store.notifications) == 1  # the second never reached WeChat
    # A subscribe event (the pipeline) puts them back.
    world.store.customers["o1"]["subscribed"] = True
    assert (await world.notes.send_template(BANK, "o1", TXN, _good_data()))["status"] == "sent"


@pytest.mark.gen_test
async def test_wechats_refusals_map_to_the_callers_errors_and_the_stored_status(world):
    expected = [(40037, ValidationError, "template_id", "refused"), (47003, ValidationError, "data.thing3", "refused"),
                (40003, ValidationError, "openid", "refused"), (45009, SendLimited, None, "refused"),
                ("unreachable", WeChatRefused, None, "failed"), (48001, WeChatRefused, None, "failed")]
    for code, cls, field, status in expected:
        world.wechat.fail_with = [code]
        with pytest.raises(DeskError) as caught:
            await world.notes.send_template(ADMIN, f"o-{code}", TXN, _good_data())
        assert type(caught.value) is cls, code
        if field:
            assert caught.value.field == field and caught.value.extra["errcode"] == code  # type: ignore[attr-defined]
        rec = (await world.store.list_notifications(openid=f"o-{code}"))[0]
        assert rec["status"] == status and rec["msgid"] is None, code
        assert world.store.audit[-1]["action"] == ("notification_refused" if status == "refused"
                                                   else "notification_failed")
    # 45009 is WeChat's daily quota: try again after midnight in Beijing (T0 is 06:13:20 there).
    world.wechat.fail_with = [45009]
    with pytest.raises(SendLimited) as caught:
        await world.notes.send_template(ADMIN, "o-day", TXN, _good_data())
    assert caught.value.retry_after == 86400 - (6 * 3600 + 13 * 60 + 20)
    assert wire_error(caught.value)[2] == 429


@pytest.mark.gen_test
async def test_rate_limits_per_customer_and_per_caller_with_a_moving_clock(world):
    admin = {"id": "root", "roles": ["admin"]}
    await world.settings.update(admin, "notification_limits", {"customer_burst": 2, "customer_per_hour": 6,
                                                              "caller_burst": 3, "caller_per_minute": 1})
    await world.notes.send_template(BANK, "o1", TXN, _good_data())
    await world.notes.send_template(BANK, "o1", TXN, _good_data())
    with pytest.raises(SendLimited) as caught:
        await world.notes.send_template(BANK, "o1", TXN, _good_data())
    assert caught.value.retry_after == pytest.approx(600)  # 6 an hour: one every 10 minutes
    assert "this customer" in caught.value.message and len(world.wechat.sent) == 2
    # Another caller is limited by the customer's bucket too; another customer is not.
    with pytest.raises(SendLimited):
        await world.notes.send_template(ADMIN, "o1", TXN, _good_data())
    await world.notes.send_template(BANK, "o2", TXN, _good_data())  # the caller's 3rd token
    with pytest.raises(SendLimited) as caught:
        await world.notes.send_template(BANK, "o3", TXN, _good_data())
    assert caught.value.retry_after == pytest.approx(60) and "from you" in caught.value.message
    world.clock.now += 600
    await world.notes.send_template(BANK, "o1", TXN, _good_data())
    assert len(world.wechat.sent) == 4


@pytest.mark.gen_test
async def test_who_lists_which_notifications(world):
    await world.store.create_session({"openid": "o1", "state": "closed", "agents": ["alice"]})
    await world.notes.send_template(BANK, "o1", TXN, _good_data())
    other = {"id": "u-bank2", "roles": ["integration"]}
    await world.notes.send_template(other, "o2", LEAVE_MESSAGE_ANSWERED.template_id,
                                    {"thing1": "信用卡年费", "thing2": "已为您减免", "time3": "2026-12-01 10:00",
                                     "thing4": "Alice"})
    alice = {"id": "alice", "roles": ["agent"]}
    bob = {"id": "bob", "roles": ["agent"]}
    assert [n["openid"] for n in (await world.notes.list_notifications(alice, openid="o1"))["notifications"]] == ["o1"]
    with pytest.raises(DeskError) as caught:
        await world.notes.list_notifications(bob, openid="o1")
    assert caught.value.code == "not_your_customer"
    with pytest.raises(DeskError) as caught:
        await world.notes.list_notifications(alice)
    assert caught.value.code == "forbidden"
    assert len((await world.notes.list_notifications(ADMIN))["notifications"]) == 2
    assert [n["kind"] for n in (await world.notes.list_notifications(ADMIN, kind="leave_message"))["notifications"]] \
        == ["leave_message"]
    # A bank system sees what it sent, nothing else.
    assert [n["openid"] for n in (await world.notes.list_notifications(other))["notifications"]] == ["o2"]
    assert (await world.notes.list_notifications(other, openid="o1"))["notifications"] == []


def test_the_settings_name_the_bad_field():
    good = [{"id": TXN, "title": "交易提醒", "purpose": "transaction",
             "fields": [{"key": "thing3", "label": "交易类型"}]}]
    assert check_templates(good) == good
    bad = [
        ("not a list", "templates"),
        ([{**good[0], "id": "has space"}], "templates[0].id"),
        ([good[0], good[0]], "templates[1].id"),
        ([{**good[0], "title": ""}], "templates[0].title"),
        ([{**good[0], "purpose": "Leave Message"}], "templates[0].purpose"),
        ([{**good[0], "fields": []}], "templates[0].fields"),
        ([{**good[0], "fields": [{"key": "Thing 3", "label": "x"}]}], "templates[0].fields[0].key"),
        ([{**good[0], "fields": [{"key": "thing3", "label": "x"}, {"key": "thing3", "label": "y"}]}],
         "templates[0].fields[1].key"),
        ([{**good[0], "fields": [{"key": "thing3", "label": ""}]}], "templates[0].fields[0].label"),
        ([{**good[0], "colour": "red"}], "templates[0].colour"),
    ]
    for value, field in bad:
        with pytest.raises(ValidationError) as caught:
            check_templates(value)
        assert caught.value.field == field
    assert check_limits({"customer_burst": 3}, None)["customer_burst"] == 3
    for value, field in (({"customer_burst": 0}, "notification_limits.customer_burst"),
                         ({"per_day": 5}, "notification_limits.per_day"), ([], "notification_limits")):
        with pytest.raises(ValidationError) as caught:
            check_limits(value, None)
        assert caught.value.field == field


@pytest.mark.gen_test
async def test_wechats_delivery_report_is_kept_and_goes_no_further(world):
    from desk.pipeline import InboundWork
    from wechat.messages import InboundMessage

    rec = await world.notes.send_template(BANK, "o1", TXN, _good_data())

    def report(msgid, status, event="TEMPLATESENDJOBFINISH"):
        message = InboundMessage("gh_x", "o1", int(T0), "event", msg_id=str(msgid), event=event,
                                 raw={"Status": status})
        return InboundWork(f"k{msgid}", message, T0 + 3)

    done = await world.notes.delivery_report(report(rec["msgid"], "failed:user block"))
    assert done is not None and done.session_id is None  # the pipeline stops here
    kept = world.store.notifications[rec["id"]]
    assert (kept["delivery"], kept["delivery_at"]) == ("failed:user block", T0 + 3)
    # A report for no notification of this customer changes nothing; other events pass on.
    assert await world.notes.delivery_report(report(999, "success")) is not None
    assert world.store.notifications[rec["id"]]["delivery"] == "failed:user block"
    assert await world.notes.delivery_report(report(rec["msgid"], "success", event="CLICK")) is None

    # WeChat's report overtakes its answer to the send: the report waits for the send's turn...
    world.wechat.gate, world.wechat.entered = asyncio.Event(), asyncio.Event()
    sending = asyncio.ensure_future(world.notes.send_template(BANK, "o1", TXN, _good_data()))
    await world.wechat.entered.wait()
    reporting = asyncio.ensure_future(world.notes.delivery_report(report(world.wechat.msgid + 1, "success")))
    world.wechat.gate.set()
    second = await sending
    await reporting
    assert world.store.notifications[second["id"]]["delivery"] == "success"
    # ... or, processed before the send began, is kept for it.
    world.wechat.gate = None
    await world.notes.delivery_report(report(world.wechat.msgid + 1, "failed: system failed"))
    third = await world.notes.send_template(BANK, "o1", TXN, _good_data())
    assert (third["delivery"], third["delivery_at"]) == ("failed: system failed", T0 + 3)


@pytest.mark.gen_test
async def test_a_feature_finds_its_template_by_purpose_and_fits_a_long_text(world):
    from wechat.templates import fit, value_problem

    template = await world.notes.template_for("leave_message")
    assert template is not None and template["id"] == LEAVE_MESSAGE_ANSWERED.template_id
    assert [f["key"] for f in template["fields"]] == ["thing1", "thing2", "time3", "thing4"]
    assert await world.notes.template_for("no_such_purpose") is None
    answer = "您好，您反映的信用卡年费问题已经为您申请减免，预计三个工作日内到账。"
    short = fit("thing2", answer)
    assert len(short) == 20 and short.endswith("…") and value_problem("thing2", short) is None
    assert fit("thing2", "已为您减免") == "已为您减免"
    assert fit("time3", "2026-12-01 10:00") == "2026-12-01 10:00"  # a shaped value is never cut
    rec = await world.notes.send_template(ADMIN, "o1", template["id"], {
        "thing1": fit("thing1", "信用卡年费可以免吗？我去年刷了很多次"), "thing2": short,
        "time3": "2026-12-01 10:00", "thing4": "Alice"}, kind="leave_message")
    assert rec["status"] == "sent" and rec["kind"] == "leave_message"


@pytest.mark.gen_test
async def test_a_send_a_stop_interrupted_is_failed_at_start_not_sent_again(world):
    sent = await world.notes.send_template(BANK, "o1", TXN, _good_data())
    stuck = await world.store.add_notification({"openid": "o2", "template_id": TXN, "kind": "transaction",
                                                "created_at": T0, "created_by": "u-bank"})
    assert await world.notes.recover() == 1
    assert world.store.notifications[stuck["id"]]["status"] == "failed"
    assert world.store.notifications[stuck["id"]]["error"]["code"] == "interrupted"
    assert world.store.notifications[sent["id"]]["status"] == "sent"
    assert world.store.audit[-1]["action"] == "notification_failed" and world.store.audit[-1]["target"] == "o2"
    assert len(world.wechat.sent) == 1 and await world.notes.recover() == 0
