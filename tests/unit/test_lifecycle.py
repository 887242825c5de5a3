"""desk/lifecycle.py with fakes: each decision type carried out through the one table, the only writer
of session state, and a customer's message that crosses an accept."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from desk.audience import Audience
from desk.lifecycle import Lifecycle
from desk.views import SessionViews
from routing import decisions as dec
from tests.unit.fakes import MemorySessions, RecordingBus

WHY = dec.Explanation(summary="test")


def msg(message_id: str, session_id: str, text: str) -> dict[str, Any]:
    return {"id": message_id, "session_id": session_id, "direction": "in", "author": "customer", "type": "text",
            "text": text, "ts": 2.0, "status": "received"}


class ScriptedRouting:
    """A routing driver whose engine decides what the test says (``then``)."""

    engine = None

    def __init__(self) -> None:
        self.script: list[dec.Decision] = []
        self.assigned: dict[str, str] = {}
        self.recorded: list[Any] = []
        self.decided = asyncio.Event()

    def then(self, *decisions: dec.Decision) -> None:
        self.script = list(decisions)

    def decide(self, event: Any) -> list[dec.Decision]:
        out, self.script = self.script, []
        for d in out:
            if isinstance(d, dec.SessionAssigned):
                self.assigned[d.session_id] = d.agent_id
        self.decided.set()
        return out

    async def record(self, event: Any) -> None:
        self.recorded.append(event)

    def next_deadline(self) -> None:
        return None

    def assigned_agent(self, session_id: str) -> str | None:
        return self.assigned.get(session_id)

    def close_event(self, session_id: str) -> str:
        return f"close {session_id}"

    def knows(self, session_id: str) -> bool:
        return True

    def request_events(self, session: dict, customer: dict) -> list[str]:
        return [f"request {session['id']}"]


class FakeWatchers:
    def __init__(self) -> None:
        self.ended: list[str] = []
        self.changes = 0

    def queues_changed(self) -> None:
        self.changes += 1

    def session_ended(self, session_id: str) -> None:
        self.ended.append(session_id)

    def monitors_of(self, session_id: str) -> list[str]:
        return ["boss"]

    def queue_subscribers(self) -> list[str]:
        return []


class Env:
    def __init__(self) -> None:
        self.now = 100.0
        self.store = MemorySessions()
        self.bus = RecordingBus()
        self.watchers = FakeWatchers()
        self.routing = ScriptedRouting()
        self.notices: list[tuple[str, str]] = []
        audience = Audience(self.bus, self.watchers)  # type: ignore[arg-type]
        self.lifecycle = Lifecycle(self.store, self.routing, audience, SessionViews(self.store, self.clock),  # type: ignore[arg-type]
                                   self.watchers, self.clock, self.notify)

    def clock(self) -> float:
        return self.now

    async def notify(self, session: dict, key: str, **values: Any) -> None:
        self.notices.append((session["id"], key))

    async def session(self, state: str = "queued", **fields: Any) -> str:
        s = await self.lifecycle.create_queued("o1", "general", 0, self.now)
        if state != "queued" or fields:
            await self.store.update_session(s["id"], state=state, **fields)
        self.store.state_writes.clear()
        return s["id"]

    async def decide(self, *decisions: dec.Decision) -> Any:
        self.routing.then(*decisions)
        return await self.lifecycle.apply_events(["event"])  # type: ignore[list-item]


async def write_started(env: Env) -> None:
    """Until the held transcript write and the assignment's state write have both been reached."""
    while not (env.store.holding and env.store.state_writes):
        env.store.progress.clear()
        await env.store.progress.wait()


@pytest.fixture
def env() -> Env:
    return Env()


def test_every_decision_type_has_its_handler_in_the_one_table(env):
    kinds = {cls for cls in dec.Decision.registry.values() if issubclass(cls, dec.Decision)}
    assert kinds - set(env.lifecycle.handlers) == set()


@pytest.mark.gen_test
async def test_offer_marks_the_session_offered_and_tells_the_agent(env):
    sid = await env.session()
    await env.decide(dec.OfferSession(session_id=sid, agent_id="a1", skill="general", expires_at=115.0,
                                      explanation=WHY))
    assert env.store.state_writes == [(sid, "offered")]
    assert env.store.sessions[sid]["offered_to"] == "a1"
    user, event, data = env.bus.published[-1]
    assert (user, event, data["expires_in"]) == ("a1", "offer", 15.0)
    assert env.watchers.changes == 1 and env.routing.recorded == ["event"]


@pytest.mark.gen_test
async def test_a_transfer_offer_leaves_the_session_with_its_agent(env):
    sid = await env.session("assigned", agent_id="a0")
    await env.decide(dec.OfferSession(session_id=sid, agent_id="a1", skill="general", expires_at=115.0,
                                      transfer_from="a0", explanation=WHY))
    assert env.store.state_writes == [] and env.store.sessions[sid]["offered_to"] == "a1"


@pytest.mark.gen_test
@pytest.mark.parametrize("decision,reason", [
    (lambda sid: dec.RevokeOffer(session_id=sid, agent_id="a1", reason="rejected", explanation=WHY), "rejected"),
    (lambda sid: dec.OfferTimedOut(session_id=sid, agent_id="a1", explanation=WHY), "timeout"),
])
async def test_a_revoked_or_timed_out_offer_puts_the_session_back_in_the_queue(env, decision, reason):
    sid = await env.session("offered", offered_to="a1")
    await env.decide(decision(sid))
    assert env.store.state_writes == [(sid, "queued")] and env.store.sessions[sid]["offered_to"] is None
    assert env.bus.published == [("a1", "offer_revoked", {"session_id": sid, "reason": reason})]


