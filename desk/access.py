"""Who may read which customers, sessions, notes and transcripts: the one rule every read asks.

Every read of a customer, their sessions (closing notes included) or a transcript goes through
an :class:`AccessPolicy`, on REST (``/api/customers/*``, ``/api/sessions/*``, the session
search) and on the socket (``monitor``, ``explain``). The rule:

* An **agent** reads a customer they hold now (an open session assigned or offered to them) or
  have served (any session of that customer they were assigned to, transfers included), and then
  everything of that customer: every session, note and transcript. Nothing of anyone else.
  "Served" is the store's ``has_served``, one indexed lookup.
* **Admins** and **QA** read every customer. **Supervisors** read the customers in their scope
  (:meth:`AccessPolicy.supervisor_scope`, from `desk.teams.Teams`): a supervisor who belongs to
  a team reads only the customers their teams' members hold or served; one in no team reads
  every customer.
* Any other role reads no customer.

A refusal answers 403: ``not_your_customer`` for a customer, ``not_your_session`` for a session
or transcript. It never says whether the thing exists: for a caller whose scope is limited, an
openid or session id that does not exist is refused exactly like one that belongs to someone
else, so ids cannot be probed. Only callers who read everything learn 404 (``not_found``).
Every refusal is written to the audit log (action ``read_refused``) and logged as a warning.

Supervision (monitor, whisper, barge, reassign, set presence, the wall, ``/api/agents``) is
narrower than reading: a scoped supervisor acts only on their scope's agents
(:meth:`AccessPolicy.check_agent`, 403 ``forbidden``) and the sessions those agents hold now,
assigned or offered (:meth:`AccessPolicy.check_supervised_session`, 403 ``not_your_session``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from desk.errors import DeskError, Forbidden, NotFoundError
from desk.roles import READ_ALL_ROLES, SEARCH_ROLES, roles_of
from store.base import Store
from store.records import PublicUser, SessionRecord

if TYPE_CHECKING:
    from desk.teams import Teams

log = logging.getLogger("kefu.access")

# Longest id or openid copied into the audit log and the log line of a refusal.
REFUSED_REF_MAX_CHARS = 128


class Refused(DeskError):
    """A read the caller may not make (HTTP 403)."""


class AccessPolicy:
    """The read rule over a `store.base.Store` (``has_served``, ``open_session_for_customer``,
    ``get_session``, ``add_audit``)."""

    def __init__(self, store: Store, clock: Callable[[], float], teams: Teams | None = None) -> None:
        self.store = store
        self.clock = clock
        self.teams = teams

    # -- scope -----------------------------------------------------------------------------------
    def scope(self, user: PublicUser) -> frozenset[str] | None:
        """The agents whose customers ``user`` reads: None means every customer."""
        roles = roles_of(user)
        if roles & READ_ALL_ROLES:
            return None
        if "supervisor" in roles:
            return self.supervisor_scope(user)
        if "agent" in roles:
            return frozenset({user["id"]})
        return frozenset()

    def supervisor_scope(self, user: PublicUser) -> frozenset[str] | None:
        """The members of the supervisor's teams (and the supervisor), or None (every agent) for
        a supervisor in no team. Answered from the teams' cache, which every change of a team
        replaces: a move between teams counts from the next question on."""
        return self.teams.supervisor_scope(user["id"]) if self.teams is not None else None

    # -- questions -------------------------------------------------------------------------------
    async def can_read_customer(self, user: PublicUser, openid: str) -> bool:
        return await self._in_scope(self.scope(user), openid)

    async def _in_scope(self, scope: frozenset[str] | None, openid: str) -> bool:
        if scope is None:
            return True
        if not scope or not isinstance(openid, str) or not openid:
            return False
        # Holding is answered from the store's cache of open sessions; served is one index lookup.
        open_session = await self.store.open_session_for_customer(openid)
        if open_session is not None and self._holds(scope, open_session):
            return True
        for agent_id in sorted(scope):
            if await self.store.has_served(agent_id, openid):
                return True
        return False

    async def can_read_session(self, user: PublicUser, session: SessionRecord) -> bool:
        scope = self.scope(user)
        if scope is None:
            return True
        if self._holds(scope, session) or set(session.get("agents") or ()) & scope:
            return True
        return await self.can_read_customer(user, session["openid"])

    def holds(self, user: PublicUser, session: SessionRecord) -> bool:
        """Whether ``session`` is one ``user`` supervises: everything for an unscoped caller, else
        a session an agent of their scope holds now (assigned or offered)."""
        scope = self.scope(user)
        return scope is None or self._holds(scope, session)

    @staticmethod
    def _holds(scope: frozenset[str], session: SessionRecord) -> bool:
        return ((session.get("state") == "assigned" and session.get("agent_id") in scope)
                or session.get("offered_to") in scope)

    # -- checks that refuse ----------------------------------------------------------------------
    async def check_customer(self, user: PublicUser, openid: str, what: str) -> None:
        """Return when ``user`` may read customer ``openid``; refuse (403, audited) otherwise.
        ``what`` names the read in the audit entry (``customer``, ``customer_sessions``…)."""
        if not await self.can_read_customer(user, openid):
            await self._refused(user, what, openid=openid)
            raise Refused("not_your_customer", "you may read only the customers you hold or have served")

    async def check_session(self, user: PublicUser, session_id: str, what: str) -> SessionRecord:
        """The session ``session_id`` when ``user`` may read it; 404 only for callers who may
        read every session, else 403 (audited) whether or not it exists."""
        session = await self.store.get_session(session_id) if isinstance(session_id, str) and session_id else None
        if session is not None and await self.can_read_session(user, session):
            return session
        if session is None and self.scope(user) is None:
            raise NotFoundError("no such session")
        await self._refused(user, what, session_id=session_id)
        raise Refused("not_your_session", "you may read only the sessions of customers you hold or have served")

    async def check_customer_edit(self, user: PublicUser, openid: str) -> None:
        """Return when ``user`` may change what the desk keeps about customer ``openid`` (tags,
        note): an agent one they hold or have served, a supervisor one in their scope, an admin
        anyone. QA reads every customer but changes none (403 ``forbidden``); a refusal for a
        customer outside the caller's scope is ``not_your_customer``, audited like a read."""
        roles = roles_of(user)
        if "admin" in roles:
            return
        if "supervisor" in roles:
            scope = self.supervisor_scope(user)
        elif "agent" in roles:
            scope = frozenset({user["id"]})  # a QA role beside it reads more, but edits no more
        else:
            raise Forbidden("changing a customer's tags or note needs the role agent, supervisor or admin")
        if not await self._in_scope(scope, openid):
            await self._refused(user, "customer_edit", openid=openid)
            raise Refused("not_your_customer", "you may change only the customers you hold or have served")

    async def check_supervised_session(self, user: PublicUser, session_id: str, what: str) -> SessionRecord:
        """The session ``session_id`` when ``user`` may supervise it (monitor, whisper, barge,
        reassign): any session for an unscoped caller (404 when missing), else one their scope
        holds now, or an open leave-message (留言: no agent holds it; like a waiting customer it is
        every team's work, desk/leave_messages.py); 403 ``not_your_session`` (audited) otherwise,
        whether or not it exists."""
        scope = self.scope(user)
        if scope is None:
            return await self.check_session(user, session_id, what)
        session = await self.store.get_session(session_id) if isinstance(session_id, str) and session_id else None
        if session is not None and (self._holds(scope, session) or _open_leave_message(session)):
            return session
        await self._refused(user, what, session_id=session_id)
        raise Refused("not_your_session", "you supervise only the sessions your teams' agents hold")

    def check_agent(self, user: PublicUser, agent_id: str) -> None:
        """Refuse (403 ``forbidden``) acting on an agent outside a scoped supervisor's teams."""
        scope = self.scope(user)
        if scope is not None and agent_id not in scope:
            raise Forbidden("you supervise only the agents of your teams")

    def search_filters(self, user: PublicUser, filters: dict[str, Any]) -> dict[str, Any]:
        """The filters a session search runs with for ``user``. Agents search no one (they read
        their customers' histories per customer); a scoped supervisor searches the sessions
        their scope's agents held (``agent_ids``)."""
        if not roles_of(user) & SEARCH_ROLES:
            raise Forbidden("searching sessions needs the role supervisor, admin or qa")
        scope = self.scope(user)
        return filters if scope is None else {**filters, "agent_ids": scope}

    async def _refused(self, user: PublicUser, what: str, openid: str | None = None,
                       session_id: str | None = None) -> None:
        ref = str(openid if openid is not None else session_id)[:REFUSED_REF_MAX_CHARS]
        log.warning("read refused", extra={"fields": {"user_id": user.get("id"), "read": what, "ref": ref}})
        await self.store.add_audit({
            "ts": self.clock(), "actor_id": user.get("id"), "action": "read_refused",
            "session_id": ref if session_id is not None else None,
            "target": ref if openid is not None else None, "details": {"read": what}})


def _open_leave_message(session: SessionRecord) -> bool:
    """A leave-message no agent holds yet (waiting as a leave-message, or being offered)."""
    return bool(session.get("leave_message")) and session.get("state") in ("diverted", "queued", "offered") \
        and not session.get("offered_to")
