"""Routing engine benchmark: events per second, and per-event cost as the agent count grows.

Owns the routing benchmark. A steady-state contact centre is built (agents at capacity, a
backlog of waiting sessions spread over the skills), then a fixed mix of events is applied:
close a session (its agent is freed and takes the head of one of its queues), accept that offer,
a new customer arrives, and now and then a rejected offer, an abandoned session, an agent going
away and coming back, and a Tick. The same mix runs with 100 and with 10,000 agents in the same
process, so the ratio of per-event costs shows whether a decision scans the agents.

Run: ``python -m bench.bench_routing`` (or ``python -m bench``, which calls ``main()``).
"""

from __future__ import annotations

import gc
import random
import time
from typing import Any

from routing import (
    AgentLoggedIn,
    ConfigureQueue,
    CustomerLeft,
    EngineSettings,
    OfferAccepted,
    OfferRejected,
    PresenceChanged,
    RoutingEngine,
    SessionClosed,
    SessionRequested,
    Tick,
)
from routing.config import STRATEGIES

TARGET_EVENTS_PER_SEC = 50_000
TARGET_SCALING_RATIO = 2.0


class Centre:
    """A simulated contact centre driving one engine; the bookkeeping stays O(1) per event."""

    def __init__(self, agents: int, skills: int, waiting: int, capacity: int, seed: int) -> None:
        self.rng = random.Random(seed)
        # Offers must not expire during the run and agents must not be set away: the run
        # measures routing, and the clock advances only a little per event.
        self.engine = RoutingEngine(EngineSettings(missed_offers_before_away=10**9, sticky_window_secs=0))
        self.skills = [f"skill{i:02d}" for i in range(skills)]
        self.now = 1_700_000_000.0
        self.events = 0
        self.seq = 0
        self.recorded: list[Any] = []  # events applied during the measured part, in order
        self.recording = False
        self.assigned: list[str] = []  # sessions assigned to agents, any order
        self.waiting: list[str] = []  # sessions known to be waiting (may be stale)
        for i, skill in enumerate(self.skills):
            self.apply(ConfigureQueue(skill=skill, strategy=STRATEGIES[i % len(STRATEGIES)], offer_timeout_secs=3600))
        self.agent_ids = [f"agent{i:05d}" for i in range(agents)]
        for i, agent in enumerate(self.agent_ids):
            own = {self.skills[(i + k * 7) % skills]: 1 + (i + k) % 5 for k in range(3)}
            self.apply(AgentLoggedIn(agent_id=agent, skills=own, capacity=capacity, now=self.now))
        # Fill every agent to capacity, then build the backlog.
        while len(self.assigned) < agents * capacity:
            self.request()
        while len(self.waiting) < waiting:
            self.request()

    def send(self, event: Any) -> list[Any]:
        self.events += 1
        if self.recording:
            self.recorded.append(event)
        return self.engine.apply(event)

    def apply(self, event: Any) -> list[Any]:
        out = self.send(event)
        for decision in out:
            if decision.kind == "offer_session":
                accepted = self.send(
                    OfferAccepted(session_id=decision.session_id, agent_id=decision.agent_id, now=self.now)
                )
                if accepted and accepted[0].kind == "session_assigned":
                    self.assigned.append(decision.session_id)
            elif decision.kind == "session_queued":
                self.waiting.append(decision.session_id)
        return out

    def request(self) -> None:
        self.seq += 1
        skill = self.skills[self.rng.randrange(len(self.skills))]
        self.apply(
            SessionRequested(
                session_id=f"s{self.seq}",
                customer_id=f"c{self.seq}",
                skill=skill,
                priority=self.rng.choice((0, 0, 0, 1)),
                vip=self.rng.random() < 0.05,
                now=self.now,
            )
        )

    def close_one(self) -> None:
        i = self.rng.randrange(len(self.assigned))
        self.assigned[i], self.assigned[-1] = self.assigned[-1], self.assigned[i]
        self.apply(SessionClosed(session_id=self.assigned.pop(), now=self.now))

    def step(self) -> None:
        """One round of the event mix (about 8 events)."""
        self.now += 0.01
        roll = self.rng.random()
        self.close_one()  # + the accept of the offer it causes
        self.request()
        self.close_one()
        self.request()
        if roll < 0.2 and self.waiting:
            # A customer gives up; one more arrives to keep the backlog steady.
            session_id = self.waiting[self.rng.randrange(len(self.waiting))]
            self.apply(CustomerLeft(session_id=session_id, now=self.now))
            self.request()
        elif roll < 0.4:
            agent = self.agent_ids[self.rng.randrange(len(self.agent_ids))]
            self.apply(PresenceChanged(agent_id=agent, status="away", now=self.now))
            self.apply(PresenceChanged(agent_id=agent, status="available", now=self.now))
        elif roll < 0.5:
            # An agent declines: the offer goes to the next agent, or the session waits.
            i = self.rng.randrange(len(self.assigned))
            self.assigned[i], self.assigned[-1] = self.assigned[-1], self.assigned[i]
            session_id = self.assigned.pop()
            out = self.send(SessionClosed(session_id=session_id, now=self.now))
            for decision in out:
                if decision.kind == "offer_session":
                    self.send(OfferRejected(session_id=decision.session_id, agent_id=decision.agent_id, now=self.now))
        else:
            self.apply(Tick(now=self.now))


