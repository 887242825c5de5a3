"""/ws against a live app: origin, hello timeout, limits, fan-out, seq across reconnects, resume."""

from __future__ import annotations

import json

import pytest
import tornado.httpclient
import tornado.websocket

from bus.local import LocalBus
from desk.connection import ConnectionSettings


async def read_json(client) -> dict | None:
    message = await client.read_message()
    return None if message is None else json.loads(message)


async def user_id(kefu_services, username: str) -> str:
    return (await kefu_services.store.get_user_by_username(username))["id"]


@pytest.mark.gen_test
@pytest.mark.kefu(allowed_origins=("https://console.example",))
async def test_foreign_origin_is_refused_403(ws_connect, http_port):
    with pytest.raises(tornado.httpclient.HTTPClientError) as info:
        await ws_connect(origin="https://evil.example")
    assert info.value.code == 403
    client = await ws_connect(origin=f"http://127.0.0.1:{http_port}")  # own origin
    client.close()
    client = await ws_connect(origin="https://console.example")  # --allowed-origin
    client.close()


@pytest.mark.gen_test
@pytest.mark.services(connection_settings=ConnectionSettings(hello_timeout_secs=0.05))
async def test_hello_timeout_closes_4001(ws_connect, kefu_services):
    client = await ws_connect()
    assert await client.read_message() is None
    assert client.close_code == 4001


@pytest.mark.gen_test
async def test_frame_over_64_kib_closes_1009_and_server_still_answers(ws_hello):
    client, _ = await ws_hello("alice")
    client.write_message(json.dumps({"type": "send", "id": 1, "session_id": "s", "text": "x" * 70_000}))
    assert await client.read_message() is None
    assert client.close_code == 1009
    other, welcome = await ws_hello("alice")
    other.write_message(json.dumps({"type": "ping", "id": 2}))
    assert (await read_json(other))["ok"]


@pytest.mark.gen_test
async def test_invalid_json_and_unknown_type_keep_the_socket(ws_hello):
    client, _ = await ws_hello("alice")
    client.write_message("{oops")
    assert (await read_json(client))["error"]["code"] == "invalid_json"
    client.write_message(json.dumps({"type": "fly", "id": 5}))
    answer = await read_json(client)
    assert answer["id"] == 5 and answer["error"]["code"] == "unknown_type"
    client.write_message(json.dumps({"type": "accept", "id": 6, "session_id": "s1"}))
    answer = await read_json(client)
    assert answer == {"type": "result", "id": 6, "ok": True, "result": {"session": {"id": "s1"}, "messages": []}}


@pytest.mark.gen_test
@pytest.mark.services(connection_settings=ConnectionSettings(rate_per_sec=0.001, rate_burst=3))
async def test_rate_limit_over_the_socket(ws_hello, kefu_services):
    client, _ = await ws_hello("alice")
    for i in range(5):
        client.write_message(json.dumps({"type": "ping", "id": i}))
    answers = {a["id"]: a for a in [await read_json(client) for _ in range(5)]}
    assert [answers[i]["ok"] for i in range(5)] == [True, True, True, False, False]
    assert answers[4]["error"]["code"] == "rate_limited"


@pytest.mark.gen_test
async def test_ninth_socket_is_closed_4008(ws_hello, login):
    token = await login("alice")
    for _ in range(8):
        _client, welcome = await ws_hello("alice", token=token)
        assert welcome["type"] == "welcome"
    client, welcome = await ws_hello("alice", token=token)
    assert welcome is None and client.close_code == 4008


@pytest.mark.gen_test
async def test_every_tab_receives_an_event(ws_hello, kefu_services):
    tabs = [(await ws_hello("alice"))[0] for _ in range(3)]
    bob, _ = await ws_hello("bob")
    await kefu_services.bus.publish([await user_id(kefu_services, "alice")], "offer", {"session_id": "s1"})
    for tab in tabs:
        assert await read_json(tab) == {"type": "event", "seq": 1, "event": "offer", "data": {"session_id": "s1"}}
    bob.write_message(json.dumps({"type": "ping", "id": 1}))
    assert (await read_json(bob))["type"] == "result"  # bob got no event before his answer


@pytest.mark.gen_test
async def test_seq_increases_across_reconnects_and_resume_replays(ws_hello, kefu_services):
    alice = await user_id(kefu_services, "alice")
    bus = kefu_services.bus
    client, welcome = await ws_hello("alice")
    assert welcome["seq"] == 0
    await bus.publish([alice], "message", {"i": 1})
    await bus.publish([alice], "message", {"i": 2})
    assert [(await read_json(client))["seq"] for _ in range(2)] == [1, 2]
    client.close()
    await bus.publish([alice], "message", {"i": 3})  # missed while offline
    await bus.publish([alice], "message", {"i": 4})
    client, welcome = await ws_hello("alice", resume=2)
    assert welcome["seq"] == 4
    await bus.publish([alice], "message", {"i": 5})
    frames = [await read_json(client) for _ in range(3)]
    assert [(f["seq"], f["data"]["i"]) for f in frames] == [(3, 3), (4, 4), (5, 5)]
    fresh, welcome = await ws_hello("alice")  # no resume: starts at the current seq
    assert welcome["seq"] == 5


@pytest.mark.gen_test
@pytest.mark.services(bus=LocalBus(max_events=2))
async def test_resume_past_retention_gets_resync(ws_hello, kefu_services):
    bus = kefu_services.bus
    alice = await user_id(kefu_services, "alice")
    for i in range(5):
        await bus.publish([alice], "message", {"i": i})
    client, welcome = await ws_hello("alice", resume=1)
    resync = await read_json(client)
    assert resync["event"] == "resync" and resync["seq"] == 5 == welcome["seq"]
    assert resync["data"]["user"]["username"] == "alice"


@pytest.mark.gen_test
@pytest.mark.services(connection_settings=ConnectionSettings(outbound_max_frames=20))
async def test_slow_consumer_is_cut_off_4009_while_others_get_events(ws_hello, kefu_services):
    bus = kefu_services.bus
    alice, bob = await user_id(kefu_services, "alice"), await user_id(kefu_services, "bob")
    slow, _ = await ws_hello("alice")  # never reads again: its TCP buffers fill, then our queue
    fast, _ = await ws_hello("bob")
    blob = "x" * 60_000
    sent = 0
    while bus.connection_count(alice) and sent < 5_000:
        await bus.publish([alice, bob], "message", {"blob": blob})
        sent += 1
        assert (await read_json(fast))["seq"] == sent  # bob keeps up, never waits on alice
    assert bus.connection_count(alice) == 0, "the slow client was never cut off"
    while (frame := await read_json(slow)) is not None:
        assert frame["type"] in ("event", "welcome")
    assert slow.close_code == 4009
    await bus.publish([bob], "message", {"after": True})
    assert (await read_json(fast))["data"] == {"after": True}


@pytest.mark.gen_test
async def test_binary_and_non_object_frames(ws_hello):
    client, _ = await ws_hello("alice")
    client.write_message(b"\x00\x01", binary=True)
    assert (await read_json(client))["error"]["code"] == "invalid_json"
    client.write_message("[1,2]")
    assert (await read_json(client))["error"]["code"] == "bad_request"
    client.write_message(json.dumps({"type": "subscribe_queues", "id": 3}))
    assert (await read_json(client))["error"]["code"] == "forbidden"


@pytest.mark.gen_test
async def test_closing_tells_the_desk(ws_hello, kefu_services):
    client, _ = await ws_hello("super")
    client.close()
    await kefu_services.desk.closed_event.wait()
    assert len(kefu_services.desk.closed_connections) == 1
