"""Satisfaction (满意度) end to end: the survey after a close (on in --demo), the customer's score by
digit or word, a comment, a reply that is no answer, an un-surveyed digit, what the agent's history
and the supervisor see, and the score kept across a restart."""

from __future__ import annotations

import asyncio
import json
import signal
import uuid
from typing import Any

import pytest
import tornado.httpclient

from desk.texts import SUGGESTED_MESSAGES
from tests.server.conftest import DEMO_PASSWORDS
from tests.server.test_crash import console as open_console
from tests.server.test_crash import free_port, start_server, wait_ready, webhook
from tests.server.test_desk_flows import take
from tests.server.test_texts import customer_receives, settled

SURVEY = SUGGESTED_MESSAGES["survey"]
THANKS = SUGGESTED_MESSAGES["survey_thanks"]


async def served_and_closed(alice: Any, customer: Any, platform: Any, openid: str) -> str:
    """``openid`` writes, alice serves and closes: returns the session id once the survey is out."""
    session_id = await take(alice, customer, openid)
    told = customer_receives(platform, openid)
    await alice.ok("close", session_id=session_id, wrapup="resolved")
    assert await told == SURVEY
    return session_id


@pytest.mark.gen_test(timeout=40)
async def test_a_score_is_recorded_thanked_shown_to_the_agent_and_the_supervisor(kefu, console, customer,
                                                                                platform, api) -> None:
    alice = await console("alice")
    await alice.ok("presence", status="available")
    supervisor = await console("super")
    await supervisor.ok("subscribe_queues")
    session_id = await served_and_closed(alice, customer, platform, "o-csat-1")

    thanked = customer_receives(platform, "o-csat-1")
    await customer.send_text("o-csat-1", "５")  # a full-width digit counts too
    assert await thanked == THANKS
    seen = await supervisor.event("csat", session_id=session_id)
    assert (seen["score"], seen["agent_id"], seen["skill"]) == (5, alice.user["id"], "general")
    assert (await alice.event("csat", session_id=session_id))["score"] == 5
    wall = await supervisor.event("queues", where=lambda w: "general" in w.get("csat", {}))
    assert wall["csat"]["general"]["hour"] == {"avg": 5.0, "count": 1}  # (today's: the unit test's clock)

    # No new session: the answer sits in the surveyed session's transcript.
    await settled(kefu)
    assert await kefu.store.open_session_for_customer("o-csat-1") is None
    status, body = await api(f"/api/sessions/{session_id}", token=alice.token)
    assert status == 200
    assert body["session"]["csat"]["score"] == 5 and body["session"]["csat"]["agent_id"] == alice.user["id"]
    assert [m["text"] for m in body["messages"]][-3:] == [SURVEY, "５", THANKS]
    # The agent's history of the customer, and the supervisor's read, show the score.
    status, history = await api("/api/customers/o-csat-1/sessions", token=alice.token)
    assert status == 200 and history["sessions"][0]["csat"]["score"] == 5
    status, body = await api(f"/api/sessions/{session_id}", token=supervisor.token)
    assert status == 200 and body["session"]["csat"]["score"] == 5

    # The next time the customer writes (after the 2-minute comment window), the agent's offer
    # carries the history with the score.
    stored = await kefu.store.get_session(session_id)
    await kefu.store.update_session(session_id, csat={**stored["csat"], "at": stored["csat"]["at"] - 121})
    await customer.send_text("o-csat-1", "又有问题")
    offer = await alice.event("offer")
    bundle = await alice.ok("accept", session_id=offer["session_id"])
    assert bundle["history"][0]["id"] == session_id and bundle["history"][0]["csat"]["score"] == 5


@pytest.mark.gen_test(timeout=40)
async def test_a_word_answer_and_a_comment_right_after_it(kefu, console, customer, platform) -> None:
    alice = await console("alice")
    await alice.ok("presence", status="available")
    session_id = await served_and_closed(alice, customer, platform, "o-csat-word")
    thanked = customer_receives(platform, "o-csat-word")
    await customer.send_text("o-csat-word", "不满意")
    assert await thanked == THANKS
    assert (await alice.event("csat", session_id=session_id))["score"] == 2
    await customer.send_text("o-csat-word", "等待时间太长了")
    event = await alice.event("csat", session_id=session_id, comment="等待时间太长了")
    assert event["score"] == 2
    await settled(kefu)
    stored = await kefu.store.get_session(session_id)
    assert stored["csat"]["score"] == 2 and stored["csat"]["comment"] == "等待时间太长了"
    assert await kefu.store.open_session_for_customer("o-csat-word") is None

    # A score and a comment in one message.
    other = await served_and_closed(alice, customer, platform, "o-csat-both")
    await customer.send_text("o-csat-both", "4 回复很快")
    event = await alice.event("csat", session_id=other)
    assert (event["score"], event["comment"]) == (4, "回复很快")


