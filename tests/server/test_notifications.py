"""Notifications (信息推送) end to end: a bank system (a user with the role ``integration``) calls
``POST /api/notifications``; Kefu calls the simulator's ``cgi-bin/message/template/send`` over
HTTP; the customer's chat shows the card; the agent serving the customer sees it live, in the
transcript and in the customer's notifications; the unfollowed customer, the rate limits, the
unknown template, WeChat's own refusals and the audit — real app, real sockets, simulator."""

from __future__ import annotations

import json
from typing import Any

import pytest
import tornado.httpclient

from wechat.sim.templates import LEAVE_MESSAGE_ANSWERED, TRANSACTION_ALERT

TXN = TRANSACTION_ALERT.template_id
TXN_DATA = {"character_string1": "6222****1234", "time2": "2026-12-01 09:30", "thing3": "消费",
            "amount4": {"value": "128.00元", "color": "#FF0000"}, "amount5": "5000.00元"}


async def bank_token(api, login) -> str:
    """The admin creates the bank's integration user; the bank signs in with it."""
    admin, _ = await login("admin")
    status, user = await api("/api/users", "POST", {"username": "core-banking", "password": "bank-secret-123",
                                                    "name": "核心系统", "roles": ["integration"]}, token=admin)
    assert status == 201, user
    status, data = await api("/api/auth/login", "POST", {"username": "core-banking", "password": "bank-secret-123"})
    assert status == 200, data
    return str(data["token"])


async def settled(kefu: Any) -> None:
    await kefu.desk.inbound.drain()


@pytest.mark.gen_test(timeout=60)
async def test_the_bank_notifies_the_customer_sees_the_card_and_the_agent_the_history(
        api, login, console, customer, platform, kefu) -> None:
    bank = await bank_token(api, login)
    alice = await console("alice")
    await alice.ok("presence", status="available")
    await customer.send_text("o-notify", "我的卡刚刚被扣款了")
    offer = await alice.event("offer")
    session_id = (await alice.ok("accept", session_id=offer["session_id"]))["session"]["id"]

    status, sent = await api("/api/notifications", "POST", {"openid": "o-notify", "template_id": TXN,
                                                            "data": TXN_DATA, "url": "https://bank.example/tx/1"},
                             token=bank)
    assert status == 201, sent
    assert sent["status"] == "sent" and isinstance(sent["msgid"], int) and sent["id"]
    assert (sent["kind"], sent["session_id"]) == ("transaction", session_id)
    # The customer's WeChat shows the card: title, the fields with their labels, the link.
    card = next(r for r in platform.replies["o-notify"] if r["kind"] == "template")
    assert (card["title"], card["msgid"], card["url"]) == ("交易提醒", sent["msgid"], "https://bank.example/tx/1")
    assert [(f["label"], f["value"]) for f in card["fields"]][3] == ("交易金额", "128.00元")
    assert card["fields"][3]["color"] == "#FF0000"
    # The agent serving the customer sees it arrive, and it stays in the transcript.
    live = await alice.event("message", session_id=session_id, where=lambda d: d["message"]["type"] == "template")
    assert live["message"]["author"] == "notification" and live["message"]["media"]["title"] == "交易提醒"
    # WeChat reports the delivery to the webhook (TEMPLATESENDJOBFINISH): kept on the
    # notification, and no line in the transcript (the customer did nothing).
    await kefu.simulator.sender.reports_sent()
    await settled(kefu)
    status, bundle = await api(f"/api/sessions/{session_id}", token=alice.token)
    assert status == 200 and [m["type"] for m in bundle["messages"]] == ["text", "template"]
    # The customer's notifications, as the agent's customer panel reads them.
    status, listed = await api("/api/notifications?openid=o-notify", token=alice.token)
    assert status == 200 and [n["id"] for n in listed["notifications"]] == [sent["id"]]
    assert listed["notifications"][0]["delivery"] == "success"
    bob, _ = await login("bob")
    status, refused = await api("/api/notifications?openid=o-notify", token=bob)
    assert status == 403 and refused["error"]["code"] == "not_your_customer"
    # An agent may not send through the API; the bank may not read another's or everyone's list.
    status, denied = await api("/api/notifications", "POST", {"openid": "o-notify", "template_id": TXN,
                                                              "data": TXN_DATA}, token=alice.token)
    assert status == 403 and denied["error"]["code"] == "forbidden"
    status, own = await api("/api/notifications", token=bank)
    assert status == 200 and [n["id"] for n in own["notifications"]] == [sent["id"]]
    # Audited, with the bank system as the actor.
    admin, _ = await login("admin")
    status, audit = await api("/api/audit?action=notification_sent", token=admin)
    assert status == 200
    entry = audit["entries"][0]
    assert entry["target"] == "o-notify" and entry["details"]["notification_id"] == sent["id"]
    assert entry["actor_id"] == sent["created_by"]
    # A customer with no open session (they only followed the account): kept as the customer's
    # notification, in no transcript.
    await customer.subscribe("o-quiet")
    await settled(kefu)
    status, quiet = await api("/api/notifications", "POST", {"openid": "o-quiet", "template_id": TXN,
                                                             "data": TXN_DATA}, token=bank)
    assert status == 201 and quiet["status"] == "sent" and quiet["session_id"] is None
    # A customer who turned this account's template messages off: WeChat accepts the send and
    # reports "failed:user block"; nothing shows in their chat.
    platform.customers["o-quiet"].blocks_templates = True
    status, blocked = await api("/api/notifications", "POST", {"openid": "o-quiet", "template_id": TXN,
                                                               "data": TXN_DATA}, token=bank)
    assert status == 201 and blocked["status"] == "sent"
    await kefu.simulator.sender.reports_sent()
    await settled(kefu)
    deliveries = {n["id"]: n["delivery"] for n in await kefu.store.list_notifications(openid="o-quiet")}
    assert deliveries == {quiet["id"]: "success", blocked["id"]: "failed:user block"}
    assert len([r for r in platform.replies["o-quiet"] if r["kind"] == "template"]) == 1


