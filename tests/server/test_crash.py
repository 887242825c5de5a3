"""Nothing lost across a crash: a child server is killed with SIGKILL in the middle of a burst of
customer messages, restarted on the same store, and every message WeChat got a 200 for is in the
transcript; waiting sessions keep their queue order and their waiting time."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import pytest
import tornado.httpclient
import tornado.websocket

from store import open_store

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "crash-token"
BURST = 240
KILL_AFTER_ACKS = 80


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, store_url: str, log_level: str = "warning") -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "server.py", "--demo", "--port", str(port), "--store", store_url,
         "--wechat-token", TOKEN, "--log-level", log_level, "--disconnect-grace", "600"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


async def wait_ready(port: int, proc: subprocess.Popen) -> None:
    client = tornado.httpclient.AsyncHTTPClient()
    for _ in range(600):
        if proc.poll() is not None:
            raise AssertionError(f"server exited: {proc.stderr.read().decode()[-2000:]}")
        try:
            response = await client.fetch(f"http://127.0.0.1:{port}/healthz", raise_error=False)
            if response.code == 200:
                return
        except OSError:
            pass
        await asyncio.sleep(0.05)  # polling a child process that is starting: there is no event to await
    raise AssertionError("server did not become healthy")


def webhook(port: int, openid: str, msg_id: int, text: str) -> tuple[str, bytes]:
    stamp, nonce = str(int(time.time())), f"n{msg_id}"
    signature = hashlib.sha1("".join(sorted((TOKEN, stamp, nonce))).encode()).hexdigest()
    xml = (f"<xml><ToUserName><![CDATA[gh]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
           f"<CreateTime>{stamp}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
           f"<Content><![CDATA[{text}]]></Content><MsgId>{msg_id}</MsgId></xml>")
    query = urlencode({"signature": signature, "timestamp": stamp, "nonce": nonce, "openid": openid})
    return f"http://127.0.0.1:{port}/wechat?{query}", xml.encode()


async def console(port: int, username: str, password: str) -> tornado.websocket.WebSocketClientConnection:
    client = tornado.httpclient.AsyncHTTPClient()
    response = await client.fetch(f"http://127.0.0.1:{port}/api/auth/login", method="POST",
                                  body=json.dumps({"username": username, "password": password}))
    token = json.loads(response.body)["token"]
    conn = await tornado.websocket.websocket_connect(tornado.httpclient.HTTPRequest(
        f"ws://127.0.0.1:{port}/ws", headers={"Origin": f"http://127.0.0.1:{port}"}))
    await conn.write_message(json.dumps({"type": "hello", "token": token, "resume": None}))
    assert json.loads(await conn.read_message())["type"] == "welcome"
    return conn


async def command(conn, type_: str, **fields) -> dict:
    await conn.write_message(json.dumps({"type": type_, "id": 1, **fields}))
    while True:
        frame = json.loads(await asyncio.wait_for(conn.read_message(), 10))
        if frame["type"] == "result":
            assert frame["ok"], frame
            return frame["result"]


async def burst_then_kill(port: int, proc: subprocess.Popen) -> list[tuple[int, str, str, float]]:
    """Send the burst; SIGKILL the server once KILL_AFTER_ACKS were acknowledged."""
    client = tornado.httpclient.AsyncHTTPClient(max_clients=16)
    acked: list[tuple[int, str, str, float]] = []
    killed = asyncio.Event()
    plan = [(1_000_000 + i, f"o-crash-{i % 60}", f"消息{i}") for i in range(BURST)]

    async def one(msg_id: int, openid: str, text: str) -> None:
        url, body = webhook(port, openid, msg_id, text)
        try:
            response = await client.fetch(url, method="POST", body=body, raise_error=False, request_timeout=10)
        except (OSError, tornado.httpclient.HTTPClientError):  # the server is gone: not acknowledged
            return
        if response.code == 200 and response.body == b"success":
            acked.append((msg_id, openid, text, time.time()))
            if len(acked) >= KILL_AFTER_ACKS and not killed.is_set():
                os.kill(proc.pid, signal.SIGKILL)
                killed.set()

    queue = list(plan)

    async def worker() -> None:
        while queue and not killed.is_set():
            await one(*queue.pop(0))

    await asyncio.gather(*(worker() for _ in range(16)))
    proc.wait(10)
    assert proc.returncode == -signal.SIGKILL
    return acked


@pytest.mark.slow
def test_sigkill_during_a_burst_loses_no_acknowledged_message(tmp_path) -> None:
    port = free_port()
    store_url = f"sqlite:///{tmp_path / 'crash.sqlite3'}"

    async def first_life() -> list:
        proc = start_server(port, store_url)
        try:
            return await _first_life(proc)
        finally:
            if proc.poll() is None:  # the test failed before the kill: leave nothing behind
                proc.kill()
                proc.wait()

    async def _first_life(proc: subprocess.Popen) -> list:
        await wait_ready(port, proc)
        # An agent is logged in but away: customers queue (nobody logged in would divert them).
        alice = await console(port, "alice", "alice123")
        await command(alice, "presence", status="away")
        supervisor = await console(port, "super", "super123")
        acked = await burst_then_kill(port, proc)
        del alice, supervisor
        return acked

    acked = asyncio.run(first_life())
    assert len(acked) >= KILL_AFTER_ACKS

    async def second_life() -> dict:
        proc = start_server(port, store_url)
        try:
            await wait_ready(port, proc)
            supervisor = await console(port, "super", "super123")
            wall = await command(supervisor, "subscribe_queues")
            supervisor.close()
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(30)
        assert proc.returncode == 0, proc.stderr.read().decode()[-2000:]
        return wall

    wall = asyncio.run(second_life())
    restarted_at = time.time()

    async def check() -> None:
        store = open_store(store_url)
        await store.open()
        try:
            for msg_id, openid, text, _ in acked:
                record = await store.get_inbound(str(msg_id))
                assert record is not None, f"acknowledged message {msg_id} lost"
                assert record["processed"], f"acknowledged message {msg_id} never processed"
                texts = [m["text"] for m in await store.customer_messages(openid, limit=1000)]
                assert text in texts, f"acknowledged message {msg_id} missing from the transcript"
            sessions = await store.list_open_sessions()
            waiting = [s for s in sessions if s["state"] == "queued"]
            # Every customer with an acknowledged message waits in one session, in arrival order.
            assert {s["openid"] for s in waiting} >= {openid for _, openid, _, _ in acked}
            general = next(q for q in wall["queues"] if q["skill"] == "general")
            by_arrival = [s["id"] for s in sorted(waiting, key=lambda s: s["queued_at"])]
            assert general["order"] == by_arrival[:len(general["order"])]
            assert general["waiting"] == len(waiting)
            # Waiting time is kept across the restart, not reset.
            first_ack = min(t for *_, t in acked)
            assert general["longest_wait_s"] >= (wall["ts"] - first_ack) - 1
            assert wall["ts"] <= restarted_at
        finally:
            await store.close()

    asyncio.run(check())
