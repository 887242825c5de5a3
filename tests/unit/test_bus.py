"""LocalBus: per-user seq, retention, fan-out, replay edges, hooks, disconnects."""

from __future__ import annotations

import pytest

from bus.local import LocalBus


class Conn:
    def __init__(self, jti: str | None = None) -> None:
        self.jti = jti
        self.frames: list[dict] = []
        self.closed: tuple[int, str] | None = None

    def deliver(self, frame: dict) -> None:
        self.frames.append(frame)

    def close_socket(self, code: int, reason: str) -> None:
        self.closed = (code, reason)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.gen_test
async def test_seq_per_user_and_fan_out_to_every_tab():
    bus = LocalBus()
    a1, a2, b = Conn(), Conn(), Conn()
    bus.register("a", a1)
    bus.register("a", a2)
    bus.register("b", b)
    await bus.publish(["a", "b"], "x", {"n": 1})
    await bus.publish(["a"], "y", {"n": 2})
    assert [f["seq"] for f in a1.frames] == [1, 2] == [f["seq"] for f in a2.frames]
    assert [f["seq"] for f in b.frames] == [1]
    assert a1.frames[0] == {"type": "event", "seq": 1, "event": "x", "data": {"n": 1}}
    assert await bus.current_seq("a") == 2 and await bus.current_seq("nobody") == 0


@pytest.mark.gen_test
async def test_seq_survives_reconnect_and_replay_returns_missed_in_order():
    bus = LocalBus()
    c = Conn()
    bus.register("a", c)
    await bus.publish(["a"], "e", {"i": 1})
    bus.unregister("a", c)
    await bus.publish(["a"], "e", {"i": 2})
    await bus.publish(["a"], "e", {"i": 3})
    assert [f["seq"] for f in await bus.replay("a", 1)] == [2, 3]
    assert await bus.replay("a", 3) == []
    assert await bus.replay("a", 0) is not None


@pytest.mark.gen_test
async def test_replay_beyond_retention_or_from_the_future_is_none():
    clock = Clock()
    bus = LocalBus(retention_secs=600, max_events=5, clock=clock)
    for i in range(8):
        await bus.publish(["a"], "e", {"i": i})
    assert await bus.replay("a", 2) is None  # seq 3 dropped by the count limit
    assert [f["seq"] for f in await bus.replay("a", 3)] == [4, 5, 6, 7, 8]
    assert await bus.replay("a", 99) is None
    assert await bus.replay("nobody", 5) is None
    clock.now += 601
    await bus.publish(["a"], "e", {})
    assert await bus.replay("a", 7) is None  # 8 expired by age
    assert [f["seq"] for f in await bus.replay("a", 8)] == [9]


@pytest.mark.gen_test
async def test_hooks_fire_on_first_and_last_connection():
    bus = LocalBus()
    seen: list[str] = []
    bus.on_user_back(lambda u: seen.append(f"back:{u}"))

    async def gone(u: str) -> None:
        seen.append(f"gone:{u}")

    bus.on_user_gone(gone)
    c1, c2 = Conn(), Conn()
    bus.register("a", c1)
    bus.register("a", c2)
    bus.unregister("a", c1)
    bus.unregister("a", c1)  # no longer registered: a no-op
    assert seen == ["back:a"]
    bus.unregister("a", c2)
    for task in list(bus._tasks):
        await task
    assert seen == ["back:a", "gone:a"]
    assert bus.online_user_ids() == set()


@pytest.mark.gen_test
async def test_disconnects_by_user_token_and_all():
    bus = LocalBus()
    a1, a2, b = Conn("t1"), Conn("t2"), Conn("t3")
    bus.register("a", a1)
    bus.register("a", a2)
    bus.register("b", b)
    assert bus.connection_count() == 3 and bus.connection_count("a") == 2
    assert bus.disconnect_token("t2", 4010, "logged out") == 1
    assert a2.closed == (4010, "logged out") and a1.closed is None
    assert bus.disconnect_user("a", 4010, "disabled") == 2
    assert bus.close_all(1001, "bye") == 3
    assert b.closed == (1001, "bye")


@pytest.mark.gen_test
async def test_a_failing_connection_does_not_stop_delivery_to_others():
    bus = LocalBus()

    class Broken(Conn):
        def deliver(self, frame: dict) -> None:
            raise RuntimeError("boom")

    ok = Conn()
    bus.register("a", Broken())
    bus.register("a", ok)
    await bus.publish(["a"], "e", {})
    assert len(ok.frames) == 1
