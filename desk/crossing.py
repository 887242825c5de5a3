"""A customer's message and an accept may cross: the two pieces that keep the agent's view whole.

While an offer is being accepted, the customer may write. The message's transcript write is
tracked by :class:`WriteBarrier` before it is relayed, so the ``session_assigned`` bundle can read
the transcript after every write already started; and the agent's events about a session whose
``session_assigned`` is being built are held by :class:`HeldEvents` and sent right after it (the
snapshot-then-subscribe of `desk.connection`), minus what the bundle already carries. Whatever is
not in the bundle follows as an event; nothing arrives twice, nothing before the bundle.
:class:`SessionRelay` sends a session's events to its monitors and to the engine's agent, through
the held events.

All three are owned by `desk.lifecycle.Lifecycle` (which decides when an announcement begins and ends);
they write nothing to the store.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

# publish(user ids, event, data): `desk.audience.Audience.publish`.
Publish = Callable[[list[str], str, dict[str, Any]], Awaitable[None]]


class WriteBarrier:
    """Transcript writes started and not committed yet, per session; :meth:`settled` waits for them."""

    def __init__(self) -> None:
        self._pending: dict[str, set[asyncio.Future[Any]]] = {}

    def start(self, session_id: str, write: Awaitable[Any]) -> asyncio.Future[Any]:
        task = asyncio.ensure_future(write)
        pending = self._pending.setdefault(session_id, set())
        pending.add(task)

        def done(t: asyncio.Future[Any]) -> None:
            pending.discard(t)
            if not pending and self._pending.get(session_id) is pending:
                del self._pending[session_id]
        task.add_done_callback(done)
        return task

    async def settled(self, session_id: str) -> None:
        """Return once every write started for the session before this call has finished."""
        pending = list(self._pending.get(session_id, ()))
        if pending:
            await asyncio.wait(pending)


@dataclass
class _Announcing:
    """Events for ``agent_id`` about a session whose ``session_assigned`` is being built."""

    agent_id: str
    held: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


class HeldEvents:
    """Per session being announced to an agent: that agent's events about it, held until the bundle is out."""

    def __init__(self, publish: Publish) -> None:
        self._publish = publish
        self._announcing: dict[str, _Announcing] = {}

    def begin(self, session_id: str, agent_id: str) -> None:
        """``agent_id``'s ``session_assigned`` for the session is being built (a second call keeps the first)."""
        self._announcing.setdefault(session_id, _Announcing(agent_id))

    def hold(self, session_id: str, agent_id: str, event: str, data: dict[str, Any]) -> bool:
        """Hold the event if the session is being announced to ``agent_id``; whether it was held."""
        announcing = self._announcing.get(session_id)
        if announcing is None or announcing.agent_id != agent_id:
            return False
        announcing.held.append((event, data))
        return True

    async def release(self, session_id: str, bundle: dict[str, Any] | None) -> None:
        """``session_assigned`` is out (or failed: ``None``): send the held events the bundle does not carry."""
        announcing = self._announcing.pop(session_id, None)
        if announcing is None:
            return
        shown = {m.get("id") for m in (bundle or {}).get("messages", ())}
        for event, data in announcing.held:
            if event == "message" and bundle is not None and data["message"].get("id") in shown:
                continue
            if event == "session_updated" and bundle is not None:
                continue  # the bundle's session is newer
            await self._publish([announcing.agent_id], event, data)

    async def release_all(self) -> None:
        """A decision failed: never hold events for ever (each is sent as if no bundle went out)."""
        for session_id in list(self._announcing):
            await self.release(session_id, None)


class SessionRelay:
    """An event about a session to its monitors and to the agent the engine says holds it. While
    that agent's ``session_assigned`` is being built, theirs is held and sent right after it."""

    def __init__(self, held: HeldEvents, monitors_of: Callable[[str], list[str]],
                 assigned_agent: Callable[[str], str | None], publish: Publish) -> None:
        self.held = held
        self.monitors_of = monitors_of
        self.assigned_agent = assigned_agent
        self.publish = publish

    async def send(self, session_id: str, event: str, data: dict[str, Any], monitors: bool = True) -> None:
        targets = set(self.monitors_of(session_id)) if monitors else set()
        agent_id = self.assigned_agent(session_id)
        if agent_id and not self.held.hold(session_id, agent_id, event, data):
            targets.add(agent_id)
        await self.publish(sorted(targets), event, data)
