"""What supervisors do: watch the queue wall and sessions, whisper, barge in, reassign, set presence, explain.

The wall is the routing engine's picture (queues, agents) decorated with names, the agents the
engine has not seen yet (offline) and the open sessions; it is sent on subscribe and then by
`desk.watchers.Watchers` (coalesced, and repainted while quiet). A supervisor who belongs to a
team gets the wall narrowed to their scope (`Wall.narrow`), and every command that acts on a
session or an agent asks `desk.access.AccessPolicy` first (``check_supervised_session``,
``check_agent``).
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from desk import handover as ho
from desk.commands import Str, command
from desk.errors import InvalidState
from desk.parts import DeskParts
from desk.replies import REPLY_TEXT
from desk.roles import STAFF_ROLES
from desk.routing_driver import RoutingDriver, skills_of
from desk.transcripts import public_message
from desk.views import customer_brief
from routing import state as routing_state  # the engine's session states (the wall shows them)
from store.base import Store
from store.records import CLOSED_STATES, PublicUser

# A monitor result carries at most this many of the latest messages (the rest: GET /api/sessions/{id}):
# what one command makes the server produce is bounded however long the session grew.
MONITOR_MAX_MESSAGES = 200


class Wall:
    """The supervisors' picture of queues, agents and open sessions."""

    def __init__(self, store: Store, routing: RoutingDriver, clock: Callable[[], float]) -> None:
        self.store = store
        self.routing = routing
        self.clock = clock
        self.refresh_secs: Callable[[], float] = lambda: 0.0  # the watchers' repaint interval
        # Features that add their figures to the wall (satisfaction's csat, the alerts, the
        # leave-messages' backlog, which reads the store: a decoration may be a coroutine).
        self.decorations: list[Callable[[dict[str, Any]], Awaitable[None] | None]] = []

    async def snapshot(self) -> dict[str, Any]:
        return await self.decorate(self.routing.wall_now())

    async def decorate(self, wall: dict[str, Any]) -> dict[str, Any]:
        users = {u["id"]: u for u in await self.store.list_users()}
        for agent in wall["agents"]:
            user: Mapping[str, Any] = users.get(agent["id"]) or {}
            agent["name"] = user.get("name") or agent["id"]
            agent["username"] = user.get("username")
        # The engine knows the agents who logged in since it started; the wall lists every agent,
        # the others as offline, so "offline 0" never hides a team that has not come in.
        listed = {a["id"] for a in wall["agents"]}
        for user in users.values():
            if user["id"] not in listed and "agent" in (user.get("roles") or ()) and not user.get("disabled"):
                wall["agents"].append({
                    "id": user["id"], "name": user.get("name") or user["id"], "username": user.get("username"),
                    "status": "offline", "presence": "offline", "connected": False, "since": None,
                    "time_in_status_s": None, "load": 0, "capacity": int(user.get("max_sessions") or 1),
                    "sessions": [], "offers": [], "skills": skills_of(user), "occupancy": 0.0})
        for queue in wall["queues"]:
            queue["agents"]["offline"] = sum(1 for a in wall["agents"]
                                             if a["status"] == "offline" and queue["skill"] in (a.get("skills") or {}))
        sessions = await self.store.list_open_sessions()
        customers = await self.store.get_customers(s["openid"] for s in sessions)
        wall["sessions"] = [
            {**{k: s.get(k) for k in ("id", "openid", "skill", "state", "agent_id", "queued_at", "accepted_at",
                                      "priority", "last_customer_at")},
             "customer": customer_brief(customers.get(s["openid"]), s["openid"])}
            for s in sessions
        ]
        wall["ts"] = self.clock()
        wall["refresh_secs"] = self.refresh_secs()
        for decorate in self.decorations:
            result = decorate(wall)
            if inspect.isawaitable(result):
                await result
        return wall

    @staticmethod
    def narrow(wall: dict[str, Any], scope: frozenset[str] | None) -> dict[str, Any]:
        """The wall as a supervisor whose scope is ``scope`` sees it (``wall`` is left alone).

        Agents: those of the scope. Sessions: those the scope's agents hold (assigned or
        offered); queued ones belong to no team and are left out, as is their place in each
        queue's ``order``. Per queue, the waiting figures stay (a queue is shared by every team)
        and the agents by status are counted over the scope's agents.
        """
        if scope is None:
            return wall
        agents = [a for a in wall["agents"] if a["id"] in scope]
        held = {sid for a in agents for sid in (*a.get("sessions", ()), *a.get("offers", ()))}
        # A waiting leave-message (留言) is every team's work, like the queue figures (desk/leave_messages.py).
        sessions = [s for s in wall.get("sessions", ())
                    if s["id"] in held or (s.get("state") == routing_state.ASSIGNED and s.get("agent_id") in scope)
                    or (s.get("state") == "diverted" and s.get("leave_message"))]
        visible = {s["id"] for s in sessions}
        queues = []
        for queue in wall["queues"]:
            counts = {"available": 0, "busy": 0, "away": 0, "offline": 0}
            for a in agents:
                if queue["skill"] not in (a.get("skills") or {}):
                    continue
                if a["status"] == "offline":
                    counts["offline"] += 1
                elif a["presence"] == "available" and a["connected"] and a["load"] < a["capacity"]:
                    counts["available"] += 1
                elif a["presence"] in ("available", "wrapup"):
                    counts["busy"] += 1
                elif a["presence"] == "away":
                    counts["away"] += 1
            if "offline" not in queue["agents"]:
                del counts["offline"]
            queues.append({**queue, "agents": counts, "order": [sid for sid in queue.get("order", ()) if sid in visible]})
        narrowed = {**wall, "queues": queues, "agents": agents, "sessions": sessions}
        if "alerts" in wall:  # desk.alerts: an agent's for that agent's supervisors, a skill's for its teams'
            skills = {k for a in agents for k in (a.get("skills") or {})}
            narrowed["alerts"] = [a for a in wall["alerts"]
                                  if (a["agent_id"] in scope if a.get("agent_id") else a.get("skill") in skills)]
        return narrowed


