"""Drives the pure routing engine from the async desk: events in, decisions carried out.

Owns the one ``RoutingEngine`` of this process, its durable event log (every applied event is
appended to the store before its decisions are acted on, so a restart can rebuild the engine by
snapshot + replay), the single timer that delivers ``Tick`` at the engine's next deadline, and the
translation of decisions into desk actions (offers, assignments, requeues, diversions).
All engine access is serialised by one lock: decisions are carried out in the order made.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from desk.errors import DeskError
from routing import decisions as dec
from routing import events as ev
from routing.engine import RoutingEngine

log = logging.getLogger("kefu.desk.routing")

# A snapshot every this many events keeps replay at start-up short.
SNAPSHOT_EVERY_EVENTS = 500
# How many waiting sessions of each queue the supervisor wall lists by id.
WALL_QUEUE_HEAD = 50
# The engine's reasons an agent cannot be offered a session -> the error code a console gets.
REFUSAL_CODES = {"away": "agent_away", "offline": "agent_offline", "logged_out": "agent_offline",
                 "disconnected": "agent_offline", "wrapup": "agent_busy", "at_capacity": "agent_busy"}
QUEUE_REFUSAL_CODES = {"outside_hours": "queue_closed", "no_agents": "no_agents"}


def skills_of(user: dict[str, Any]) -> dict[str, int]:
    """A user's skills as the engine takes them: name -> level (1-5, default 3)."""
    out: dict[str, int] = {}
    for skill in user.get("skills") or ():
        if isinstance(skill, str):
            out[skill] = 3
        else:
            out[str(skill["name"])] = int(skill.get("level", 3))
    return out


