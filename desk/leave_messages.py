"""Leave-messages (留言) as work: a diverted session with an SLA, offered again, listed, assigned, closed with an outcome.

A session that cannot reach an agent (outside hours, nobody with the skill, past ``max_wait_s``)
is diverted by the routing engine; the lifecycle tells this feature, which stamps the session's
``leave_message``: when it was left, when it is due (the skill's ``leave_message_sla_s`` seconds
of business hours, `desk.leave_sla`), why. The customer's further messages join it
(`desk.pipeline`). `desk.leave_backlog.Backlog` offers the backlog oldest first as agents free up
and skills open; an accepted one is an assigned session like any other, answered through the
customer-service API while WeChat's 48-hour window is open. When the window is closed the send is
refused (``reply_window_closed``) with the alternatives a bank has: a template message when one is
configured and the notification service is there, and a callback note. ``close_leave_message``
records the outcome (``answered``, ``template_sent``, ``callback``, ``no_action``).

Supervisors see the backlog on the wall (per skill: open, assigned, breached, oldest) and in
``GET /api/leave-messages``; ``assign_leave_message`` offers one to a named agent at any hour.
Team scope (`desk.access`): an open leave-message belongs to no team (like a waiting customer, it
is shared work every supervisor sees and may assign to an agent of their own teams); an assigned
or closed one is seen by the supervisors of the agents who held it.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from desk import handover as ho
from desk import leave_sla
from desk import leave_templates as lt
from desk.commands import Str, command
from desk.errors import DeskError, Forbidden, InvalidState, NotFoundError, ValidationError
from desk.leave_backlog import LEAVE_MESSAGE_PRIORITY, OPEN_STATES, Backlog
from desk.parts import DeskParts
from desk.roles import STAFF_ROLES, roles_of
from desk.routing_driver import REFUSAL_CODES
from desk.settings import SettingSpec
from desk.skill_rules import LEAVE_MESSAGE_SLA_S
from desk.transcripts import public_message
from desk.views import customer_brief
from store.records import CustomerRecord, PublicUser, SessionRecord, SessionState

__all__ = ["LEAVE_MESSAGE_PRIORITY", "LeaveMessages", "status_of"]

KEY = "leave_messages"
OUTCOMES = ("answered", "template_sent", "callback", "no_action")
STATUSES: dict[str, tuple[SessionState, ...]] = {"open": OPEN_STATES, "assigned": ("assigned",),
                                                 "closed": ("closed",)}
TEMPLATE_ID_RE = re.compile(r"^[A-Za-z0-9_-]{0,64}$")
PHONE_RE = re.compile(r"^\+?[0-9][0-9 -]{4,23}$")
# A list answers at most this many leave-messages (oldest first), each with its latest messages.
LIST_MAX = 200
ITEM_MESSAGES = 50
# What the wall counts (a backlog larger than this is counted as this many), and lists by session.
WALL_MAX = 5000
WALL_SESSIONS = 50


def status_of(session: Mapping[str, Any]) -> str:
    """The leave-message's status as the protocol names it, from the session's state."""
    state = session.get("state")
    return "assigned" if state == "assigned" else "closed" if state == "closed" else "open"


def _valid_setting(value: Any, current: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValidationError(KEY, 'must be an object {"template_id"}')
    out = dict(current or {"template_id": ""})
    for key, item in value.items():
        if key != "template_id":
            raise ValidationError(str(key), "unknown field")
        if not isinstance(item, str) or not TEMPLATE_ID_RE.match(item.strip()):
            raise ValidationError("template_id", "a WeChat template id: letters, digits, '_' or '-', at most 64")
        out["template_id"] = item.strip()
    return out


class LeaveMessages:
    def __init__(self, parts: DeskParts) -> None:
        self.store = parts.store
        self.routing = parts.routing
        self.lifecycle = parts.lifecycle
        self.access = parts.access
        self.lookups = parts.lookups
        self.skills = parts.skills
        self.texts = parts.texts
        self.views = parts.views
        self.clock = parts.clock
        self.watchers = parts.watchers
        # The template-message service (信息推送, another feature) once it is wired: until then the
        # template alternative is shown, disabled, with why.
        self.notifier: Any = None
        # A customer's priority from their tags (desk.priority, wired by the desk), for one who writes again.
        self.priority: Callable[[CustomerRecord], Awaitable[int]] | None = None
        self._config: dict[str, Any] = {"template_id": ""}
        self._templates: list[dict[str, Any]] = []  # the account's templates (the notification service's setting)
        self.backlog = Backlog(parts.store, parts.routing, parts.lifecycle, parts.clock, self._hours)
        parts.lifecycle.followers.on_diverted.append(self._became_leave_message)
        parts.lifecycle.followers.on_applied.append(self.backlog.wake)
        parts.wall.decorations.append(self._decorate_wall)
        parts.replies.window_closed_details = self._window_closed_details
        parts.settings.define(_setting_spec())
        parts.settings.on_change(KEY, self._setting_changed)

    def use_notifications(self, notifier: Any, settings: Any) -> None:
        """Wire the template-message service (desk/notifications.py): the template alternative
        works from now on, with the configured template or the account's template whose
        ``purpose`` is ``leave_message`` (kept up to date from the setting ``templates``)."""
        self.notifier = notifier
        settings.on_change(lt.TEMPLATES_KEY, self._templates_changed)

    async def _templates_changed(self, new: Any, old: Any) -> None:
        self._templates = [t for t in (new or ()) if isinstance(t, dict)]

    def _template(self) -> Mapping[str, Any] | None:
        return lt.choose_template(self._templates, self._config.get("template_id") or "")

    def start(self) -> None:
        self.backlog.start()

    def stop(self) -> None:
        self.backlog.stop()

    async def _setting_changed(self, new: Any, old: Any) -> None:
        self._config = dict(new or {"template_id": ""})

    async def _hours(self, skill: str) -> dict[str, Any] | None:
        try:
            return (await self.skills.get(skill)).get("hours")
        except NotFoundError:
            return None

    # -- becoming one ------------------------------------------------------------------------------
    async def _became_leave_message(self, session: SessionRecord, reason: str) -> None:
        now = self.clock()
        try:
            skill = await self.skills.get(session.get("skill") or "")
        except NotFoundError:
            skill = {"hours": None, "leave_message_sla_s": LEAVE_MESSAGE_SLA_S}
        sla_s = float(skill.get("leave_message_sla_s") or LEAVE_MESSAGE_SLA_S)
        await self.store.update_session(session["id"], leave_message={
            "created_at": now, "due_at": leave_sla.due_at(now, sla_s, skill.get("hours")), "sla_s": sla_s,
            "reason": reason, "outcome": None})

    async def customer_wrote(self, session: SessionRecord) -> None:
        """The customer wrote into their waiting leave-message: they are here now, so while the
        skill can take them they wait as a live customer does (their priority, their place from
        now), the leave-message's age and due time kept. Otherwise it stays a leave-message."""
        current = await self.store.get_session(session["id"])
        if current is None or current["state"] != "diverted" or not current.get("leave_message"):
            return
        engine = self.routing.engine
        hours = engine.queue_config(current.get("skill") or "").business_hours if engine is not None else None
        if engine is None or (hours is not None and not hours.is_open(self.clock())):
            return
        customer = await self.store.get_customer(current["openid"])
        priority = await self.priority(customer) if customer is not None and self.priority is not None else 0
        await self.lifecycle.request_leave_message(current, priority, arrived_at=self.clock())

    # -- reading -----------------------------------------------------------------------------------
    def _brief(self, lm: Mapping[str, Any], now: float, status: str) -> dict[str, Any]:
        due = lm.get("due_at")
        return {"created_at": lm.get("created_at"), "due_at": due, "reason": lm.get("reason"),
                "age_s": round(now - float(lm.get("created_at") or now), 1),
                "breached": bool(status != "closed" and due is not None and now > float(due)),
                "outcome": lm.get("outcome")}

    async def item(self, session: SessionRecord, now: float) -> dict[str, Any]:
        """One leave-message as ``GET /api/leave-messages`` lists it (docs/protocol.md)."""
        lm = session.get("leave_message") or {}
        status = status_of(session)
        messages = await self.store.session_messages(session["id"])
        outcome = lm.get("outcome")
        if status == "closed" and not outcome:  # closed with a plain ``close``: what happened
            outcome = "answered" if _answered(messages, lm) else "no_action"
        customer: Mapping[str, Any] = await self.store.get_customer(session["openid"]) or {}
        return {"session_id": session["id"], "openid": session["openid"], "skill": session.get("skill"),
                **self._brief(lm, now, status), "outcome": outcome, "status": status,
                "agent_id": session.get("agent_id"), "nickname": customer.get("nickname"),
                "outcome_note": lm.get("outcome_note"), "callback": lm.get("callback"),
                "closed_at": session.get("closed_at") if status == "closed" else None,
                "messages": [public_message(m) for m in messages[-ITEM_MESSAGES:]]}

    async def list_items(self, user: PublicUser, status: str | None = None, skill: str | None = None) -> dict[str, Any]:
        """``GET /api/leave-messages?status&skill`` (supervisor, admin)."""
        if not roles_of(user) & STAFF_ROLES:
            raise Forbidden("the leave-message list is for supervisors and admins")
        if status is not None and status not in STATUSES:
            raise ValidationError("status", "must be open, assigned or closed")
        if skill is not None and skill not in await self.skills.names():
            raise ValidationError("skill", f"{skill[:40]!r} is not a skill")
        now = self.clock()
        items: list[dict[str, Any]] = []
        # Open and assigned ones oldest first (the work), closed ones newest first (what was done).
        for wanted in [status] if status else list(STATUSES):
            for session in await self.store.list_leave_messages(states=STATUSES[wanted], skill=skill,
                                                                limit=LIST_MAX - len(items),
                                                                newest_first=wanted == "closed"):
                if status_of(session) != "open" and not await self.access.can_read_session(user, session):
                    continue  # held by another team's agents
                items.append(await self.item(session, now))
        # The template alternative as configured (the page shows its setting and whether it works).
        return {"items": items, "now": now, "template": self.alternatives({})[0]}

    def alternatives(self, session: Mapping[str, Any]) -> list[dict[str, Any]]:
        """What an agent can do when WeChat's window is closed (a template message, a callback)."""
        template = self._template() if self.notifier is not None else None
        template_id = (template or {}).get("id") or self._config.get("template_id") or None
        reason = None if template is not None else (
            "notifications_unavailable" if self.notifier is None and template_id else "no_template_configured")
        return [{"kind": "template", "available": reason is None, "template_id": template_id,
                 "title": (template or {}).get("title"), "reason": reason},
                {"kind": "callback", "available": True}]

    def _window_closed_details(self, session: Mapping[str, Any]) -> dict[str, object]:
        if not session.get("leave_message"):
            return {}
        return {"alternatives": self.alternatives(session), "leave_message": True}

    @command("leave_message_alternatives", session_id=Str())
    async def leave_message_options(self, user: PublicUser, session_id: str) -> dict[str, Any]:
        """The console asks what it can offer for a leave-message (window, alternatives)."""
        session = await self._session_for(user, session_id, "leave_message_alternatives")
        view = await self.views.public_session(session)
        return {"session_id": session_id, "budget": view["budget"], "alternatives": self.alternatives(session),
                **self._brief(session.get("leave_message") or {}, self.clock(), status_of(session))}

    async def _session_for(self, user: PublicUser, session_id: str, what: str) -> SessionRecord:
        """A leave-message the caller may act on: an agent theirs, staff an open one or one in scope."""
        if roles_of(user) & STAFF_ROLES:
            session = await self.lookups.session(session_id)
            if session.get("leave_message") and status_of(session) == "open":
                return session
            session = await self.access.check_supervised_session(user, session_id, what)
        else:
            session = await self.lookups.own_session(user, session_id)
        if not session.get("leave_message"):
            raise InvalidState("this session is not a leave-message")
        return session

    # -- supervisors ---------------------------------------------------------------------------------
    @command("assign_leave_message", roles=STAFF_ROLES, session_id=Str(), to_agent=Str())
    async def assign_leave_message(self, user: PublicUser, session_id: str, to_agent: str) -> dict[str, Any]:
        session = await self._session_for(user, session_id, "assign_leave_message")
        if session["state"] == "closed":
            raise InvalidState("the leave-message is closed")
        target = await self.lookups.agent(to_agent)
        self.access.check_agent(user, target["id"])  # an agent of another team: forbidden
        await self.lifecycle.agent_known(target)
        name = target.get("name") or target.get("username") or target["id"]
        if session["state"] == "diverted":
            refusal = self.routing.engine.offer_refusal(target["id"]) if self.routing.engine else None
            if refusal is not None:  # said with the agent's name (the engine knows only the id)
                raise DeskError(REFUSAL_CODES.get(refusal[0], "agent_busy"), f"{name} cannot take it now: {refusal[1]}.")
            await self.lifecycle.request_leave_message(session, LEAVE_MESSAGE_PRIORITY, to_agent=target["id"])
        else:  # handed to the engine already (offered, waiting, or with an agent): a reassignment
            if ho.is_pending(session.get("handover")):
                raise InvalidState("a transfer or reassignment of this session is already waiting for an answer")
            kind = "reassign" if session["state"] == "assigned" else "assign"
            handover = ho.new_handover(kind, user["id"], target["id"], None,
                                       session.get("agent_id") if kind == "reassign" else None, None,
                                       self.clock(), to_name=name)
            await self.lifecycle.reassign(session_id, handover, target["id"], name)
        await self.lookups.audit(user, "assign_leave_message", session_id, target=target["id"])
        return {"status": "offered", "session_id": session_id, "to_agent": target["id"]}

    # -- closing ---------------------------------------------------------------------------------------
    @command("close_leave_message", session_id=Str(), outcome=Str(choices=OUTCOMES),
             note=Str(required=False, max_chars=500), callback_phone=Str(required=False, max_chars=24),
             callback_at=Str(required=False, max_chars=40), wrapup=Str(required=False))
    async def close_leave_message(self, user: PublicUser, session_id: str, outcome: str, note: str | None = None,
                                  callback_phone: str | None = None, callback_at: str | None = None,
                                  wrapup: str | None = None) -> dict[str, Any]:
        session = await self._session_for(user, session_id, "close_leave_message")
        if session["state"] == "closed":
            raise InvalidState("the leave-message is closed already")
        lm = dict(session.get("leave_message") or {})
        if wrapup is not None:
            self.texts.check_wrapup(wrapup)
        callback = None
        if outcome == "callback":
            if not callback_phone or not PHONE_RE.match(callback_phone.strip()):
                raise ValidationError("callback_phone", "a phone number to call back (digits, spaces, '-', '+')")
            callback = {"phone": callback_phone.strip(), "at": (callback_at or "").strip() or None}
        elif outcome == "answered" and not _answered(await self.store.session_messages(session_id), lm):
            raise InvalidState("nothing was sent to the customer: answer first, or choose another outcome")
        elif outcome == "template_sent" and not self.alternatives(session)[0]["available"]:
            raise InvalidState("template messages are not available: " + str(self.alternatives(session)[0]["reason"]))
        now = self.clock()
        lm.update({"outcome": outcome, "outcome_note": note, "callback": callback, "closed_at": now,
                   "closed_by": user["id"]})
        session = await self.store.update_session(session_id, leave_message=lm)
        if session["state"] == "assigned" and outcome == "answered":
            await self.texts.tell(session, "closed")
        await self.lifecycle.close(session, wrapup=wrapup, note=note, reason="closed")
        await self.lookups.audit(user, "close_leave_message", session_id, details={"outcome": outcome})
        return {"session_id": session_id, "outcome": outcome, "callback": callback}

    @command("send_leave_message_template", session_id=Str(), text=Str(strip=True, max_chars=200))
    async def send_leave_message_template(self, user: PublicUser, session_id: str, text: str) -> dict[str, Any]:
        """The window has closed: answer with the configured template message (desk/leave_templates.py)
        through the notification service, then close the leave-message as ``template_sent``."""
        session = await self._session_for(user, session_id, "send_leave_message_template")
        template_alt = self.alternatives(session)[0]
        if not template_alt["available"] or self.notifier is None:
            raise InvalidState("template messages are not available: " + str(template_alt["reason"]))
        template = self._template()
        if template is None:
            raise InvalidState("the configured template is not one of the account's templates")
        messages = await self.store.session_messages(session_id)
        left = next((m.get("text") for m in messages if m["direction"] == "in" and m.get("text")), "") or ""
        hours = await self._hours(session.get("skill") or "")
        data = lt.template_data(template, left, text, str(user.get("name") or user.get("username") or ""),
                                self.clock(), (hours or {}).get("timezone"))
        record = await self.notifier.send_template(user, session["openid"], str(template["id"]), data,
                                                   kind="leave_message", session_id=session_id)
        closed = await self.close_leave_message(user, session_id, "template_sent", note=text)
        return {**closed, "notification": record}

    # -- the wall ---------------------------------------------------------------------------------------
    async def _decorate_wall(self, wall: dict[str, Any]) -> None:
        """Per skill: open, assigned, breached (unfinished past due), the oldest open one's age."""
        now = self.clock()
        per: dict[str, dict[str, Any]] = {}
        states: list[SessionState] = [*OPEN_STATES, "assigned"]
        for session in await self.store.list_leave_messages(states=states, limit=WALL_MAX):
            lm = session.get("leave_message") or {}
            counts = per.setdefault(session.get("skill") or "", _zero())
            status = status_of(session)
            counts[status] += 1
            brief = self._brief(lm, now, status)
            counts["breached"] += int(brief["breached"])
            if status == "open":
                counts["oldest_s"] = max(counts["oldest_s"] or 0.0, brief["age_s"])
        for queue in wall["queues"]:
            queue["leave_messages"] = per.get(queue["skill"], _zero())
        # The waiting ones join the wall's sessions (monitor, barge, assign from the wall), oldest first.
        waiting = [s for s in await self.store.list_leave_messages(states=["diverted"], limit=WALL_SESSIONS)]
        customers = await self.store.get_customers(s["openid"] for s in waiting)
        wall.setdefault("sessions", []).extend(
            {**{k: s.get(k) for k in ("id", "openid", "skill", "state", "agent_id", "queued_at", "accepted_at",
                                      "priority", "last_customer_at")},
             "leave_message": self._brief(s.get("leave_message") or {}, now, "open"),
             "customer": customer_brief(customers.get(s["openid"]), s["openid"])}
            for s in waiting)
        wall["leave_messages"] = {k: sum(c[k] for c in per.values()) for k in ("open", "assigned", "breached")}


def _zero() -> dict[str, Any]:
    return {"open": 0, "assigned": 0, "breached": 0, "oldest_s": None}


def _answered(messages: list[Any], lm: Mapping[str, Any]) -> bool:
    """A person (agent or supervisor) sent the customer something since the message was left."""
    since = float(lm.get("created_at") or 0)
    return any(m.get("direction") == "out" and m.get("author") in ("agent", "supervisor")
               and float(m.get("ts") or 0) >= since and m.get("status") != "failed" for m in messages)


def _setting_spec() -> SettingSpec:
    return SettingSpec(KEY, default=lambda: {"template_id": ""}, validate=_valid_setting)
