"""What an agent does with sessions: presence, accept and reject offers, transfer, close; their welcome.

Every change of a session goes through `desk.lifecycle.Lifecycle`; this feature checks who may
do it and with what (the command schemas), then asks.
"""

from __future__ import annotations

from typing import Any

from desk import handover as ho
from desk.commands import Str, command
from desk.errors import BadRequest, InvalidState
from desk.parts import DeskParts
from desk.roles import AGENT_ROLES, is_agent
from store.records import PublicUser


class AgentCommands:
    def __init__(self, parts: DeskParts) -> None:
        self.store = parts.store
        self.routing = parts.routing
        self.lifecycle = parts.lifecycle
        self.audience = parts.audience
        self.views = parts.views
        self.lookups = parts.lookups
        self.catalogue = parts.catalogue
        self.clock = parts.clock
        self.texts = parts.texts

    async def welcome(self, user: PublicUser) -> dict[str, Any]:
        sessions = []
        if is_agent(user):
            await self.lifecycle.agent_known(user)
            # The engine knows the agent's sessions: no scan of every open session per connection.
            agent = self.routing.agent(user["id"])
            for session_id in agent["sessions"] if agent else ():
                session = await self.store.get_session(session_id)
                if session is not None and session.get("agent_id") == user["id"] and session["state"] == "assigned":
                    sessions.append(await self.views.bundle(session))
        offers = []
        for session_id, expires_in in self.routing.pending_offers(user["id"]):
            session = await self.store.get_session(session_id)
            if session is not None:
                transfer_from = session.get("agent_id") if session["state"] == "assigned" else None
                offers.append(await self.views.offer(session, user["id"], session["skill"], expires_in,  # type: ignore[arg-type]  # an offered session has its skill
                                                     transfer_from))
        status, since = self.routing.presence_of(user["id"])
        return {"sessions": sessions, "presence": {"status": status, "since": since}, "offers": offers}

    @command("presence", roles=AGENT_ROLES, status=Str(choices=("available", "away")))
    async def set_presence(self, user: PublicUser, status: str) -> dict[str, Any]:
        await self.lifecycle.agent_known(user)
        await self.lifecycle.set_presence(user["id"], status)
        current, since = self.routing.presence_of(user["id"])
        # Every tab of the agent follows, not only the one that asked.
        await self.audience.publish([user["id"]], "presence", {"agent_id": user["id"], "status": current,
                                                               "since": since})
        return {"status": current, "since": since}

    @command("accept", roles=AGENT_ROLES, session_id=Str())
    async def accept(self, user: PublicUser, session_id: str) -> dict[str, Any]:
        if not self.routing.is_offered_to(session_id, user["id"]):
            raise InvalidState("this session is not offered to you (the offer may have expired)")
        return await self.lifecycle.accept(session_id, user["id"])

    @command("reject", roles=AGENT_ROLES, session_id=Str())
    async def reject(self, user: PublicUser, session_id: str) -> dict[str, Any]:
        if not self.routing.is_offered_to(session_id, user["id"]):
            raise InvalidState("this session is not offered to you")
        await self.lifecycle.reject(session_id, user["id"])
        return {}

    @command("transfer", one_of=("to_agent", "to_skill"), session_id=Str(), to_agent=Str(required=False),
             to_skill=Str(required=False), note=Str(required=False))
    async def transfer(self, user: PublicUser, session_id: str, to_agent: str | None = None,
                       to_skill: str | None = None, note: str | None = None) -> dict[str, Any]:
        session = await self.lookups.own_session(user, session_id)
        name = None
        if to_agent:
            target = await self.lookups.agent(to_agent)
            if target["id"] == user["id"]:
                raise BadRequest("you cannot transfer a session to yourself")
            to_agent, name = target["id"], target.get("name") or target.get("username")
            await self.lifecycle.agent_known(target)
        elif to_skill not in await self.catalogue.skill_names():
            raise BadRequest(f"unknown skill {to_skill!r}")
        if ho.is_pending(session.get("handover")):
            raise InvalidState("a transfer of this session is already waiting for an answer")
        # Recorded before routing hears of it: the offer it causes carries the context. It joins
        # ``transfers`` only once it has happened.
        handover = ho.new_handover("transfer", user["id"], to_agent, to_skill, user["id"], note, self.clock(),
                                   to_name=name)
        await self.lifecycle.transfer(session_id, handover, user["id"], to_agent, to_skill, name)
        if to_agent:  # it stays with this agent until the other accepts: show that it waits
            current = await self.store.get_session(session_id)
            if current is not None and current.get("agent_id") == user["id"] and current["state"] == "assigned":
                await self.audience.publish([user["id"]], "session_updated",
                                            {"session": await self.views.public_session(current)})
            return {"status": "offered", "to_agent": to_agent, "to_name": name}
        return {"status": "transferred", "to_skill": to_skill}

    @command("close", session_id=Str(), wrapup=Str(), note=Str(required=False))
    async def close(self, user: PublicUser, session_id: str, wrapup: str, note: str | None = None) -> dict[str, Any]:
        session = await self.lookups.own_session(user, session_id)
        self.texts.check_wrapup(wrapup)
        await self.texts.tell(session, "closed")  # before the close: the agent still sees it go out
        await self.lifecycle.close(session, wrapup=wrapup, note=note, reason="closed")
        return {}
