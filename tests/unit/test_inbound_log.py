"""InboundLog: a customer's messages are processed one after another, in order, while other
customers' messages go on at the same time; record ids stay unique across a fork."""

from __future__ import annotations

import asyncio
import os

import pytest

from desk.inbound import InboundLog, Processed
from store.base import new_id
from wechat.messages import InboundMessage


class MemoryInbound:
    """Just the inbound part of a store: put_inbound and mark_inbound_processed."""

    def __init__(self) -> None:
        self.records: dict[str, dict] = {}
        self.marked: list[str] = []

    async def put_inbound(self, key: str, openid: str, message: dict, received_at: float) -> tuple[bool, dict]:
        if key in self.records:
            return False, self.records[key]
        self.records[key] = {"key": key, "message": message, "received_at": received_at}
        return True, self.records[key]

    async def mark_inbound_processed(self, key: str, session_id: str | None = None) -> dict:
        self.marked.append(key)
        return self.records[key]


def text(openid: str, msg_id: str) -> InboundMessage:
    return InboundMessage(to_user="gh", openid=openid, create_time=1, msg_type="text",
                          msg_id=msg_id, content=msg_id)


@pytest.mark.gen_test
async def test_each_customer_in_order_customers_side_by_side():
    started: list[str] = []
    release = {key: asyncio.Event() for key in ("a1", "a2", "a3", "b1")}

    async def process(key: str, message: InboundMessage, received_at: float) -> Processed:
        started.append(key)
        await release[key].wait()
        return Processed(None)

    store = MemoryInbound()
    log = InboundLog(store, process)
    for openid, key in (("A", "a1"), ("A", "a2"), ("B", "b1"), ("A", "a3")):
        await log.ingest(text(openid, key))
    for _ in range(5):
        await asyncio.sleep(0)
    assert started == ["a1", "b1"]  # B does not wait for A; A's second waits for its first
    assert log.backlog == 4
    release["a2"].set()  # finishing out of turn changes nothing
    release["b1"].set()
    for _ in range(5):
        await asyncio.sleep(0)
    assert started == ["a1", "b1"]
    assert log.backlog == 3  # b1 is done
    release["a1"].set()
    release["a3"].set()
    await log.drain()
    assert started == ["a1", "b1", "a2", "a3"]
    assert log.backlog == 0
    assert sorted(store.marked) == ["a1", "a2", "a3", "b1"]


@pytest.mark.gen_test
async def test_a_failed_message_does_not_stop_the_next():
    seen: list[str] = []

    async def process(key: str, message: InboundMessage, received_at: float) -> Processed:
        seen.append(key)
        if key == "a1":
            raise RuntimeError("boom")
        return Processed("s1", marked=True)

    store = MemoryInbound()
    log = InboundLog(store, process)
    await log.ingest(text("A", "a1"))
    await log.ingest(text("A", "a2"))
    await log.drain()
    assert seen == ["a1", "a2"]
    assert log.backlog == 0  # a failed message leaves the queue too (the store keeps it unprocessed)
    assert store.marked == []  # a1 stays unprocessed (recovered at start); a2 marked itself


def test_record_ids_differ_in_a_forked_child():
    before = new_id()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report its next ids and leave at once
        os.write(write, (new_id() + new_id()).encode())
        os._exit(0)
    os.close(write)
    child = os.read(read, 64).decode()
    os.close(read)
    os.waitpid(pid, 0)
    mine = {new_id() for _ in range(2)}
    assert len(before) == 32 and int(before, 16) >= 0
    assert {child[:32], child[32:]}.isdisjoint(mine)
    assert len({before, child[:32], child[32:], *mine}) == 5
