"""desk/crossing.py with fakes: the write barrier an accept waits on, and the events held for an
agent while their ``session_assigned`` is built (the bundle's contents are not sent twice)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from desk.crossing import HeldEvents, WriteBarrier
from tests.unit.fakes import RecordingBus


@pytest.mark.gen_test
async def test_settled_waits_for_the_writes_started_before_it_and_no_others():
    barrier = WriteBarrier()
    first, later = asyncio.Event(), asyncio.Event()
    done: list[str] = []

    async def write(name: str, gate: asyncio.Event) -> str:
        await gate.wait()
        done.append(name)
        return name

    task = barrier.start("s1", write("first", first))
    barrier.start("s2", write("other session", later))  # another session's write is not waited for
    settling = asyncio.ensure_future(barrier.settled("s1"))
    await asyncio.sleep(0)  # settled() has begun: it knows the writes started so far
    started_after = barrier.start("s1", write("after", later))
    await asyncio.sleep(0)
    assert not settling.done()
    first.set()
    await settling
    assert done == ["first"] and await task == "first" and not started_after.done()
    later.set()
    await started_after
    await barrier.settled("s1")  # nothing pending: returns at once
    assert sorted(done) == ["after", "first", "other session"]


@pytest.mark.gen_test
async def test_a_failed_write_still_settles():
    barrier = WriteBarrier()

    async def fails() -> None:
        raise RuntimeError("disk full")

    task = barrier.start("s1", fails())
    await barrier.settled("s1")
    assert isinstance(task.exception(), RuntimeError)


def message(message_id: str) -> dict[str, Any]:
    return {"session_id": "s1", "message": {"id": message_id, "text": message_id}}


@pytest.mark.gen_test
async def test_held_events_follow_the_bundle_without_what_it_carries():
    bus = RecordingBus()
    held = HeldEvents(bus.publish)
    assert not held.hold("s1", "a1", "message", message("m0"))  # nothing announced yet
    held.begin("s1", "a1")
    held.begin("s1", "a2")  # a second begin keeps the first agent
    assert not held.hold("s1", "a2", "message", message("m1"))  # someone else: sent as usual
    assert not held.hold("s2", "a1", "message", message("m1"))  # another session
    for event, data in [("message", message("m1")), ("message", message("m2")),
                        ("session_updated", {"session": {"id": "s1"}}), ("notice", {"text": "hi"})]:
        assert held.hold("s1", "a1", event, data)
    assert bus.published == []
    await held.release("s1", {"session": {"id": "s1"}, "messages": [{"id": "m1"}]})
    # m1 is in the bundle, and the bundle's session is newer than the held update.
    assert bus.published == [("a1", "message", message("m2")), ("a1", "notice", {"text": "hi"})]
    await held.release("s1", None)  # released once only
    assert len(bus.published) == 2
    assert not held.hold("s1", "a1", "message", message("m3"))


@pytest.mark.gen_test
async def test_a_failed_announcement_sends_everything_it_held():
    bus = RecordingBus()
    held = HeldEvents(bus.publish)
    held.begin("s1", "a1")
    held.begin("s2", "a2")
    held.hold("s1", "a1", "message", message("m1"))
    held.hold("s2", "a2", "session_updated", {"session": {"id": "s2"}})
    await held.release_all()
    assert bus.published == [("a1", "message", message("m1")), ("a2", "session_updated", {"session": {"id": "s2"}})]
    assert not held.hold("s1", "a1", "message", message("m2"))
