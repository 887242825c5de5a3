"""System texts, wrap-up codes and customer tags, end to end: the admin's settings change what the
simulator's customer receives at each moment (no restart), what ``close`` accepts, and who may
tag a customer."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.server.test_desk_flows import api_replies, take


def customer_receives(platform: Any, openid: str) -> asyncio.Future[str]:
    """The next customer-service text the simulated WeChat delivers to ``openid``."""
    future: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    def listener(event: dict[str, Any]) -> None:
        if event.get("kind") == "api" and event["openid"] == openid and not future.done():
            future.set_result(event["text"])

    unsubscribe = platform.subscribe(listener)
    future.add_done_callback(lambda _f: unsubscribe())
    return future


async def settled(kefu: Any) -> None:
    """Every webhook processed and every reply delivered (what the desk would send, it has)."""
    await kefu.desk.inbound.drain()
    await kefu.desk.replies.drain()


async def audit(api: Any, token: str, action: str) -> list[dict[str, Any]]:
    entries = (await api("/api/audit?limit=100", token=token))[1]["entries"]
    return [e for e in entries if e["action"] == action]


@pytest.mark.gen_test(timeout=30)
async def test_edited_queued_and_assigned_texts_reach_the_customer_at_those_moments(console, customer, platform,
                                                                                  api, login) -> None:
    admin, _ = await login("admin")
    status, messages = await api("/api/settings/messages", token=admin)
    assert status == 200 and messages["queued"] == "" and "转接" in messages["transferred"]

    status, messages = await api("/api/settings/messages", "PUT", {
        "queued": "您前面还有 {position} 位客户，预计等待约 {wait_min} 分钟。",
        "assigned": "客服 {agent} 为您服务（{skill}）"}, token=admin)
    assert status == 200 and messages["assigned"] == "客服 {agent} 为您服务（{skill}）"
    assert "转接" in messages["transferred"]  # keys left out keep their text

    alice = await console("alice")
    await alice.ok("presence", status="away")  # nobody free: the session waits in the queue
    told = customer_receives(platform, "o-texts")
    await customer.send_text("o-texts", "你好")
    assert await told == "您前面还有 1 位客户，预计等待约 1 分钟。"

    told = customer_receives(platform, "o-texts")
    await alice.ok("presence", status="available")
    offer = await alice.event("offer")
    await alice.ok("accept", session_id=offer["session_id"])
    assert await told == "客服 Alice 为您服务（综合咨询）"
    # The agent sees what the customer was told, as system messages of the transcript.
    status, transcript = await api(f"/api/sessions/{offer['session_id']}", token=alice.token)
    assert [(m["author"], m["text"]) for m in transcript["messages"] if m["direction"] == "out"] == [
        ("system", "您前面还有 1 位客户，预计等待约 1 分钟。"), ("system", "客服 Alice 为您服务（综合咨询）")]

    # Changed again while running: the next customer gets the new text, no restart.
    await api("/api/settings/messages", "PUT", {"assigned": "您好，我是{agent}"}, token=admin)
    told = customer_receives(platform, "o-texts-2")
    await take(alice, customer, "o-texts-2")
    assert await told == "您好，我是Alice"


@pytest.mark.gen_test(timeout=30)
async def test_welcome_on_follow_and_an_empty_welcome_sends_nothing(kefu, customer, platform, api, login) -> None:
    await customer.subscribe("o-follow-1")  # the default welcome is empty
    await settled(kefu)
    assert api_replies(platform, "o-follow-1") == []

    admin, _ = await login("admin")
    assert (await api("/api/settings/messages", "PUT", {"welcome": "欢迎关注！"}, token=admin))[0] == 200
    told = customer_receives(platform, "o-follow-2")
    await customer.subscribe("o-follow-2")
    assert await told == "欢迎关注！"

    assert (await api("/api/settings/messages", "PUT", {"welcome": ""}, token=admin))[0] == 200
    await customer.subscribe("o-follow-3")
    await settled(kefu)
    assert api_replies(platform, "o-follow-3") == []


@pytest.mark.gen_test(timeout=30)
async def test_a_bad_placeholder_or_key_is_refused_with_the_field_and_changes_nothing(api, login) -> None:
    admin, _ = await login("admin")
    agent, _ = await login("alice")
    before = (await api("/api/settings/messages", token=admin))[1]
    for body, field in (({"queued": "第 {place} 位"}, "queued"), ({"assigned": "客服 {agent"}, "assigned"),
                        ({"goodbye": "再见"}, "goodbye"), ({"closed": 5}, "closed"),
                        ({"welcome": "{agent!r}"}, "welcome")):
        status, answer = await api("/api/settings/messages", "PUT", body, token=admin)
        assert (status, answer["error"]["code"]) == (400, "bad_field"), body
        assert answer["error"]["message"].startswith(f"{field}:"), answer
    assert (await api("/api/settings/messages", "PUT", {"welcome": "hi"}, token=agent))[0] == 403
    assert (await api("/api/settings/messages", token=admin))[1] == before
    assert await audit(api, admin, "setting_changed") == []


@pytest.mark.gen_test(timeout=30)
async def test_close_refuses_a_wrapup_code_that_is_not_listed(console, customer, api, login) -> None:
    admin, _ = await login("admin")
    alice = await console("alice")
    await alice.ok("presence", status="available")
    session_id = await take(alice, customer, "o-wrapup")

    refused = await alice.command("close", session_id=session_id, wrapup="made_up")
    assert not refused["ok"] and refused["error"]["code"] == "bad_field"
    assert refused["error"]["message"].startswith("wrapup:")
    assert (await api(f"/api/sessions/{session_id}", token=alice.token))[1]["session"]["state"] == "assigned"

    status, body = await api("/api/settings/wrapup", "PUT", {"codes": [{"code": "resolved", "label": "x"},
                                                                       {"code": "resolved", "label": "y"}]}, token=admin)
    assert (status, body["error"]["code"]) == (400, "bad_field") and body["error"]["message"].startswith("codes[1].code")
    status, body = await api("/api/settings/wrapup", "PUT", {"codes": [
        {"code": "resolved", "label": {"zh-CN": "已解决", "en": "Resolved"}},
        {"code": "made_up", "label": {"zh-CN": "新小结", "en": "New code"}}]}, token=admin)
    assert status == 200, body
    skills = (await api("/api/skills", token=alice.token))[1]
    assert [c["code"] for c in skills["wrapup_codes"]] == ["resolved", "made_up"]
    assert skills["wrapup_codes"][1]["label"] == {"zh-CN": "新小结", "en": "New code"}

    await alice.ok("close", session_id=session_id, wrapup="made_up")
    assert (await api(f"/api/sessions/{session_id}", token=alice.token))[1]["session"]["wrapup"] == "made_up"


@pytest.mark.gen_test(timeout=30)
async def test_closed_text_goes_out_when_the_agent_closes(console, customer, platform, api, login) -> None:
    admin, _ = await login("admin")
    await api("/api/settings/messages", "PUT", {"closed": "本次服务已结束，感谢您的咨询。"}, token=admin)
    alice = await console("alice")
    await alice.ok("presence", status="available")
    session_id = await take(alice, customer, "o-closed")
    told = customer_receives(platform, "o-closed")
    await alice.ok("close", session_id=session_id, wrapup="resolved")
    assert await told == "本次服务已结束，感谢您的咨询。"


@pytest.mark.gen_test(timeout=30)
async def test_keyword_rules_are_validated(api, login) -> None:
    admin, _ = await login("admin")
    for body, field in (([{"keyword": " ", "skill": "loans"}], "keyword_rules[0].keyword"),
                        ([{"keyword": "卡", "skill": "cards"}, {"keyword": "x", "skill": "nope"}],
                         "keyword_rules[1].skill"),
                        ({"keyword": "卡"}, "keyword_rules")):
        status, answer = await api("/api/settings/keyword_rules", "PUT", body, token=admin)
        assert (status, answer["error"]["code"]) == (400, "bad_field") and answer["error"]["message"].startswith(field)
    assert await api("/api/settings/keyword_rules", token=admin) == (200, [])


@pytest.mark.gen_test(timeout=30)
async def test_an_agent_tags_a_customer_they_serve_and_not_one_they_never_served(console, customer, api,
                                                                                 login) -> None:
    admin, _ = await login("admin")
    alice = await console("alice")
    bob = await console("bob")
    await alice.ok("presence", status="available")
    await take(alice, customer, "o-tagged")

    status, body = await api("/api/customers/o-tagged", "PATCH", {"tags": ["VIP", "投诉", "vip"], "note": " 上周投诉过 "},
                             token=alice.token)
    assert status == 200, body
    assert (body["tags"], body["note"]) == (["VIP", "投诉"], "上周投诉过")
    # The nickname fetch of a new customer pushes customer_updated too: wait for the edit's.
    pushed = await alice.event("customer_updated", where=lambda d: d["customer"]["openid"] == "o-tagged"
                               and d["customer"].get("note") is not None)
    assert pushed["customer"]["tags"] == ["VIP", "投诉"] and pushed["customer"]["note"] == "上周投诉过"
    entries = await audit(api, admin, "customer_updated")
    assert [(e["target"], e["actor_id"], e["details"]["after"]["tags"]) for e in entries] == [
        ("o-tagged", alice.user["id"], ["VIP", "投诉"])]

    status, body = await api("/api/customers/o-tagged", "PATCH", {"tags": ["x"]}, token=bob.token)
    assert (status, body["error"]["code"]) == (403, "not_your_customer")
    refused = await audit(api, admin, "read_refused")
    assert [(e["actor_id"], e["details"]["read"]) for e in refused] == [(bob.user["id"], "customer_edit")]

    for patch, field in (({"tags": ["a" * 21]}, "tags[0]"), ({"tags": "VIP"}, "tags"),
                         ({"tags": [str(i) for i in range(11)]}, "tags"), ({"nickname": "x"}, "nickname"),
                         ({"note": "x" * 1001}, "note")):
        status, body = await api("/api/customers/o-tagged", "PATCH", patch, token=alice.token)
        assert (status, body["error"]["code"]) == (400, "bad_field") and body["error"]["message"].startswith(field)
    qa, _ = await login("qa")
    assert (await api("/api/customers/o-tagged", "PATCH", {"tags": []}, token=qa))[0] == 403
    record = (await api("/api/customers/o-tagged", token=admin))[1]
    assert record["tags"] == ["VIP", "投诉"] and len(await audit(api, admin, "customer_updated")) == 1
