"""A reply sent under a client id is stored and delivered once, however often it is sent again:
a retry on the same socket, a resend from a second socket while the first is still open, and a
resend after the server restarted on the same store all answer the first message."""

from __future__ import annotations

import asyncio
import json
import signal
import uuid

import pytest
import tornado.httpclient

from tests.server.conftest import DEMO_PASSWORDS
from tests.server.test_crash import console as open_console
from tests.server.test_crash import free_port, start_server, wait_ready, webhook


def api_replies(platform, openid: str) -> list[str]:
    return [r["text"] for r in platform.replies.get(openid, []) if r.get("kind") == "api"]


@pytest.mark.gen_test(timeout=30)
async def test_a_resent_client_id_answers_the_first_message_and_sends_nothing(console, customer, platform) -> None:
    alice = await console("alice")
    await alice.ok("presence", status="available")
    await customer.send_text("o-dedup", "你好")
    offer = await alice.event("offer")
    session_id = (await alice.ok("accept", session_id=offer["session_id"]))["session"]["id"]

    first = await alice.ok("send", session_id=session_id, text="您好，请稍等", client_id="tab-1")
    assert first["message"]["client_id"] == "tab-1" and "duplicate" not in first
    await alice.event("message_status", message_id=first["message"]["id"], status="sent")
    again = await alice.ok("send", session_id=session_id, text="您好，请稍等", client_id="tab-1")
    assert again["duplicate"] is True
    assert again["message"]["id"] == first["message"]["id"]
    assert again["message"]["status"] == "sent"  # the stored message as it is now

    # Two sockets (a reconnect while the old socket still hangs) send the same client id at once.
    tab2 = await console("alice")
    both = await asyncio.gather(alice.command("send", session_id=session_id, text="第二条", client_id="tab-2"),
                                tab2.command("send", session_id=session_id, text="第二条", client_id="tab-2"))
    assert all(r["ok"] for r in both), both
    assert both[0]["result"]["message"]["id"] == both[1]["result"]["message"]["id"]
    assert sorted(bool(r["result"].get("duplicate")) for r in both) == [False, True]
    await alice.event("message_status", message_id=both[0]["result"]["message"]["id"], status="sent")

    # Without a client id every send is a new message, as before.
    await alice.ok("send", session_id=session_id, text="第三条")
    await alice.ok("send", session_id=session_id, text="第三条")
    assert api_replies(platform, "o-dedup").count("您好，请稍等") == 1
    assert api_replies(platform, "o-dedup").count("第二条") == 1
    # The budget counted each reply once: 5 - (1 + 1 + 2).
    update = await alice.event("session_updated", where=lambda d: d["session"]["budget"]["replies_left"] == 1)
    assert update["session"]["budget"]["can_reply"] is True


@pytest.mark.gen_test(timeout=30)
async def test_a_bad_client_id_is_refused_and_stores_nothing(console, customer, platform) -> None:
    alice = await console("alice")
    await alice.ok("presence", status="available")
    await customer.send_text("o-dedup-bad", "你好")
    offer = await alice.event("offer")
    session_id = (await alice.ok("accept", session_id=offer["session_id"]))["session"]["id"]
    for bad in ("", "x" * 65, 7, "a\nb"):
        frame = await alice.command("send", session_id=session_id, text="不该发出", client_id=bad)
        assert frame["ok"] is False and frame["error"]["code"] == "bad_request", frame
        assert "client_id" in frame["error"]["message"]
    assert "不该发出" not in api_replies(platform, "o-dedup-bad")


async def _command(conn, frame_id: int, type_: str, **fields) -> dict:
    await conn.write_message(json.dumps({"type": type_, "id": frame_id, **fields}))
    while True:
        frame = json.loads(await asyncio.wait_for(conn.read_message(), 10))
        if frame["type"] == "result" and frame["id"] == frame_id:
            assert frame["ok"], frame
            return frame["result"]


async def _next_event(conn, name: str) -> dict:
    while True:
        frame = json.loads(await asyncio.wait_for(conn.read_message(), 10))
        if frame["type"] == "event" and frame["event"] == name:
            return frame["data"]


@pytest.mark.gen_test(timeout=60)
async def test_a_client_id_resent_after_a_restart_answers_the_stored_message(tmp_path) -> None:
    store_url = f"sqlite:///{tmp_path / 'kefu.sqlite3'}"
    port = free_port()
    openid = f"o-restart-{uuid.uuid4().hex[:8]}"
    client = tornado.httpclient.AsyncHTTPClient()
    proc = start_server(port, store_url)
    try:
        await wait_ready(port, proc)
        alice = await open_console(port, "alice", DEMO_PASSWORDS["alice"])
        await _command(alice, 1, "presence", status="available")
        url, body = webhook(port, openid, 4242, "你好")
        assert (await client.fetch(url, method="POST", body=body)).code == 200
        offer = await _next_event(alice, "offer")
        session_id = (await _command(alice, 2, "accept", session_id=offer["session_id"]))["session"]["id"]
        first = (await _command(alice, 3, "send", session_id=session_id, text="重启前的回复", client_id="c-1"))["message"]
        proc.send_signal(signal.SIGTERM)
        proc.wait(15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()

    proc = start_server(port, store_url)
    try:
        await wait_ready(port, proc)
        alice = await open_console(port, "alice", DEMO_PASSWORDS["alice"])
        again = await _command(alice, 1, "send", session_id=session_id, text="重启前的回复", client_id="c-1")
        assert again["duplicate"] is True
        assert again["message"]["id"] == first["id"]
        token = json.loads((await client.fetch(f"http://127.0.0.1:{port}/api/auth/login", method="POST", body=json.dumps(
            {"username": "super", "password": DEMO_PASSWORDS["super"]}))).body)["token"]
        response = await client.fetch(f"http://127.0.0.1:{port}/api/sessions/{session_id}",
                                      headers={"Authorization": f"Bearer {token}"})
        texts = [m["text"] for m in json.loads(response.body)["messages"]]
        assert texts.count("重启前的回复") == 1, texts
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except Exception:
            proc.kill()
            proc.wait()