@pytest.mark.gen_test
async def test_assigned_sends_the_bundle_once_built_and_returns_it(env):
    sid = await env.session("offered", offered_to="a1")
    await env.store.add_message(msg("m1", sid, "你好"))
    outcome = await env.decide(dec.SessionAssigned(session_id=sid, agent_id="a1", skill="general", wait_secs=3.0,
                                                   explanation=WHY))
    assert env.store.state_writes == [(sid, "assigned")]
    bundle = outcome.bundles[sid]
    assert [m["text"] for m in bundle["messages"]] == ["你好"]
    assert env.bus.published == [("a1", "session_assigned", bundle)]  # the same object: built once


@pytest.mark.gen_test
async def test_requeued_takes_it_from_the_agent(env):
    sid = await env.session("assigned", agent_id="a1")
    await env.decide(dec.Requeued(session_id=sid, skill="loans", reason="agent_lost", position=1, explanation=WHY))
    assert env.store.state_writes == [(sid, "queued")]
    assert env.store.sessions[sid]["skill"] == "loans" and env.store.sessions[sid]["agent_id"] is None
    assert env.bus.published == [("a1", "session_closed", {"session_id": sid, "reason": "agent_lost"})]


@pytest.mark.gen_test
async def test_diverted_becomes_a_left_message_and_the_customer_is_told(env):
    sid = await env.session()
    await env.decide(dec.Divert(session_id=sid, skill="general", reason="no_agents", explanation=WHY))
    assert env.store.state_writes == [(sid, "diverted")]
    assert env.notices == [(sid, "no_agent")] and env.watchers.ended == [sid]


@pytest.mark.gen_test
async def test_a_returned_transfer_stays_with_its_agent_who_is_told(env):
    sid = await env.session("assigned", agent_id="a1")
    env.store.users["a2"] = {"id": "a2", "name": "Bob"}
    await env.decide(dec.TransferReturned(session_id=sid, agent_id="a1", declined_by="a2", reason="rejected",
                                          explanation=WHY))
    assert env.store.state_writes == []
    assert env.bus.events("a1") == ["notice", "session_updated"]
    assert "Bob declined" in env.bus.published[0][2]["text"]


@pytest.mark.gen_test
async def test_presence_decisions_tell_the_agent(env):
    await env.decide(dec.SetAgentAway(agent_id="a1", explanation=WHY),
                     dec.AgentPresence(agent_id="a2", status="available", explanation=WHY))
    assert env.bus.published[0] == ("a1", "presence", {"agent_id": "a1", "status": "away", "since": 100.0,
                                                        "reason": "missed_offers"})
    assert env.bus.events("a1") == ["presence", "notice"] and env.bus.events("a2") == ["presence"]


@pytest.mark.gen_test
async def test_close_is_written_by_the_lifecycle_and_told_to_monitors_and_agent(env):
    sid = await env.session("assigned", agent_id="a1")
    await env.lifecycle.close(await env.store.get_session(sid), wrapup="resolved", note=None, reason="closed")
    assert env.store.state_writes == [(sid, "closed")] and env.routing.recorded == [f"close {sid}"]
    assert [(u, e) for u, e, _ in env.bus.published] == [("boss", "session_closed"), ("a1", "session_closed")]


@pytest.mark.gen_test
async def test_a_message_written_while_offered_is_in_the_bundle_of_an_accept_that_crosses_it(env):
    sid = await env.session("offered", offered_to="a1")
    env.store.hold_writes = asyncio.Event()
    message = msg("m-late", sid, "还在吗")
    write = env.lifecycle.writes.start(sid, env.store.file_customer_message("o1", 2.0, {}, sid, None, message))
    await env.lifecycle.to_session(sid, "message", {"session_id": sid, "message": message})  # not assigned yet
    accept = asyncio.ensure_future(env.decide(dec.SessionAssigned(
        session_id=sid, agent_id="a1", skill="general", wait_secs=1.0, explanation=WHY)))
    await env.routing.decided.wait()  # the engine has decided; the bundle waits for the write
    await write_started(env)
    assert not accept.done()
    env.store.hold_writes.set()
    outcome = await accept
    await write
    assert [m["id"] for m in outcome.bundles[sid]["messages"]] == ["m-late"]


@pytest.mark.gen_test
async def test_events_for_the_agent_while_its_bundle_is_built_follow_the_bundle(env):
    sid = await env.session("offered", offered_to="a1")
    env.store.hold_writes = asyncio.Event()
    write = env.lifecycle.writes.start(sid, env.store.file_customer_message(
        "o1", 2.0, {}, sid, None, msg("m1", sid, "1")))
    accept = asyncio.ensure_future(env.decide(dec.SessionAssigned(
        session_id=sid, agent_id="a1", skill="general", wait_secs=1.0, explanation=WHY)))
    await env.routing.decided.wait()
    await write_started(env)
    # A message relayed now (the engine says assigned) must not reach the agent before session_assigned.
    late = msg("m2", sid, "2")
    await env.lifecycle.to_session(sid, "message", {"session_id": sid, "message": late})
    assert "message" not in env.bus.events("a1")
    env.store.hold_writes.set()
    await accept
    await write
    assert env.bus.events("a1") == ["session_assigned", "message"]
    assert ("boss", "message", {"session_id": sid, "message": late}) in env.bus.published
