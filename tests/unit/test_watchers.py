"""Watchers: a subscribed wall hears a ``queues`` event every refresh even when nothing changed
(waits grow with the clock alone), changes are coalesced, and the refresh stops with the last
subscriber."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from desk.watchers import Watchers


class Wall:
    def __init__(self) -> None:
        self.sent: asyncio.Queue[tuple[list[str], str, dict[str, Any]]] = asyncio.Queue()
        self.snapshots = 0

    async def publish(self, users: list[str], event: str, data: dict[str, Any]) -> None:
        await self.sent.put((users, event, data))

    async def snapshot(self) -> dict[str, Any]:
        self.snapshots += 1
        return {"n": self.snapshots}


@pytest.mark.gen_test
async def test_a_quiet_wall_is_repainted_every_refresh():
    wall = Wall()
    watchers = Watchers(wall.publish, wall.snapshot, refresh_secs=0.05)
    watchers.subscribe_queues("super", "conn-1")
    first = await asyncio.wait_for(wall.sent.get(), 5)
    second = await asyncio.wait_for(wall.sent.get(), 5)
    assert (first[0], first[1]) == (["super"], "queues")
    assert second[2]["n"] > first[2]["n"]  # each repaint is a fresh picture
    watchers.close()


@pytest.mark.gen_test
async def test_the_refresh_stops_with_the_last_subscriber():
    wall = Wall()
    watchers = Watchers(wall.publish, wall.snapshot, refresh_secs=0.05)
    watchers.subscribe_queues("super", "conn-1")
    await asyncio.wait_for(wall.sent.get(), 5)
    watchers.unsubscribe_queues("super", "conn-1")
    assert watchers._refresh_handle is None  # no timer left to repaint for nobody
    watchers.subscribe_queues("super", "conn-2")  # a new subscriber starts it again
    assert (await asyncio.wait_for(wall.sent.get(), 5))[1] == "queues"
    watchers.close()
