"""Template messages on the WeChat channel: WeChat's rules for field values (shared by Kefu and the
simulator), the simulator's ``cgi-bin/message/template/send`` answering each errcode as WeChat
does, and the client sending through it on a real port (token refresh, busy retries, errcodes as
exceptions)."""

from __future__ import annotations

import pytest

from wechat.errors import InvalidTokenError, WeChatAPIError
from wechat.sim.templates import LEAVE_MESSAGE_ANSWERED, TRANSACTION_ALERT
from wechat.templates import field_kind, fit, value_problem

TXN = TRANSACTION_ALERT.template_id
DATA = {"character_string1": {"value": "6222****1234"}, "time2": {"value": "2026-12-01 09:30"},
        "thing3": {"value": "消费"}, "amount4": {"value": "128.00元", "color": "#FF0000"},
        "amount5": {"value": "5000.00元"}}


def test_values_are_checked_by_the_kind_of_their_field():
    assert field_kind("thing3") == "thing" and field_kind("character_string12") == "character_string"
    assert field_kind("first") == "first"
    fine = [("thing3", "二十个字以内的事情"), ("thing3", "x" * 20), ("character_string1", "6222****1234"),
            ("phrase2", "已完成"), ("amount4", "128.00元"), ("amount4", "￥5"), ("time2", "2026-12-01 09:30"),
            ("date3", "2026年12月1日"), ("number1", "42"), ("letter1", "ABC"), ("phone_number1", "+86 138-0000-0000"),
            ("first", "您好，您的信用卡有一笔交易" * 5), ("keyword1", "任意内容")]
    for key, value in fine:
        assert value_problem(key, value) is None, (key, value)
    refused = [("thing3", "x" * 21), ("character_string1", "卡号1234"), ("character_string1", "a b"),
               ("phrase2", "done"), ("phrase2", "六个汉字的词"), ("amount4", "一百元"), ("time2", "明天上午"),
               ("number1", "4two"), ("letter1", "AB1"), ("thing3", "  "), ("first", "x" * 201)]
    for key, value in refused:
        assert value_problem(key, value) is not None, (key, value)
    assert fit("thing2", "一" * 30) == "一" * 19 + "…" and value_problem("thing2", fit("thing2", "一" * 30)) is None
    assert fit("amount4", "128.00元") == "128.00元"


@pytest.mark.gen_test
async def test_the_simulator_answers_template_send_as_wechat_does(wechat_client, wechat_platform, wechat_clock):
    wechat_platform.customer_wrote("o1")
    answer = await wechat_client.send_template("o1", TXN, DATA, url="https://bank.example/t/1")
    assert answer["errcode"] == 0 and answer["errmsg"] == "ok" and isinstance(answer["msgid"], int)
    card, = [r for r in wechat_platform.replies["o1"] if r["kind"] == "template"]
    assert (card["title"], card["url"], card["msgid"]) == ("交易提醒", "https://bank.example/t/1", answer["msgid"])
    assert [f["label"] for f in card["fields"]] == ["卡号尾号", "交易时间", "交易类型", "交易金额", "可用余额"]
    assert card["fields"][3] == {"key": "amount4", "label": "交易金额", "value": "128.00元", "color": "#FF0000"}
    # No 48-hour window: two days later the template still goes out.
    wechat_clock.advance(3 * 86400)
    await wechat_client.send_template("o1", TXN, {**DATA, "keyword9": {"value": "ignored"}})
    assert "keyword9" not in [f["key"] for f in wechat_platform.replies["o1"][-1]["fields"]]

    async def errcode(openid, template_id, data, url=None):
        with pytest.raises(WeChatAPIError) as caught:
            await wechat_client.send_template(openid, template_id, data, url)
        return caught.value.code, caught.value.errmsg

    assert (await errcode("never-wrote", TXN, DATA))[0] == 40003
    assert await errcode("o1", "no-such-template", DATA) == (40037, "invalid template_id")
    assert await errcode("o1", TXN, {**DATA, "thing3": {"value": "x" * 21}}) == (
        47003, "argument invalid! data.thing3.value invalid")
    assert (await errcode("o1", TXN, DATA, url="ftp://bank.example"))[0] == 40039
    wechat_platform.customers["o1"].subscribed = False
    assert await errcode("o1", TXN, DATA) == (43004, "require subscribe")
    wechat_platform.customers["o1"].subscribed = True
    wechat_platform.template_daily_limit = 1  # one sent today (WeChat's day, in Beijing)
    assert (await errcode("o1", TXN, DATA))[0] == 45009
    wechat_clock.advance(86400)
    wechat_platform.template_daily_limit = 3
    await wechat_client.send_template("o1", LEAVE_MESSAGE_ANSWERED.template_id, {
        "thing1": {"value": "年费"}, "thing2": {"value": "已减免"}, "time3": {"value": "2026-12-04 10:00"},
        "thing4": {"value": "Alice"}})
    assert wechat_platform.calls["template_send"] == 9


@pytest.mark.gen_test
async def test_the_client_refreshes_a_token_and_retries_busy_as_for_other_calls(wechat_client, wechat_platform):
    wechat_platform.customer_wrote("o1")
    await wechat_client.send_template("o1", TXN, DATA)
    fetches = wechat_client.token_fetches
    wechat_platform.expire_tokens()
    await wechat_client.send_template("o1", TXN, DATA)
    assert wechat_client.token_fetches == fetches + 1
    wechat_platform.make_busy(2)
    await wechat_client.send_template("o1", TXN, DATA)
    assert len([r for r in wechat_platform.replies["o1"] if r["kind"] == "template"]) == 3
    wechat_platform.fail_calls("template_send", 42001, n=2)  # expired twice: the one retry gives up
    with pytest.raises(InvalidTokenError):
        await wechat_client.send_template("o1", TXN, DATA)
    # A bad body never reaches a template: WeChat's 47001.
    with pytest.raises(WeChatAPIError) as caught:
        await wechat_client._api_post("cgi-bin/message/template/send", {"touser": "o1", "template_id": TXN,
                                                                         "data": "not an object"})
    assert caught.value.code == 47001


def test_a_send_body_of_any_shape_gets_an_errcode_as_from_wechat():
    """The simulator's template/send answers junk with WeChat's errcodes, never a 500."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from wechat.sim.templates import DEMO_TEMPLATES, check_send

    library = {t.template_id: t for t in DEMO_TEMPLATES}
    junk = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner,
                                                                                   max_size=3), max_leaves=8)

    @settings(max_examples=300, deadline=None, database=None)
    @given(body=st.fixed_dictionaries({"touser": st.just("o1"), "template_id": junk | st.sampled_from(sorted(library)),
                                       "data": junk}, optional={"url": junk}))
    def check(body):
        try:
            check_send(body, library)
        except WeChatAPIError as exc:
            assert exc.code in (40003, 40037, 47001, 47003, 40039)

    check()
    with pytest.raises(WeChatAPIError) as exc:
        check_send({"touser": "o1", "template_id": ["x"], "data": {}}, library)
    assert exc.value.code == 40037