@pytest.mark.gen_test(timeout=40)
async def test_a_reply_that_is_no_answer_opens_a_new_session(kefu, console, customer, platform) -> None:
    alice = await console("alice")
    await alice.ok("presence", status="available")
    session_id = await served_and_closed(alice, customer, platform, "o-csat-no")
    await customer.send_text("o-csat-no", "我还有一个问题")
    offer = await alice.event("offer")
    assert offer["session_id"] != session_id and offer["preview"] == "我还有一个问题"
    assert (await kefu.store.get_session(session_id)).get("csat") is None

    # A survey that expired (older than 10 minutes): a digit is a normal message.
    await alice.ok("accept", session_id=offer["session_id"])
    told = customer_receives(platform, "o-csat-no")
    await alice.ok("close", session_id=offer["session_id"], wrapup="resolved")
    assert await told == SURVEY
    stored = await kefu.store.get_session(offer["session_id"])
    await kefu.store.update_session(offer["session_id"],
                                    survey={**stored["survey"], "sent_at": stored["survey"]["sent_at"] - 601})
    await customer.send_text("o-csat-no", "3")
    late = await alice.event("offer")
    assert late["preview"] == "3" and late["session_id"] != offer["session_id"]
    assert (await kefu.store.get_session(offer["session_id"])).get("csat") is None


@pytest.mark.gen_test(timeout=40)
async def test_a_digit_from_a_customer_who_was_not_surveyed_is_a_normal_message(kefu, console, customer,
                                                                               platform, api, login) -> None:
    admin, _ = await login("admin")
    assert (await api("/api/settings/messages", "PUT", {"survey": ""}, token=admin))[0] == 200  # survey off
    alice = await console("alice")
    await alice.ok("presence", status="available")
    session_id = await take(alice, customer, "o-csat-off")
    await alice.ok("close", session_id=session_id, wrapup="resolved")
    await settled(kefu)
    assert (await kefu.store.get_session(session_id)).get("survey") is None
    assert SURVEY not in [r.get("text") for r in platform.replies.get("o-csat-off", [])]
    await customer.send_text("o-csat-off", "5")
    offer = await alice.event("offer")
    assert offer["preview"] == "5" and offer["session_id"] != session_id
    assert (await kefu.store.get_session(session_id)).get("csat") is None


@pytest.mark.gen_test(timeout=60)
async def test_the_score_is_kept_across_a_restart(tmp_path) -> None:
    store_url = f"sqlite:///{tmp_path / 'kefu.sqlite3'}"
    port = free_port()
    openid = f"o-csat-restart-{uuid.uuid4().hex[:8]}"
    client = tornado.httpclient.AsyncHTTPClient()

    async def command(conn: Any, frame_id: int, type_: str, **fields: Any) -> dict[str, Any]:
        await conn.write_message(json.dumps({"type": type_, "id": frame_id, **fields}))
        while True:
            frame = json.loads(await asyncio.wait_for(conn.read_message(), 10))
            if frame["type"] == "result" and frame["id"] == frame_id:
                assert frame["ok"], frame
                return frame["result"]

    async def next_event(conn: Any, name: str) -> dict[str, Any]:
        while True:
            frame = json.loads(await asyncio.wait_for(conn.read_message(), 10))
            if frame["type"] == "event" and frame["event"] == name:
                return frame["data"]

    async def session_as_admin() -> dict[str, Any]:
        token = json.loads((await client.fetch(f"http://127.0.0.1:{port}/api/auth/login", method="POST", body=json.dumps(
            {"username": "admin", "password": DEMO_PASSWORDS["admin"]}))).body)["token"]
        response = await client.fetch(f"http://127.0.0.1:{port}/api/sessions/{session_id}",
                                      headers={"Authorization": f"Bearer {token}"})
        return json.loads(response.body)["session"]

    proc = start_server(port, store_url)
    try:
        await wait_ready(port, proc)
        alice = await open_console(port, "alice", DEMO_PASSWORDS["alice"])
        await command(alice, 1, "presence", status="available")
        url, body = webhook(port, openid, 5151, "你好")
        assert (await client.fetch(url, method="POST", body=body)).code == 200
        offer = await next_event(alice, "offer")
        session_id = (await command(alice, 2, "accept", session_id=offer["session_id"]))["session"]["id"]
        await command(alice, 3, "close", session_id=session_id, wrapup="resolved")
        url, body = webhook(port, openid, 5152, "非常满意")
        assert (await client.fetch(url, method="POST", body=body)).code == 200
        assert (await next_event(alice, "csat"))["score"] == 5
        proc.send_signal(signal.SIGTERM)
        proc.wait(15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()

    proc = start_server(port, store_url)
    try:
        await wait_ready(port, proc)
        session = await session_as_admin()
        assert session["csat"]["score"] == 5 and session["state"] == "closed"
        supervisor = await open_console(port, "super", DEMO_PASSWORDS["super"])
        wall = await command(supervisor, 1, "subscribe_queues")
        assert wall["csat"]["general"]["hour"]["count"] == 1  # the tally is rebuilt from the store
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(15)