@pytest.mark.gen_test(timeout=60)
async def test_refusals_unfollowed_unknown_template_bad_bodies_and_wechats_own_answers(
        api, login, customer, platform, kefu) -> None:
    bank = await bank_token(api, login)
    await customer.send_text("o-leaving", "你好")
    await customer.unsubscribe("o-leaving")
    await settled(kefu)
    assert (await kefu.store.get_customer("o-leaving"))["subscribed"] is False
    status, body = await api("/api/notifications", "POST", {"openid": "o-leaving", "template_id": TXN,
                                                            "data": TXN_DATA}, token=bank)
    assert status == 409 and body["error"]["code"] == "customer_unsubscribed"
    assert not [r for r in platform.replies.get("o-leaving", []) if r["kind"] == "template"]
    assert (await kefu.store.list_notifications(openid="o-leaving")) == []  # nothing recorded as sent
    # Following again: WeChat's subscribe event; the next one goes out.
    await customer.subscribe("o-leaving")
    await settled(kefu)
    status, body = await api("/api/notifications", "POST", {"openid": "o-leaving", "template_id": TXN,
                                                            "data": TXN_DATA}, token=bank)
    assert status == 201, body

    # Kefu did not hear of the unfollow (the simulator's customer left quietly): WeChat's 43004.
    await customer.send_text("o-silent", "你好")
    await settled(kefu)
    platform.customers["o-silent"].subscribed = False
    status, body = await api("/api/notifications", "POST", {"openid": "o-silent", "template_id": TXN,
                                                            "data": TXN_DATA}, token=bank)
    assert status == 409 and body["error"] == {"code": "customer_unsubscribed", "errcode": 43004,
                                               "message": body["error"]["message"]}
    refused, = await kefu.store.list_notifications(openid="o-silent")
    assert refused["status"] == "refused" and refused["msgid"] is None

    bad_bodies = [
        ({"openid": "o-leaving", "template_id": "no-such-template", "data": TXN_DATA}, "template_id"),
        ({"openid": "o-leaving", "template_id": TXN}, "data"),
        ({"template_id": TXN, "data": TXN_DATA}, "openid"),
        ({"openid": 42, "template_id": TXN, "data": TXN_DATA}, "openid"),
        ({"openid": "o-leaving", "template_id": TXN, "data": TXN_DATA, "colour": "red"}, "colour"),
        ({"openid": "o-leaving", "template_id": TXN, "data": {**TXN_DATA, "thing3": "x" * 21}}, "data.thing3"),
        ({"openid": "o-leaving", "template_id": TXN, "data": TXN_DATA, "url": "ftp://x"}, "url"),
        ({"openid": "o-leaving", "template_id": TXN, "data": TXN_DATA, "kind": 7}, "kind"),
    ]
    before = len(platform.replies.get("o-leaving", []))
    for bad, field in bad_bodies:
        status, body = await api("/api/notifications", "POST", bad, token=bank)
        assert status == 400 and body["error"]["code"] == "bad_field" and body["error"]["field"] == field, (bad, body)
    assert len(platform.replies.get("o-leaving", [])) == before
    status, body = await api("/api/notifications?limit=0", token=bank)
    assert status == 400 and body["error"]["field"] == "limit"
    status, body = await api("/api/notifications?kind=Not%20A%20Kind", token=bank)
    assert status == 400 and body["error"]["field"] == "kind"
    # Every console may read the configured templates (an agent picks one for a leave-message).
    alice, _ = await login("alice")
    status, body = await api("/api/notifications/templates", token=alice)
    assert status == 200 and [t["purpose"] for t in body["templates"]] == ["transaction", "leave_message", "bill"]

    # A template configured in Kefu that the Official Account does not have: WeChat's 40037.
    admin, _ = await login("admin")
    status, templates = await api("/api/settings/templates", token=admin)
    assert status == 200 and [t["id"] for t in templates][:2] == [TXN, LEAVE_MESSAGE_ANSWERED.template_id]
    missing = {"id": "notOnTheAccount-0000", "title": "未添加的模板", "purpose": "test",
               "fields": [{"key": "thing1", "label": "内容"}]}
    status, _ = await api("/api/settings/templates", "PUT", [*templates, missing], token=admin)
    assert status == 200
    status, body = await api("/api/notifications", "POST", {"openid": "o-leaving", "template_id": missing["id"],
                                                            "data": {"thing1": "测试"}}, token=bank)
    assert status == 400 and body["error"]["field"] == "template_id" and body["error"]["errcode"] == 40037
    # An expired access token is refreshed and the send retried once, as for the customer-service API.
    platform.expire_tokens()
    status, body = await api("/api/notifications", "POST", {"openid": "o-leaving", "template_id": TXN,
                                                            "data": TXN_DATA}, token=bank)
    assert status == 201, body
    # Everything refused is audited with what WeChat said.
    status, audit = await api("/api/audit?action=notification_refused", token=admin)
    codes = {(e["target"], e["details"]["code"]) for e in audit["entries"]}
    assert {("o-leaving", "customer_unsubscribed"), ("o-silent", "customer_unsubscribed"),
            ("o-leaving", "bad_field")} <= codes