def measure(agents: int, skills: int, waiting: int, events: int, seed: int = 7) -> dict[str, Any]:
    """Build a centre, record ``events`` events of the mix, then time replaying them.

    The simulation decides what happens next from the decisions, which costs time of its own;
    so it runs once while recording, and the figure is the replay of that recording into an
    engine restored from the snapshot taken before it: exactly the same routing work (the
    engine is deterministic), with no simulation in the loop.
    """
    started = time.perf_counter()
    centre = Centre(agents, skills, waiting, capacity=3, seed=seed)
    setup_secs = time.perf_counter() - started
    snapshot = centre.engine.snapshot()
    centre.recording = True
    while len(centre.recorded) < events:
        centre.step()
    recorded = centre.recorded
    figures: dict[str, Any] = {
        "agents": agents,
        "skills": skills,
        "waiting_target": waiting,
        "events": len(recorded),
        "setup_seconds": setup_secs,
    }
    for label, freeze in (("", False), ("_gc_frozen", True)):
        engine = RoutingEngine.restore(snapshot)
        apply = engine.apply
        # Start the clock on a collected heap. Otherwise the full collection owed for what the
        # set-up just allocated (the restored engine, the recording, the simulation's engine and
        # the snapshot) falls inside the timed loop, and its cost is that of the bench's own heap,
        # not routing work. Collections caused by the events themselves still count.
        gc.collect()
        if freeze:
            # What a long-running server can do after start-up: move the warm state out of the
            # collector's sight, so collections scan only young objects.
            gc.freeze()
        # CPU time of this process: the machine may be shared, and wall time would count others.
        started, started_wall = time.process_time(), time.perf_counter()
        for event in recorded:
            apply(event)
        elapsed = time.process_time() - started
        elapsed_wall = time.perf_counter() - started_wall
        if freeze:
            gc.unfreeze()
        assert engine.snapshot() == centre.engine.snapshot(), "replay diverged"
        figures["cpu_seconds" + label] = elapsed
        figures["wall_seconds" + label] = elapsed_wall
        figures["events_per_sec" + label] = len(recorded) / elapsed
        figures["usec_per_event" + label] = elapsed / len(recorded) * 1e6
    figures["waiting_end"] = sum(row["waiting"] for row in engine.queue_stats().values())
    return figures


def main() -> dict[str, Any]:
    """Run the routing benchmark, print the figures and return them."""
    headline = measure(agents=1_000, skills=20, waiting=10_000, events=40_000)
    small = measure(agents=100, skills=20, waiting=10_000, events=25_000)
    large = measure(agents=10_000, skills=20, waiting=10_000, events=25_000)
    ratio = large["usec_per_event"] / small["usec_per_event"]
    ratio_frozen = large["usec_per_event_gc_frozen"] / small["usec_per_event_gc_frozen"]
    results = {
        "events_per_sec": headline["events_per_sec"],
        "events_per_sec_gc_frozen": headline["events_per_sec_gc_frozen"],
        "events_per_sec_target": TARGET_EVENTS_PER_SEC,
        "scaling_ratio_10000_vs_100_agents": ratio,
        "scaling_ratio_10000_vs_100_agents_gc_frozen": ratio_frozen,
        "scaling_ratio_target": TARGET_SCALING_RATIO,
        "headline": headline,
        "agents_100": small,
        "agents_10000": large,
        "meets_targets": headline["events_per_sec"] >= TARGET_EVENTS_PER_SEC and ratio <= TARGET_SCALING_RATIO,
    }
    print("routing benchmark (CPU time of this process)")
    print(
        f"  1,000 agents, 20 skills, {headline['waiting_end']:,} waiting: "
        f"{headline['events_per_sec']:,.0f} events/s ({headline['usec_per_event']:.1f} us/event); "
        f"{headline['events_per_sec_gc_frozen']:,.0f} events/s with the warm state gc-frozen "
        f"(target >= {TARGET_EVENTS_PER_SEC:,})"
    )
    print(
        f"  per-event cost: {small['usec_per_event']:.1f} us at 100 agents, "
        f"{large['usec_per_event']:.1f} us at 10,000 agents: ratio {ratio:.2f} "
        f"(gc-frozen {small['usec_per_event_gc_frozen']:.1f} vs {large['usec_per_event_gc_frozen']:.1f} us: "
        f"{ratio_frozen:.2f}; target <= {TARGET_SCALING_RATIO})"
    )
    print(f"  meets targets: {results['meets_targets']}")
    return results


if __name__ == "__main__":
    main()
