"""Hand-overs carried out: the ``handover`` record written and dropped, and who hears how one ended.

The rules (what the record says, what each person is told) are pure, in `desk.handover`; this
module does the I/O for them on the lifecycle's behalf. It never writes a session's ``state``:
when a returned transfer means the session must be assigned to its agent again, it says so and
the lifecycle (`desk.lifecycle`, the only writer of session state) does it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from desk import handover as ho
from desk.audience import Audience
from desk.errors import DeskError
from desk.routing_driver import raise_if_ignored
from desk.views import SessionViews
from routing import decisions as dec
from store.base import Store
from store.records import SessionRecord

if TYPE_CHECKING:  # the lifecycle builds this module's object: no import cycle at run time
    from desk.lifecycle import Outcome


class HandOverEffects:
    def __init__(self, store: Store, audience: Audience, views: SessionViews) -> None:
        self.store = store
        self.audience = audience
        self.views = views

    async def recorded(self, session_id: str, handover: dict[str, Any], route: Callable[[], Awaitable[Outcome]]) -> None:
        """Record ``handover`` first (the offer ``route`` causes carries it); dropped again when the
        engine ignores the request (``InvalidState``) or it fails otherwise with a desk error."""
        await self.store.update_session(session_id, handover=handover)
        try:
            raise_if_ignored((await route()).decisions)
        except DeskError:
            await self.store.update_session(session_id, handover=None)
            raise

    async def outcome(self, session: SessionRecord, agent_id: str, outcome: str,
                      reason: str | None = None) -> SessionRecord:
        """A supervisor's reassignment or assignment to ``agent_id`` ended: tell that supervisor
        (every tab) what happened, and drop the hand-over. Returns the session as stored."""
        handover = session.get("handover")
        if not handover or handover.get("to_agent") != agent_id or not ho.is_pending(handover):
            return session
        session = await self.store.update_session(session["id"], handover=None)
        if ho.tells_supervisor(handover):
            await self.audience.publish([handover["by"]], "reassign_result", ho.result_event(
                handover, session["id"], agent_id, outcome, reason, (await self.views.names(agent_id)).get(agent_id)))
        return session

    async def assign_ended(self, session: SessionRecord | None, agent_id: str, reason: str) -> SessionRecord | None:
        """An offer to ``agent_id`` ended (``reason``): a supervisor's assignment of a waiting
        session ends with it (a direct transfer's end comes as ``TransferReturned`` instead)."""
        if session is not None and (session.get("handover") or {}).get("kind") == "assign":
            return await self.outcome(session, agent_id, ho.OUTCOMES.get(reason, "withdrawn"), reason)
        return session

    async def accepted(self, handover: dict[str, Any] | None, session_id: str, agent_id: str) -> None:
        """``agent_id`` took the session: the supervisor who handed it to them hears so."""
        if handover and ho.tells_supervisor(handover) and handover.get("to_agent") == agent_id:
            await self.audience.publish([handover["by"]], "reassign_result", ho.result_event(
                handover, session_id, agent_id, "accepted", None, (await self.views.names(agent_id)).get(agent_id)))

    async def returned(self, d: dec.TransferReturned) -> bool:
        """A transfer or reassignment came back to ``d.agent_id`` (declined, timed out): the
        supervisor (a reassignment) or the agent (their own transfer) hears why, and the hand-over
        is dropped. True when the session must be assigned to that agent again (the caller does
        it); otherwise it still is, and the agent gets the session as it is now."""
        session = await self.store.get_session(d.session_id)
        if session is None:
            return False
        handover = session.get("handover")
        if handover and handover.get("kind") == "reassign":
            # The supervisor asked, not the agent: the supervisor hears how it ended.
            session = await self.outcome(session, d.declined_by, ho.OUTCOMES.get(d.reason, "withdrawn"), d.reason)
        else:
            session = await self.store.update_session(d.session_id, handover=None)
            name = (await self.views.names(d.declined_by)).get(d.declined_by, d.declined_by)
            await self.audience.publish([d.agent_id], "notice",
                                        ho.returned_notice(d.session_id, d.declined_by, name, d.reason))
        if session.get("agent_id") != d.agent_id or session["state"] != "assigned":
            return True
        await self.audience.publish([d.agent_id], "session_updated",
                                    {"session": await self.views.public_session(session)})
        return False
