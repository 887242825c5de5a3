"""The simulated customers' webhook calls against a minimal webhook, plain and safe mode."""

from __future__ import annotations

import asyncio

import pytest
import tornado.web

from tests.wechat.conftest import APPID
from tests.wechat.webhook_stub import Webhook
from wechat.sim.customers import WebhookError, WebhookSender
from wechat.sim.platform import SERVICE_UNAVAILABLE_TEXT


@pytest.fixture
def state(wechat_platform):
    return {"cipher": wechat_platform.cipher}


@pytest.fixture
def app(state):
    return tornado.web.Application([("/wechat", Webhook, {"state": state})])


@pytest.fixture
def webhook_url(http_server, http_port):
    return f"http://127.0.0.1:{http_port}/wechat"


@pytest.mark.parametrize("safe_mode", [False, True])
@pytest.mark.gen_test
async def test_every_type_reaches_the_webhook(wechat_platform, webhook_url, state, safe_mode):
    sender = WebhookSender(wechat_platform, webhook_url, safe_mode=safe_mode)
    events = []
    wechat_platform.subscribe(events.append)
    answer = await sender.send_text("o1", "你好")
    assert "收到：你好" in answer
    await sender.send_image("o1")
    await sender.send_voice("o1", recognition="查余额")
    await sender.send_video("o1")
    await sender.send_video("o1", short=True)
    await sender.send_location("o1", 39.9, 116.3, label="北京")
    await sender.send_link("o1", "T", "D", "http://u")
    await sender.send_file("o1", "a.pdf")
    await sender.subscribe("o1")
    await sender.subscribe("o2", scene="42")
    await sender.scan("o1", "42")
    await sender.click("o1", "skill:loans")
    await sender.view("o1", "http://v")
    await sender.report_location("o1", 23.1, 113.3)
    await sender.unsubscribe("o2")
    assert await sender.send("o1", "text", content="generic") is not None
    seen = state["seen"]
    assert [m.msg_type for m in seen[:8]] == [
        "text",
        "image",
        "voice",
        "video",
        "shortvideo",
        "location",
        "link",
        "file",
    ]
    assert [m.event for m in seen[8:15]] == [
        "subscribe",
        "subscribe",
        "SCAN",
        "CLICK",
        "VIEW",
        "LOCATION",
        "unsubscribe",
    ]
    assert seen[1].pic_url.endswith(seen[1].media_id) and seen[1].media_id in wechat_platform.media
    assert seen[2].recognition == "查余额" and seen[5].label == "北京" and seen[9].event_key == "qrscene_42"
    assert seen[11].skill_from_menu == "loans"
    assert len({m.dedup_key for m in seen if not m.is_event}) == 9  # MsgIds are unique
    passive = wechat_platform.replies["o1"]
    assert [r["text"] for r in passive] == ["收到：你好]]>", "收到：generic]]>"]
    assert all(r["kind"] == "passive" for r in passive)
    kinds = [e["kind"] for e in events]
    assert kinds.count("customer") == 16 and kinds.count("passive") == 2
    # a customer message opened the reply window on the platform
    assert wechat_platform.customers["o1"].budget.check(wechat_platform.clock())[0]


@pytest.mark.gen_test
async def test_retry_while_first_try_still_running(wechat_platform, webhook_url, state):
    state["hold"] = asyncio.Event()
    sender = WebhookSender(wechat_platform, webhook_url, timeout_secs=0.3)
    answer = await sender.send_text("o1", "hello")
    assert "收到：hello" in answer
    assert sender.attempts == 2
    assert state["first_running"] and not state["hold"].is_set()
    assert [m.dedup_key for m in state["seen"]] == [state["seen"][0].dedup_key] * 2  # same MsgId: a retry
    state["hold"].set()


@pytest.mark.gen_test
async def test_no_answer_after_three_tries(wechat_platform, webhook_url, state):
    state["hold"] = asyncio.Event()
    state["hold_all"] = True
    sender = WebhookSender(wechat_platform, webhook_url, timeout_secs=0.2)
    events = []
    wechat_platform.subscribe(events.append)
    with pytest.raises(WebhookError):
        await sender.send_text("o1", "hello")
    assert sender.attempts == 3 and len(state["seen"]) == 3
    assert events[-1]["kind"] == "system" and events[-1]["text"] == SERVICE_UNAVAILABLE_TEXT
    state["hold"].set()


@pytest.mark.gen_test
async def test_unreachable_webhook(wechat_platform):
    sender = WebhookSender(wechat_platform, "http://127.0.0.1:9/wechat", timeout_secs=1)
    with pytest.raises(WebhookError):
        await sender.send_text("o1", "hello")
    assert sender.attempts == 3


@pytest.mark.gen_test
async def test_bad_signature_is_an_http_error(wechat_platform, webhook_url):
    wechat_platform.token = "not-the-webhook-token"
    sender = WebhookSender(wechat_platform, webhook_url)
    with pytest.raises(WebhookError) as info:
        await sender.send_text("o1", "x")
    assert info.value.status == 403
    assert sender.attempts == 1


def test_platform_token_rules(wechat_platform, wechat_clock):
    from wechat.errors import WeChatAPIError

    a = wechat_platform.issue_stable_token("client_credential", APPID, "sim-secret")
    b = wechat_platform.issue_stable_token("client_credential", APPID, "sim-secret")
    assert a["access_token"] == b["access_token"]
    c = wechat_platform.issue_stable_token("client_credential", APPID, "sim-secret", force_refresh=True)
    assert c["access_token"] != a["access_token"]
    with pytest.raises(WeChatAPIError) as info:
        wechat_platform.custom_send(
            a["access_token"], {"touser": "o1", "msgtype": "text", "text": {"content": "x"}}
        )
    assert info.value.code == 40001
    wechat_clock.advance(7200)
    d = wechat_platform.issue_stable_token("client_credential", APPID, "sim-secret")
    assert d["access_token"] != c["access_token"]
    with pytest.raises(WeChatAPIError) as info:
        wechat_platform.issue_token("client_credential", APPID, "bad")
    assert info.value.code == 40125


def test_three_per_minute_after_click_on_platform(wechat_platform, wechat_clock):
    from wechat.errors import ReplyQuotaError, WindowClosedError
    from wechat.messages import InboundMessage

    tok = wechat_platform.issue_token("client_credential", APPID, "sim-secret")["access_token"]
    click = InboundMessage("gh", "o1", int(wechat_clock()), "event", event="CLICK", event_key="skill:cards")
    wechat_platform.record_customer_message(click)
    body = {"touser": "o1", "msgtype": "text", "text": {"content": "x"}}
    for _ in range(3):
        wechat_platform.custom_send(tok, body)
    with pytest.raises(ReplyQuotaError):
        wechat_platform.custom_send(tok, body)
    wechat_clock.advance(60)
    with pytest.raises(WindowClosedError):
        wechat_platform.custom_send(tok, body)
