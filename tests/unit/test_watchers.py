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


@pytest.mark.gen_test
async def test_each_scope_gets_its_own_narrowed_picture_asked_at_every_send():
    wall = Wall()
    narrowed: list[frozenset[str] | None] = []

    def narrow(data: dict[str, Any], scope: frozenset[str] | None) -> dict[str, Any]:
        narrowed.append(scope)
        return data if scope is None else {**data, "scope": sorted(scope)}

    scopes = {"sup-a": frozenset({"alice"})}
    watchers = Watchers(wall.publish, wall.snapshot, refresh_secs=60, narrow=narrow)
    watchers.subscribe_queues("admin", "c1")
    watchers.subscribe_queues("sup-free", "c2", scope=lambda: None)
    watchers.subscribe_queues("sup-a", "c3", scope=lambda: scopes["sup-a"])
    watchers.subscribe_queues("sup-a2", "c4", scope=lambda: frozenset({"alice"}))
    watchers.queues_changed()
    sent = [await asyncio.wait_for(wall.sent.get(), 5) for _ in range(2)]
    by_users = {tuple(users): data for users, _event, data in sent}
    assert by_users[("admin", "sup-free")] == {"n": 1}  # the unscoped share one event
    assert by_users[("sup-a", "sup-a2")] == {"n": 1, "scope": ["alice"]}  # one per distinct scope
    scopes["sup-a"] = frozenset({"bob"})  # a change of teams: the next send follows it
    watchers.queues_changed()
    sent = [await asyncio.wait_for(wall.sent.get(), 5) for _ in range(3)]
    by_users = {tuple(users): data for users, _event, data in sent}
    assert by_users[("sup-a",)]["scope"] == ["bob"] and by_users[("sup-a2",)]["scope"] == ["alice"]
    watchers.close()