class RoutingDriver:
    def __init__(self, store: Any, clock: Callable[[], float], desk: Any, offer_timeout: float = 20,
                 disconnect_grace: float = 60) -> None:
        self.store = store
        self.clock = clock
        self.desk = desk
        self.offer_timeout = float(offer_timeout)
        self.disconnect_grace = float(disconnect_grace)
        self.engine: RoutingEngine | None = None
        self._lock = asyncio.Lock()
        self._timer: asyncio.TimerHandle | None = None
        self._events_since_snapshot = 0
        self._last_seq = 0
        self._agents: dict[str, tuple[tuple[tuple[str, int], ...], int]] = {}
        self._stopped = False
        self._catalogue: list[str] = []

    # -- start / stop ----------------------------------------------------------------------------
    async def start(self, skills: list[str]) -> None:
        self._catalogue = list(skills)
        settings = {"disconnect_grace_secs": self.disconnect_grace,
                    "default_offer_timeout_secs": self.offer_timeout}
        loaded = await self.store.load_routing_snapshot()
        if loaded is not None:
            self._last_seq, snapshot = loaded
            self.engine = RoutingEngine.restore(snapshot)
        else:
            self.engine = RoutingEngine(settings=self._settings(settings))
        replayed = 0
        for record in await self.store.routing_events(after_seq=self._last_seq):
            self._last_seq = record["seq"]
            event = ev.Event.from_dict({k: v for k, v in record.items() if k != "seq"})
            self.engine.apply(event)
            replayed += 1
        log.info("routing engine rebuilt", extra={"fields": {"snapshot_seq": loaded[0] if loaded else 0,
                                                             "replayed": replayed}})
        agents = self.engine.agent_stats(self.clock())
        for agent_id in agents:
            self._agents[agent_id] = ((), -1)  # known to the engine; skills refreshed on login
        async with self._lock:
            for skill in skills:
                await self._ensure_queue(skill)
            # Nobody is connected to a process that just started: every agent's grace begins now.
            for agent_id, agent in agents.items():
                if agent["status"] != "offline" and agent["connected"]:
                    await self._apply(ev.AgentDisconnected(agent_id=agent_id, now=self.clock()))
        await self._reconcile_store()

    async def _ensure_queue(self, skill: str) -> None:
        """Configure a skill's queue with this desk's settings unless it already has them (lock held)."""
        assert self.engine is not None
        if self.engine.queue_config(skill).offer_timeout_secs != self.offer_timeout:
            await self._apply(ev.ConfigureQueue(skill=skill, offer_timeout_secs=self.offer_timeout, now=self.clock()))

    def _settings(self, overrides: dict[str, Any]) -> Any:
        from routing.config import EngineSettings

        return EngineSettings(**overrides)

    async def _reconcile_store(self) -> None:
        """Make stored sessions agree with the engine (the engine's log is written first)."""
        assert self.engine is not None
        for session in await self.store.list_open_sessions():
            state = self.engine.session(session["id"])
            if state is None:
                continue
            if state["state"] in ("closed", "diverted", "abandoned"):
                await self.store.update_session(session["id"], state="closed" if state["state"] != "diverted"
                                                else "diverted", closed_at=self.clock(),
                                                close_reason=session.get("close_reason") or state["state"])
            elif state["state"] == "assigned" and session.get("agent_id") != state.get("agent"):
                await self.store.update_session(session["id"], state="assigned", agent_id=state.get("agent"))
            elif state["state"] == "queued" and session["state"] != "queued":
                await self.store.update_session(session["id"], state="queued", agent_id=None, offered_to=None)

    async def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        async with self._lock:  # let an event being applied finish its decisions first
            if self.engine is not None and self._events_since_snapshot:
                await self.store.save_routing_snapshot(self._last_seq, self.engine.snapshot())

    # -- applying --------------------------------------------------------------------------------
    async def _apply(self, event: ev.Event) -> list[Any]:
        """Apply one event (lock held), log it durably, carry out its decisions in order."""
        assert self.engine is not None
        started = time.perf_counter()
        decisions = self.engine.apply(event)
        metrics = getattr(self.desk, "metrics", None)
        if metrics is not None:
            metrics.observe_routing(time.perf_counter() - started)
        seqs = await self.store.append_routing_events([event.to_dict()])
        self._last_seq = seqs[-1]
        self._events_since_snapshot += 1
        if log.isEnabledFor(logging.DEBUG):
            log.debug("routing applied", extra={"fields": {"event": event.kind,
                                                            "decisions": [d.kind for d in decisions]}})
        results = []
        for decision in decisions:
            results.append(await self._carry_out(decision))
        if self._events_since_snapshot >= SNAPSHOT_EVERY_EVENTS:
            await self.store.save_routing_snapshot(self._last_seq, self.engine.snapshot())
            await self.store.prune_routing_events(self._last_seq)
            self._events_since_snapshot = 0
        self._schedule_tick()
        self.desk.watchers.queues_changed()
        return results

    async def apply(self, event: ev.Event) -> list[Any]:
        async with self._lock:
            if self._stopped:  # shutting down: the final snapshot is (being) written
                return []
            return await self._apply(event)

    def _schedule_tick(self) -> None:
        assert self.engine is not None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._stopped:
            return
        deadline = self.engine.next_deadline()
        if deadline is None:
            return
        delay = max(0.0, deadline - self.clock())
        self._timer = asyncio.get_running_loop().call_later(delay, self._fire_tick)

    def _fire_tick(self) -> None:
        self._timer = None
        task = asyncio.ensure_future(self.apply(ev.Tick(now=self.clock())))
        task.add_done_callback(_log_failure)

    async def _carry_out(self, decision: Any) -> Any:
        d = self.desk
        now = self.clock()
        if isinstance(decision, dec.OfferSession):
            await d.on_offer(decision.session_id, decision.agent_id, decision.skill, max(0.0, decision.expires_at - now),
                             transfer_from=decision.transfer_from)
        elif isinstance(decision, dec.RevokeOffer):
            await d.on_offer_revoked(decision.session_id, decision.agent_id, decision.reason)
        elif isinstance(decision, dec.OfferTimedOut):
            await d.on_offer_revoked(decision.session_id, decision.agent_id, "timeout")
        elif isinstance(decision, dec.SessionAssigned):
            return await d.on_assigned(decision.session_id, decision.agent_id)
        elif isinstance(decision, dec.Requeued):
            await d.on_requeued(decision.session_id, decision.skill, decision.reason)
        elif isinstance(decision, dec.Divert):
            await d.on_diverted(decision.session_id, decision.reason)
        elif isinstance(decision, dec.SetAgentAway):
            await d.on_agent_presence(decision.agent_id, "away", now, reason=decision.reason)
        elif isinstance(decision, dec.AgentPresence):
            await d.on_agent_presence(decision.agent_id, decision.status, now)
        elif isinstance(decision, dec.TransferReturned):
            await d.on_transfer_returned(decision.session_id, decision.agent_id, decision.declined_by, decision.reason)
        elif isinstance(decision, dec.SessionQueued):
            d.watchers.queues_changed()
        elif isinstance(decision, dec.EventIgnored):
            return decision
        return None

    # -- commands --------------------------------------------------------------------------------
    async def agent_known(self, user: dict[str, Any]) -> None:
        """Log the agent into the engine, or refresh their skills and capacity."""
        skills = skills_of(user)
        signature = (tuple(sorted(skills.items())), int(user.get("max_sessions") or 1))
        async with self._lock:
            assert self.engine is not None
            known = self._agents.get(user["id"])
            if known == signature:
                return
            current = self.agent(user["id"])
            status = current["status"] if current else "away"
            self._agents[user["id"]] = signature
            await self._apply(ev.AgentLoggedIn(agent_id=user["id"], skills=skills, capacity=signature[1],
                                               status=status if status != "offline" else "away", now=self.clock()))

    async def set_presence(self, agent_id: str, status: str) -> None:
        await self.apply(ev.PresenceChanged(agent_id=agent_id, status=status, now=self.clock()))

    async def request(self, session: dict[str, Any], customer: dict[str, Any]) -> None:
        async with self._lock:
            assert self.engine is not None
            if self.engine.session(session["id"]) is not None:
                return
            await self._ensure_queue(session["skill"])
            await self._apply(ev.SessionRequested(
                session_id=session["id"], customer_id=session["openid"], skill=session["skill"],
                priority=int(session.get("priority") or 0), vip="vip" in (customer.get("tags") or ()),
                arrived_at=session["queued_at"], now=self.clock()))

    def knows(self, session_id: str) -> bool:
        return self.engine is not None and self.engine.session(session_id) is not None

    async def skill_changed(self, session_id: str, skill: str) -> None:
        async with self._lock:
            assert self.engine is not None
            await self._ensure_queue(skill)
            await self._apply(ev.SkillChanged(session_id=session_id, skill=skill, now=self.clock()))

    async def customer_left(self, session_id: str) -> None:
        await self.apply(ev.CustomerLeft(session_id=session_id, now=self.clock()))

    async def accept(self, session_id: str, agent_id: str) -> dict[str, Any]:
        results = await self.apply(ev.OfferAccepted(session_id=session_id, agent_id=agent_id, now=self.clock()))
        bundle = next((r for r in results if isinstance(r, dict)), None)
        if bundle is None:
            raise DeskError("invalid_state", "the offer is no longer open")
        return bundle

    async def reject(self, session_id: str, agent_id: str) -> None:
        await self.apply(ev.OfferRejected(session_id=session_id, agent_id=agent_id, now=self.clock()))

    async def close(self, session_id: str) -> None:
        await self.apply(ev.SessionClosed(session_id=session_id, now=self.clock()))

    def _refuse_unavailable(self, agent_id: str, name: str) -> None:
        """Raise when the agent cannot be offered a session now (lock held: nothing changes before
        the event is applied, so a refusal here is the whole story and nothing is half done)."""
        assert self.engine is not None
        refusal = self.engine.offer_refusal(agent_id)
        if refusal is not None:
            code, words = refusal
            raise DeskError(REFUSAL_CODES.get(code, "agent_busy"), f"{name} cannot take it now: {words}.")

    @staticmethod
    def _raise_if_ignored(results: list[Any]) -> None:
        ignored = next((r for r in results if isinstance(r, dec.EventIgnored)), None)
        if ignored is not None:
            raise DeskError("invalid_state", ignored.reason)

    async def transfer(self, session_id: str, from_agent: str, to_agent: str | None, to_skill: str | None,
                       to_name: str | None = None) -> None:
        """Hand an assigned session to an agent (an offer; it stays with ``from_agent`` until
        accepted) or to a skill's queue. Refused up front (``DeskError``) when it cannot happen."""
        async with self._lock:
            assert self.engine is not None
            if to_agent:
                self._refuse_unavailable(to_agent, to_name or to_agent)
            if to_skill:
                await self._ensure_queue(to_skill)
                refusal = self.engine.admission_refusal(to_skill)
                if refusal is not None:
                    raise DeskError(QUEUE_REFUSAL_CODES.get(refusal[0], "invalid_state"),
                                    f"The {to_skill} queue cannot take it now: {refusal[1]}.")
            self._raise_if_ignored(await self._apply(ev.TransferRequested(
                session_id=session_id, from_agent=from_agent, to_agent=to_agent, to_skill=to_skill,
                now=self.clock())))

    async def reassign(self, session_id: str, to_agent: str, to_name: str | None = None) -> str:
        """A supervisor hands a session to ``to_agent``: an assigned one as a direct transfer, a
        waiting one as an offer ahead of the queue. Returns ``"transfer"`` or ``"assign"``."""
        async with self._lock:
            assert self.engine is not None
            state = self.engine.session(session_id)
            if state is None or state["state"] not in ("assigned", "queued", "offered"):
                raise DeskError("invalid_state", "only a waiting or assigned session can be reassigned")
            if state["state"] == "assigned" and state.get("agent") == to_agent:
                raise DeskError("invalid_state", "the session is already with that agent")
            if state.get("offered_to") == to_agent:
                raise DeskError("invalid_state", "the session is already offered to that agent")
            self._refuse_unavailable(to_agent, to_name or to_agent)
            if state["state"] == "assigned":
                event: ev.Event = ev.TransferRequested(session_id=session_id, from_agent=state["agent"],
                                                       to_agent=to_agent, now=self.clock())
            else:
                event = ev.AssignRequested(session_id=session_id, agent_id=to_agent, now=self.clock())
            self._raise_if_ignored(await self._apply(event))
            return "transfer" if state["state"] == "assigned" else "assign"

    async def agent_disconnected(self, agent_id: str) -> None:
        if agent_id in self._agents:
            await self.apply(ev.AgentDisconnected(agent_id=agent_id, now=self.clock()))

    async def agent_reconnected(self, agent_id: str) -> None:
        if agent_id in self._agents:
            await self.apply(ev.AgentReconnected(agent_id=agent_id, now=self.clock()))

    # -- reads -----------------------------------------------------------------------------------
    def agent(self, agent_id: str) -> dict[str, Any] | None:
        assert self.engine is not None
        return self.engine.agent(agent_id, self.clock())

    def is_offered_to(self, session_id: str, agent_id: str) -> bool:
        """Offered to this agent: a waiting session, or an assigned one being transferred to them."""
        state = self.engine.session(session_id) if self.engine else None
        return bool(state and state["state"] in ("offered", "assigned") and state.get("offered_to") == agent_id)

    def pending_offers(self, agent_id: str) -> list[tuple[str, float]]:
        agent = self.agent(agent_id)
        if agent is None:
            return []
        now = self.clock()
        out = []
        for session_id in agent["offers"]:
            state = self.engine.session(session_id) if self.engine else None
            if state and state.get("offer_expires_at"):
                out.append((session_id, max(0.0, state["offer_expires_at"] - now)))
        return out

    def presence_of(self, agent_id: str) -> tuple[str, float | None]:
        agent = self.agent(agent_id)
        if agent is None:
            return "offline", None
        return agent["status"], self.clock() - agent["time_in_status_s"]

    def explain(self, session_id: str) -> tuple[str, Any]:
        assert self.engine is not None
        explanation = self.engine.explanation(session_id)
        return self.engine.explain(session_id), explanation.to_dict() if explanation is not None else None

    def wall_now(self) -> dict[str, Any]:
        """Queues and agents as the protocol shows them (docs/protocol.md, ``queues``)."""
        assert self.engine is not None
        now = self.clock()
        queues = []
        stats = self.engine.queue_stats(now)
        for skill in self._catalogue:
            if skill not in stats:  # a skill nobody has used yet still belongs on the wall
                cfg = self.engine.queue_config(skill)
                stats[skill] = {"waiting": 0, "longest_wait_s": 0.0, "service_level": None, "average_wait_s": None,
                                "sla_secs": cfg.sla_secs, "strategy": cfg.strategy, "agents_available": 0,
                                "agents_busy": 0, "agents_away": 0}
        for skill, q in sorted(stats.items()):
            queues.append({
                "skill": skill, "waiting": q["waiting"], "longest_wait_s": round(q["longest_wait_s"], 1),
                "service_level": q["service_level"], "average_wait_s": q["average_wait_s"],
                "sla_secs": q["sla_secs"], "strategy": q["strategy"],
                "agents": {"available": q["agents_available"], "busy": q["agents_busy"], "away": q["agents_away"]},
                "counts": {k: q.get(k, 0) for k in ("offered", "accepted", "rejected", "timed_out", "abandoned",
                                                     "diverted")},
                # Who is next, in the engine's service order (the wall shows the head of each queue).
                "order": [w["session_id"] for w in self.engine.waiting_sessions(skill)[:WALL_QUEUE_HEAD]]
                if q["waiting"] else [],
            })
        agents = []
        for agent_id, a in self.engine.agent_stats(now).items():
            agents.append({
                "id": agent_id, "status": a["status"] if a["connected"] or a["status"] == "offline" else "disconnected",
                "presence": a["status"], "connected": a["connected"], "since": now - a["time_in_status_s"],
                "time_in_status_s": round(a["time_in_status_s"], 1), "load": a["load"], "capacity": a["capacity"],
                "sessions": a["sessions"], "offers": a["offers"], "skills": a["skills"],
                "occupancy": a["occupancy"],
            })
        return {"queues": queues, "agents": agents}


def _log_failure(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("routing tick failed", exc_info=task.exception())