@pytest.mark.gen_test(timeout=60)
async def test_rate_limits_answer_429_with_retry_after(api, login, customer, platform, kefu, base_url) -> None:
    bank = await bank_token(api, login)
    admin, _ = await login("admin")
    status, limits = await api("/api/settings/notification_limits", "PUT",
                               {"customer_burst": 2, "customer_per_hour": 1}, token=admin)
    assert status == 200 and limits["customer_burst"] == 2
    client = tornado.httpclient.AsyncHTTPClient()

    async def post(openid: str) -> tornado.httpclient.HTTPResponse:
        return await client.fetch(f"{base_url}/api/notifications", method="POST", raise_error=False,
                                  headers={"Authorization": f"Bearer {bank}", "Content-Type": "application/json"},
                                  body=json.dumps({"openid": openid, "template_id": TXN, "data": TXN_DATA}))

    await customer.send_text("o-busy", "你好")
    await settled(kefu)
    assert [(await post("o-busy")).code for _ in range(2)] == [201, 201]
    response = await post("o-busy")
    assert response.code == 429 and json.loads(response.body)["error"]["code"] == "rate_limited"
    assert 3000 < int(response.headers["Retry-After"]) <= 3600  # one an hour: the next in up to an hour
    assert len([r for r in platform.replies["o-busy"] if r["kind"] == "template"]) == 2
    # An openid WeChat knows no follower by: its 40003, named.
    response = await post("o-stranger")
    error = json.loads(response.body)["error"]
    assert response.code == 400 and (error["field"], error["errcode"]) == ("openid", 40003)
    # WeChat's own daily quota (45009) is the same answer, until midnight in Beijing.
    platform.template_daily_limit = 0
    await customer.send_text("o-other", "你好")
    await settled(kefu)
    response = await post("o-other")
    assert response.code == 429 and 0 < int(response.headers["Retry-After"]) <= 86400
    assert json.loads(response.body)["error"]["errcode"] == 45009
    # Counted by outcome for the operators.
    metrics = (await client.fetch(f"{base_url}/metrics")).body.decode()
    for line in ('kefu_notifications_total{outcome="sent"} 2.0', 'kefu_notifications_total{outcome="rate_limited"} 1.0',
                 'kefu_notifications_total{outcome="refused"} 2.0', 'kefu_wechat_api_errors_total{code="45009"} 1.0'):
        assert line in metrics, line
