"""A socket that stops reading costs a bounded amount of memory, and one command a bounded output.

The attack this answers: a supervisor's socket that never reads while it asks for a long
session's transcript 20 times a second. Each monitor result was queued in full, up to 1,000
frames of it (768 MiB for one socket). Now a repeated ``monitor`` sends no transcript again, one
result carries at most the latest ``MONITOR_MAX_MESSAGES``, and the socket's queue is bounded in
bytes: past ``outbound_max_bytes`` it is closed with 4009, what it held is freed, and every other
socket goes on as before.
"""

from __future__ import annotations

import asyncio
import gc
import json
import weakref

import pytest

from desk.connection import ConnectionSettings
from desk.desk import MONITOR_MAX_MESSAGES

LONG_TEXT = "长" * 2000  # WeChat's longest text: 6,000 bytes of UTF-8
OPENID = "o-long-session"


async def _long_session(kefu, console, customer, messages: int):
    """alice holds a session of ``messages`` customer messages; returns (alice, session id)."""
    alice = await console("alice")
    await alice.ok("presence", status="available")
    await customer.send_text(OPENID, "第一条")
    offer = await alice.event("offer")
    session_id = (await alice.ok("accept", session_id=offer["session_id"]))["session"]["id"]
    for i in range(messages - 1):  # the rest of a long conversation, written straight to the store
        await kefu.store.add_message({"session_id": session_id, "openid": OPENID, "direction": "in",
                                      "author": "customer", "text": f"{i} {LONG_TEXT}", "status": "received"})
    return alice, session_id


@pytest.mark.gen_test(timeout=30)
async def test_monitor_sends_a_bounded_transcript_once_per_socket(kefu, console, customer) -> None:
    total = MONITOR_MAX_MESSAGES + 50
    _alice, session_id = await _long_session(kefu, console, customer, total)
    supervisor = await console("super")

    first = await supervisor.ok("monitor", session_id=session_id)
    assert len(first["messages"]) == MONITOR_MAX_MESSAGES and first["earlier"] == 50
    assert first["messages"][-1]["text"] == f"{total - 2} {LONG_TEXT}"  # the latest ones

    again = await supervisor.ok("monitor", session_id=session_id)
    assert again["messages"] == [] and again["already_monitoring"] is True
    assert again["session"]["id"] == session_id

    # Unmonitoring, or another tab, starts afresh with the transcript.
    await supervisor.ok("unmonitor", session_id=session_id)
    assert len((await supervisor.ok("monitor", session_id=session_id))["messages"]) == MONITOR_MAX_MESSAGES
    other_tab = await console("super")
    assert len((await other_tab.ok("monitor", session_id=session_id))["messages"]) == MONITOR_MAX_MESSAGES


@pytest.mark.gen_test(timeout=60)
async def test_a_socket_that_never_reads_is_closed_4009_and_freed_while_others_go_on(
        kefu, console, customer, api) -> None:
    settings = kefu.connection_settings
    assert settings == ConnectionSettings()  # the defaults, stated: this is what ships
    alice, session_id = await _long_session(kefu, console, customer, MONITOR_MAX_MESSAGES)
    watcher = await console("admin")  # another monitor of the same session, reading
    await watcher.ok("monitor", session_id=session_id)

    slow = await console("super")
    user_id = slow.user["id"]
    (connection,) = kefu.bus._conns[user_id]
    codes: list[int] = []
    closed = asyncio.Event()
    real_close = {"close_socket": connection.close_socket}

    def spy(code: int, reason: str) -> None:
        codes.append(code)
        closed.set()
        real_close["close_socket"](code, reason)

    connection.close_socket = spy  # type: ignore[method-assign]
    waiting = asyncio.ensure_future(closed.wait())
    # The attack, at the socket's rate limit (20 frames/s): monitor, unmonitor, monitor, … —
    # every monitor a full result of 200 long messages — and never a frame read.
    frame_id = 0
    for _ in range(300):
        for kind in ("monitor", "unmonitor"):
            frame_id += 1
            await slow.conn.write_message(json.dumps({"type": kind, "id": frame_id, "session_id": session_id}))
        await asyncio.wait([waiting], timeout=0.1)
        if closed.is_set():
            break
    assert codes == [4009], "the socket that never reads was not cut off"

    # What it held is gone at once: no queue, nothing counted, no longer registered.
    assert connection.closed and connection.outbound_bytes == 0 and not connection._outbound
    assert user_id not in kefu.bus._conns

    # Everybody else goes on: the agent answers, the other monitor sees it, the supervisor reconnects.
    sent = await alice.ok("send", session_id=session_id, text="还在，请讲")
    seen = await watcher.event("message", session_id=session_id,
                               where=lambda d: d["message"]["id"] == sent["message"]["id"])
    assert seen["message"]["text"] == "还在，请讲"
    again = await console("super")
    assert (await again.ok("monitor", session_id=session_id))["session"]["id"] == session_id

    code, text = await api("/metrics")
    assert code == 200 and "kefu_sockets_closed_too_slow_total 1.0" in text

    # The client, reading at last, finds the frames it was sent and then the close code 4009.
    writer = connection._writer
    ref = weakref.ref(connection)
    del connection.close_socket  # the spy and its bound method would keep the connection alive
    real_close.clear()
    del connection
    while await asyncio.wait_for(slow.conn.read_message(), 10) is not None:
        pass
    assert slow.conn.close_code == 4009
    await asyncio.wait_for(asyncio.shield(writer), 10)  # the writer ends once the socket is gone
    await asyncio.sleep(0)  # let the close callbacks scheduled with it run
    gc.collect()
    assert ref() is None, gc.get_referrers(ref())