class Supervision:
    def __init__(self, parts: DeskParts) -> None:
        self.store = parts.store
        self.routing = parts.routing
        self.lifecycle = parts.lifecycle
        self.audience = parts.audience
        self.views = parts.views
        self.lookups = parts.lookups
        self.access = parts.access
        self.watchers = parts.watchers
        self.replies = parts.replies
        self.clock = parts.clock
        self.wall: Wall = parts.wall
        self._monitoring: dict[str, PublicUser] = {}  # user id -> that user, while they monitor
        parts.teams.on_change(self.teams_changed)
        self.skills = parts.skills

    async def teams_changed(self) -> None:
        """Teams changed: walls repaint in their new scope, and a monitor of a session that left
        its supervisor's scope ends (``monitor_ended``), live events of it stop."""
        self.watchers.queues_changed()
        for session_id in self.watchers.monitored_sessions():
            session = await self.store.get_session(session_id)
            for user_id in self.watchers.monitors_of(session_id):
                user = self._monitoring.get(user_id)
                if user is None or session is None or self.access.holds(user, session):
                    continue
                self.watchers.drop_monitor(session_id, user_id)
                await self.audience.publish([user_id], "monitor_ended",
                                            {"session_id": session_id, "reason": "out_of_scope"})

    @command("subscribe_queues", roles=STAFF_ROLES, with_connection=True)
    async def subscribe_queues(self, user: PublicUser, conn_key: str) -> dict[str, Any]:
        # Snapshot and subscribe with no await in between: no change can fall in a gap.
        snapshot = self.routing.wall_now()
        self.watchers.subscribe_queues(user["id"], conn_key, scope=lambda: self.access.scope(user))
        return Wall.narrow(await self.wall.decorate(snapshot), self.access.scope(user))

    @command("unsubscribe_queues", roles=STAFF_ROLES, with_connection=True)
    async def unsubscribe_queues(self, user: PublicUser, conn_key: str) -> dict[str, Any]:
        self.watchers.unsubscribe_queues(user["id"], conn_key)
        return {}

    @command("monitor", roles=STAFF_ROLES, with_connection=True, session_id=Str())
    async def monitor(self, user: PublicUser, session_id: str, conn_key: str) -> dict[str, Any]:
        session = await self.access.check_supervised_session(user, session_id, "monitor")
        self._monitoring[user["id"]] = user
        if not self.watchers.monitor(session_id, user["id"], conn_key):
            # This socket watches it already and was sent its transcript; live events carry the
            # rest. Sending the transcript again on every repeat is how one socket grew to 768 MiB.
            return {"session": await self.views.public_session(session), "messages": [], "already_monitoring": True}
        await self.lookups.audit(user, "monitor", session_id)
        return await self.views.bundle(session, max_messages=MONITOR_MAX_MESSAGES)

    @command("unmonitor", roles=STAFF_ROLES, with_connection=True, session_id=Str())
    async def unmonitor(self, user: PublicUser, session_id: str, conn_key: str) -> dict[str, Any]:
        self.watchers.unmonitor(session_id, user["id"], conn_key)
        return {}

    @command("whisper", roles=STAFF_ROLES, session_id=Str(), text=Str(strip=True))
    async def whisper(self, user: PublicUser, session_id: str, text: str) -> dict[str, Any]:
        session = await self.access.check_supervised_session(user, session_id, "whisper")
        if session["state"] != "assigned":
            raise InvalidState("whispers go to the agent of an assigned session")
        message = await self.store.add_message({
            "session_id": session_id, "openid": session["openid"], "direction": "internal", "author": "supervisor",
            "author_id": user["id"], "author_name": user.get("name"), "type": "whisper", "text": text,
            "ts": self.clock(), "status": "sent",
        })
        public = public_message(message)
        await self.audience.session_event(session, "whisper", {"session_id": session_id, "message": public})
        await self.lookups.audit(user, "whisper", session_id)
        return {"message": public}

    @command("barge", roles=STAFF_ROLES, session_id=Str(), text=REPLY_TEXT)
    async def barge(self, user: PublicUser, session_id: str, text: str) -> dict[str, Any]:
        session = await self.access.check_supervised_session(user, session_id, "barge")
        # A leave-message (diverted, not closed) may be answered while WeChat's window allows.
        if session["state"] in CLOSED_STATES and not (session["state"] == "diverted" and session.get("leave_message")):
            raise InvalidState("the session is closed")
        result = await self.replies.reply(session, text, author="supervisor", user=user)
        await self.lookups.audit(user, "barge", session_id)
        return result

    @command("reassign", roles=STAFF_ROLES, session_id=Str(), to_agent=Str())
    async def reassign(self, user: PublicUser, session_id: str, to_agent: str) -> dict[str, Any]:
        session = await self.access.check_supervised_session(user, session_id, "reassign")
        if session["state"] in CLOSED_STATES:
            raise InvalidState("the session is closed")
        target = await self.lookups.agent(to_agent)
        self.access.check_agent(user, target["id"])
        await self.lifecycle.agent_known(target)
        if ho.is_pending(session.get("handover")):
            raise InvalidState("a transfer or reassignment of this session is already waiting for an answer")
        kind = "reassign" if session["state"] == "assigned" else "assign"
        name = target.get("name") or target.get("username")
        handover = ho.new_handover(kind, user["id"], target["id"], None,
                                   session.get("agent_id") if kind == "reassign" else None, None, self.clock(),
                                   to_name=name)
        await self.lifecycle.reassign(session_id, handover, target["id"], name)
        await self.lookups.audit(user, "reassign", session_id, target=target["id"])
        # The outcome follows as a reassign_result event when the agent answers.
        return {"status": "offered", "to_agent": target["id"], "kind": kind}

    @command("move_session", roles=STAFF_ROLES, session_id=Str(), to_skill=Str(max_chars=32))
    async def move_session(self, user: PublicUser, session_id: str, to_skill: str) -> dict[str, Any]:
        """Move a waiting session to another skill's queue (it keeps its place by arrival time)."""
        session = await self.access.check_session(user, session_id, "move_session")
        if to_skill not in await self.skills.names():
            raise InvalidState(f"there is no skill named {to_skill!r}")
        moved = await self.lifecycle.move_session(session["id"], to_skill)
        await self.lookups.audit(user, "move_session", session["id"], target=to_skill,
                                 details={"from_skill": session.get("skill"), "to_skill": to_skill})
        return {"session_id": session["id"], "skill": moved.get("skill"), "from_skill": session.get("skill")}

    @command("set_presence", roles=STAFF_ROLES, agent_id=Str(), status=Str(choices=("available", "away", "offline")))
    async def set_agent_presence(self, user: PublicUser, agent_id: str, status: str) -> dict[str, Any]:
        target = await self.lookups.agent(agent_id)
        self.access.check_agent(user, target["id"])
        await self.lifecycle.agent_known(target)
        await self.lifecycle.set_presence(target["id"], status)
        current, since = self.routing.presence_of(target["id"])
        await self.audience.publish([target["id"]], "presence", {"agent_id": target["id"], "status": current,
                                                                 "since": since, "reason": "supervisor",
                                                                 "by": user["id"]})
        await self.lookups.audit(user, "set_presence", None, target=target["id"], details={"status": status})
        return {}

    @command("explain", roles=STAFF_ROLES, session_id=Str())
    async def explain(self, user: PublicUser, session_id: str) -> dict[str, Any]:
        await self.access.check_supervised_session(user, session_id, "explain")
        text, explanation = self.routing.explain(session_id)
        await self.lookups.audit(user, "explain", session_id)
        return {"text": text, "explanation": explanation}

    async def connection_closed(self, user: PublicUser, conn_key: str) -> None:
        self.watchers.connection_closed(user["id"], conn_key)
