"""ConsoleConnection with a list as ``send``: hello, welcome, resume, dispatch, limits, ordering."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from bus.local import LocalBus
from desk.accounts import Accounts
from desk.connection import PING, ConnectionSettings, ConsoleConnection
from desk.desk import command_names
from tests.unit.fakes import FakeDesk, MemoryUsers

SECRET = "unit-test-secret-0123456789abcdef"


class FakeSocket:
    """``send`` appends decoded frames; ``close`` records the code; both wake waiters."""

    def __init__(self) -> None:
        self.frames: list[dict[str, Any]] = []
        self.closed: tuple[int, str] | None = None
        self._changed = asyncio.Event()

    def send(self, text: str) -> None:
        self.frames.append(json.loads(text))
        self._changed.set()

    def close(self, code: int, reason: str) -> None:
        self.closed = (code, reason)
        self._changed.set()

    async def wait(self, predicate) -> None:
        while not predicate():
            self._changed.clear()
            await self._changed.wait()

    async def frame_count(self, n: int) -> list[dict[str, Any]]:
        await self.wait(lambda: len(self.frames) >= n or self.closed is not None)
        return self.frames

    async def result(self, frame_id: int) -> dict[str, Any]:
        def found() -> dict[str, Any] | None:
            return next((f for f in self.frames if f.get("type") == "result" and f["id"] == frame_id), None)
        await self.wait(lambda: found() is not None)
        return found()  # type: ignore[return-value]

    def events(self) -> list[dict[str, Any]]:
        return [f for f in self.frames if f["type"] == "event"]


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Env:
    def __init__(self) -> None:
        self.store = MemoryUsers()
        self.bus = LocalBus()
        self.accounts = Accounts(self.store, self.bus, SECRET)
        self.desk = FakeDesk()
        self.clock = Clock()
        self.users: dict[str, dict[str, Any]] = {}
        self.tokens: dict[str, str] = {}

    async def add(self, username: str, roles: list[str]) -> None:
        user = await self.accounts.create_user({"username": username, "password": "password-123", "roles": roles})
        self.users[username] = user
        self.tokens[username] = self.accounts.issue_token({"id": user["id"], "roles": roles})[0]

    def connect(self, **settings: Any) -> tuple[ConsoleConnection, FakeSocket]:
        sock = FakeSocket()
        conn = ConsoleConnection(sock.send, sock.close, self.accounts, self.bus, self.desk,
                                 ConnectionSettings(clock=self.clock, **settings))
        conn.start()
        return conn, sock

    async def hello(self, username: str, resume: int | None = None, **settings: Any):
        conn, sock = self.connect(**settings)
        conn.on_message(json.dumps({"type": "hello", "token": self.tokens[username], "resume": resume}))
        await sock.frame_count(1)
        return conn, sock


@pytest.fixture
def env(io_loop) -> Env:
    env = Env()
    io_loop.run_sync(lambda: env.add("alice", ["agent"]))
    io_loop.run_sync(lambda: env.add("boss", ["supervisor"]))
    return env


@pytest.mark.gen_test
async def test_hello_gets_a_welcome(env):
    _conn, sock = await env.hello("alice")
    welcome = sock.frames[0]
    assert welcome["type"] == "welcome" and welcome["seq"] == 0
    assert welcome["user"]["username"] == "alice" and "password_hash" not in welcome["user"]
    assert welcome["sessions"] == [] and welcome["offers"] == [] and welcome["presence"]["status"] == "away"
    # The heartbeat the client is asked to keep (docs/protocol.md, Heartbeat).
    assert welcome["heartbeat"] == {"interval_s": 5.0, "timeout_s": 15.0}


@pytest.mark.gen_test
async def test_no_hello_in_time_closes_4001(env):
    _conn, sock = env.connect(hello_timeout_secs=0.01)
    await sock.wait(lambda: sock.closed is not None)
    assert sock.closed[0] == 4001


@pytest.mark.parametrize("first", ["not json", '{"type":"ping","id":1}', '{"type":"hello","token":"x.y.z"}',
                                   '{"type":"hello"}', "[]"])
@pytest.mark.gen_test
async def test_bad_first_frame_closes_4001(env, first):
    conn, sock = env.connect()
    conn.on_message(first)
    await sock.wait(lambda: sock.closed is not None)
    assert sock.closed[0] == 4001 and sock.frames == []


@pytest.mark.gen_test
async def test_protocol_errors_answer_and_keep_the_connection(env):
    conn, sock = await env.hello("alice")
    conn.on_message("{nope")
    conn.on_message(json.dumps({"type": "ping"}))
    conn.on_message(json.dumps({"type": "ping", "id": "1"}))
    conn.on_message(json.dumps({"type": "warp", "id": 3}))
    conn.on_message(json.dumps({"type": "accept", "id": 4}))
    conn.on_message(json.dumps({"type": "send", "id": 5, "session_id": "s", "text": 7}))
    conn.on_message(json.dumps({"type": "presence", "id": 6, "status": "asleep"}))
    conn.on_message(json.dumps({"type": "transfer", "id": 7, "session_id": "s"}))
    conn.on_message(json.dumps({"type": "accept", "id": 8, "session_id": "missing"}))
    conn.on_message(json.dumps({"type": "ping", "id": 9}))
    await sock.result(9)
    errors = [(f["id"], f["error"]["code"]) for f in sock.frames if f["type"] == "result" and not f["ok"]]
    assert errors[:3] == [(None, "invalid_json"), (None, "bad_request"), (None, "bad_request")]
    assert (3, "unknown_type") in errors and (8, "not_found") in errors
    by_id = {f["id"]: f for f in sock.frames if f["type"] == "result"}
    assert "session_id" in by_id[4]["error"]["message"]
    assert "text" in by_id[5]["error"]["message"]
    assert by_id[6]["error"]["code"] == "bad_request" and by_id[7]["error"]["code"] == "bad_request"
    assert by_id[9]["ok"] and "ts" in by_id[9]["result"]
    assert sock.closed is None


@pytest.mark.gen_test
async def test_commands_call_the_desk_with_the_user(env):
    conn, sock = await env.hello("alice")
    uid = env.users["alice"]["id"]
    conn.on_message(json.dumps({"type": "send", "id": 1, "session_id": "s1", "text": "hi"}))
    conn.on_message(json.dumps({"type": "transfer", "id": 2, "session_id": "s1", "to_skill": "loans"}))
    conn.on_message(json.dumps({"type": "close", "id": 3, "session_id": "s1", "wrapup": "resolved"}))
    conn.on_message(json.dumps({"type": "presence", "id": 4, "status": "available"}))
    await sock.result(1), await sock.result(2), await sock.result(3)
    assert (await sock.result(4))["result"] == {"status": "available", "since": 1.0}
    conn.on_message(json.dumps({"type": "send", "id": 5, "session_id": "s1", "text": "hi", "client_id": "c1"}))
    await sock.result(5)
    assert ("send", (uid, "s1", "hi", None)) in env.desk.calls
    assert ("send", (uid, "s1", "hi", "c1")) in env.desk.calls
    assert ("transfer", (uid, "s1", None, "loans", None)) in env.desk.calls
    assert ("close", (uid, "s1", "resolved", None)) in env.desk.calls
    assert (await sock.result(1))["result"]["message"]["status"] == "pending"


@pytest.mark.gen_test
async def test_supervisor_commands_need_the_role(env):
    conn, sock = await env.hello("alice")
    conn.on_message(json.dumps({"type": "subscribe_queues", "id": 1}))
    assert (await sock.result(1))["error"]["code"] == "forbidden"
    conn2, sock2 = await env.hello("boss")
    conn2.on_message(json.dumps({"type": "monitor", "id": 1, "session_id": "s9"}))
    assert (await sock2.result(1))["ok"]
    assert ("monitor", (env.users["boss"]["id"], "s9", conn2.key)) in env.desk.calls


@pytest.mark.gen_test
async def test_every_documented_command_is_in_the_table():
    COMMANDS = {PING} | command_names()  # the protocol's own, and every feature's
    assert set(COMMANDS) == {"ping", "presence", "accept", "reject", "send", "transfer", "close",
                             "subscribe_queues", "unsubscribe_queues", "monitor", "unmonitor", "whisper",
                             "barge", "reassign", "set_presence", "explain", "move_session",
                             "assign_leave_message", "close_leave_message", "leave_message_alternatives",
                               "send_leave_message_template"}


@pytest.mark.gen_test
async def test_a_slow_command_does_not_hold_the_next(env):
    conn, sock = await env.hello("alice")
    env.desk.gates["accept"] = gate = asyncio.Event()
    conn.on_message(json.dumps({"type": "accept", "id": 1, "session_id": "s1"}))
    conn.on_message(json.dumps({"type": "ping", "id": 2}))
    await sock.result(2)
    assert not any(f.get("id") == 1 for f in sock.frames)
    gate.set()
    assert (await sock.result(1))["ok"]


@pytest.mark.gen_test
async def test_an_unexpected_desk_failure_is_internal_and_hides_details(env):
    conn, sock = await env.hello("alice")
    env.desk.answers["reject"] = RuntimeError("db password is hunter2")
    conn.on_message(json.dumps({"type": "reject", "id": 1, "session_id": "s1"}))
    error = (await sock.result(1))["error"]
    assert error["code"] == "internal" and "hunter2" not in error["message"]
    assert sock.closed is None


@pytest.mark.gen_test
async def test_rate_limit_answers_rate_limited_and_refills(env):
    conn, sock = await env.hello("alice", rate_per_sec=20, rate_burst=40)
    for i in range(45):
        conn.on_message(json.dumps({"type": "ping", "id": i}))
    await sock.result(44)
    limited = [f["id"] for f in sock.frames if f["type"] == "result" and not f["ok"]]
    assert limited == [40, 41, 42, 43, 44]
    assert all(f["error"]["code"] == "rate_limited" for f in sock.frames if f["type"] == "result" and not f["ok"])
    env.clock.now += 0.5  # 10 tokens back
    conn.on_message(json.dumps({"type": "ping", "id": 100}))
    assert (await sock.result(100))["ok"]
    assert sock.closed is None


@pytest.mark.gen_test
async def test_live_events_follow_the_welcome(env):
    _conn, sock = await env.hello("alice")
    await env.bus.publish([env.users["alice"]["id"]], "offer", {"session_id": "s1"})
    await sock.frame_count(2)
    assert sock.frames[1] == {"type": "event", "seq": 1, "event": "offer", "data": {"session_id": "s1"}}


@pytest.mark.gen_test
async def test_resume_replays_missed_events_then_live_without_gap_or_duplicate(env):
    uid = env.users["alice"]["id"]
    conn, sock = await env.hello("alice")
    for i in range(3):
        await env.bus.publish([uid], "message", {"i": i})
    await sock.frame_count(4)
    conn.on_close()
    for i in range(3, 6):
        await env.bus.publish([uid], "message", {"i": i})
    _conn2, sock2 = await env.hello("alice", resume=2)
    await env.bus.publish([uid], "message", {"i": 6})
    await sock2.frame_count(6)
    assert sock2.frames[0]["type"] == "welcome" and sock2.frames[0]["seq"] == 6
    assert [f["seq"] for f in sock2.events()] == [3, 4, 5, 6, 7]
    assert [f["data"]["i"] for f in sock2.events()] == [2, 3, 4, 5, 6]


@pytest.mark.gen_test
async def test_resume_past_retention_sends_resync(env):
    env.bus = LocalBus(max_events=3)
    env.accounts.bus = env.bus
    uid = env.users["alice"]["id"]
    for i in range(10):
        await env.bus.publish([uid], "message", {"i": i})
    _conn, sock = await env.hello("alice", resume=2)
    await sock.frame_count(2)
    assert sock.frames[1]["event"] == "resync" and sock.frames[1]["seq"] == 10
    assert sock.frames[1]["data"]["user"]["id"] == uid and "sessions" in sock.frames[1]["data"]
    await env.bus.publish([uid], "message", {"i": 10})
    await sock.frame_count(3)
    assert sock.frames[2]["seq"] == 11


@pytest.mark.gen_test
async def test_race_event_published_during_the_handshake_arrives_once_in_order(env):
    """Force the race: events are published while the welcome snapshot and the replay are read."""
    uid = env.users["alice"]["id"]
    await env.bus.publish([uid], "message", {"i": 0})  # seq 1, the client saw it

    real_replay = env.bus.replay

    async def replay_with_a_publish_in_between(user_id: str, after: int):
        await env.bus.publish([uid], "message", {"i": "during-replay"})
        return await real_replay(user_id, after)

    async def publish_during_welcome(user: dict) -> None:
        await env.bus.publish([uid], "message", {"i": "during-welcome"})

    env.bus.replay = replay_with_a_publish_in_between  # type: ignore[method-assign]
    env.desk.on_welcome = publish_during_welcome
    await env.bus.publish([uid], "message", {"i": "missed"})  # seq 2, while offline
    _conn, sock = await env.hello("alice", resume=1)
    await env.bus.publish([uid], "message", {"i": "live"})
    await sock.frame_count(5)
    seqs = [f["seq"] for f in sock.events()]
    assert seqs == [2, 3, 4, 5], seqs
    assert [f["data"]["i"] for f in sock.events()] == ["missed", "during-replay", "during-welcome", "live"]


@pytest.mark.gen_test
async def test_race_without_resume_publish_during_welcome_is_delivered(env):
    uid = env.users["alice"]["id"]

    async def publish_during_welcome(user: dict) -> None:
        await env.bus.publish([uid], "offer", {"session_id": "s1"})

    env.desk.on_welcome = publish_during_welcome
    _conn, sock = await env.hello("alice")
    await sock.frame_count(2)
    assert sock.frames[0]["seq"] == 0 and sock.frames[1]["seq"] == 1


@pytest.mark.gen_test
async def test_slow_client_is_cut_off_4009_and_others_keep_receiving(env):
    uid = env.users["alice"]["id"]
    slow_sock_gate = asyncio.Event()
    slow = FakeSocket()

    async def stuck_send(text: str) -> None:  # a client that stopped reading: writes never finish
        await slow_sock_gate.wait()

    conn = ConsoleConnection(stuck_send, slow.close, env.accounts, env.bus, env.desk,
                             ConnectionSettings(outbound_max_frames=10))
    conn.start()
    conn.on_message(json.dumps({"type": "hello", "token": env.tokens["alice"]}))
    _other, fast = await env.hello("alice")
    await asyncio.sleep(0)  # let the slow connection finish its handshake (no await to hook)
    await env.bus.publish([uid], "e", {})
    while slow.closed is None:
        await env.bus.publish([uid], "e", {})
    assert slow.closed[0] == 4009
    assert env.bus.connection_count(uid) == 1
    n = await env.bus.current_seq(uid)
    await fast.frame_count(n + 1)
    assert [f["seq"] for f in fast.events()] == list(range(1, n + 1))


@pytest.mark.gen_test
async def test_outbound_queue_is_bounded_in_bytes_and_freed_on_4009(env):
    uid = env.users["alice"]["id"]
    gate = asyncio.Event()
    slow = FakeSocket()
    sent: list[bytes] = []

    async def stuck_send(data: bytes) -> None:  # the client read the welcome, then stopped reading
        sent.append(data)
        if len(sent) > 1:
            await gate.wait()

    conn = ConsoleConnection(stuck_send, slow.close, env.accounts, env.bus, env.desk,
                             ConnectionSettings(outbound_max_bytes=10_000))
    conn.start()
    conn.on_message(json.dumps({"type": "hello", "token": env.tokens["alice"]}))
    while not sent or conn.outbound_bytes:  # until the welcome was written
        await asyncio.sleep(0)
    # One frame bigger than the whole bound still goes out when nothing else waits…
    await env.bus.publish([uid], "big", {"blob": "长" * 5_000})  # 15,000 bytes
    assert slow.closed is None and conn.outbound_bytes > 10_000
    # …but a client that is not reading cannot make the server hold more.
    await env.bus.publish([uid], "small", {"n": 1})
    assert slow.closed is not None and slow.closed[0] == 4009
    assert conn.outbound_bytes == 0 and not conn._outbound and env.bus.connection_count(uid) == 0
    gate.set()  # the stuck write completes: the writer ends instead of waiting for ever
    await asyncio.wait_for(conn._writer, 5)  # type: ignore[arg-type]


@pytest.mark.gen_test
async def test_more_than_eight_sockets_closes_4008(env):
    socks = [(await env.hello("alice"))[1] for _ in range(8)]
    assert all(s.frames[0]["type"] == "welcome" for s in socks)
    conn, sock = env.connect()
    conn.on_message(json.dumps({"type": "hello", "token": env.tokens["alice"]}))
    await sock.wait(lambda: sock.closed is not None)
    assert sock.closed[0] == 4008


@pytest.mark.gen_test
async def test_close_unregisters_and_tells_the_desk(env):
    conn, _sock = await env.hello("boss")
    uid = env.users["boss"]["id"]
    assert env.bus.connection_count(uid) == 1
    conn.on_close()
    await env.desk.closed_event.wait()
    assert env.desk.closed_connections == [conn.key]
    assert env.bus.connection_count(uid) == 0


@pytest.mark.gen_test
async def test_logout_closes_4010(env):
    _conn, sock = await env.hello("alice")
    await env.accounts.logout(env.tokens["alice"])
    assert sock.closed == (4010, "logged out")
