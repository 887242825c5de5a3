"""Test doubles for the console layer: a `FakeDesk` that records calls and can be made slow."""

from __future__ import annotations

import asyncio
from typing import Any

from desk.commands import CommandRegistry
from desk.desk import feature_classes
from desk.errors import DeskError
from desk.settings import Settings


class _NoSettingsStore:
    async def get_setting(self, key: str, default: Any = None) -> Any:
        return default


class FakeDesk:
    """Implements the desk methods the socket and the API call; records ``(name, args)``.

    ``answers[name]`` overrides a method's result (an exception instance is raised);
    ``gates[name]`` is an `asyncio.Event` the method waits for (to make a command slow);
    ``on_welcome`` is an async hook run inside `welcome` (to publish during the handshake).
    """

    def __init__(self) -> None:
        # The real desk's command schemas, each bound to this double's method of that name.
        self.commands = CommandRegistry.bound(feature_classes(), self)
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        self.answers: dict[str, Any] = {}
        self.gates: dict[str, asyncio.Event] = {}
        self.on_welcome: Any = None
        self.closed_connections: list[str] = []
        self.closed_event = asyncio.Event()
        # The settings service over a store that keeps nothing (no setting is declared here).
        self.settings = Settings(_NoSettingsStore(), clock=lambda: 0.0)
        self.canned: Any = object()  # handlers/canned.py is routed with it; its tests run the real app
        self.teams: Any = None  # handlers/teams.py is routed with it; its tests run the real app
        self.skills: Any = None  # the skills routes take it; their tests run the real app
        self.menu: Any = None  # handlers/menu.py is routed with it; its tests run the real app
        self.bot: Any = None  # handlers/bot.py is routed with it; its tests run the real app
        self.leave_messages: Any = None  # handlers/leave_messages.py is routed with it; its tests run the real app
        self.notifications: Any = None  # handlers/notifications.py: its tests run the real app
        self.reports: Any = None  # handlers/reports.py (运营报表): its tests run the real app

    async def _call(self, name: str, *args: Any, default: Any = None) -> Any:
        self.calls.append((name, args))
        gate = self.gates.get(name)
        if gate is not None:
            await gate.wait()
        answer = self.answers.get(name, default)
        if isinstance(answer, BaseException):
            raise answer
        return answer

    async def command(self, user: dict[str, Any], name: str, msg: dict[str, Any], conn_key: str) -> Any:
        return await self.commands.dispatch(user, name, msg, conn_key)

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]

    async def welcome(self, user: dict[str, Any]) -> dict[str, Any]:
        if self.on_welcome is not None:
            await self.on_welcome(user)
        return await self._call("welcome", user["id"], default={
            "sessions": [], "presence": {"status": "away", "since": 0.0}, "offers": []})

    async def connection_closed(self, user: dict[str, Any], conn_key: str) -> None:
        self.closed_connections.append(conn_key)
        self.closed_event.set()

    async def set_presence(self, user: dict[str, Any], status: str) -> Any:
        return await self._call("set_presence", user["id"], status, default={"status": status, "since": 1.0})

    async def accept(self, user: dict[str, Any], session_id: str) -> Any:
        if session_id == "missing":
            raise DeskError("not_found", "no such session")
        return await self._call("accept", user["id"], session_id, default={"session": {"id": session_id},
                                                                           "messages": []})

    async def reject(self, user: dict[str, Any], session_id: str) -> Any:
        return await self._call("reject", user["id"], session_id, default={})

    async def send(self, user: dict[str, Any], session_id: str, text: str, client_id: str | None = None) -> Any:
        return await self._call("send", user["id"], session_id, text, client_id,
                                default={"message": {"id": "m1", "text": text, "status": "pending"}})

    async def transfer(self, user: dict[str, Any], session_id: str, to_agent: str | None = None,
                       to_skill: str | None = None, note: str | None = None) -> Any:
        return await self._call("transfer", user["id"], session_id, to_agent, to_skill, note, default={})

    async def close(self, user: dict[str, Any], session_id: str, wrapup: str, note: str | None = None) -> Any:
        return await self._call("close", user["id"], session_id, wrapup, note, default={})

    async def subscribe_queues(self, user: dict[str, Any], conn_key: str) -> Any:
        return await self._call("subscribe_queues", user["id"], conn_key,
                                default={"queues": [], "agents": [], "sessions": []})

    async def unsubscribe_queues(self, user: dict[str, Any], conn_key: str) -> Any:
        return await self._call("unsubscribe_queues", user["id"], conn_key, default={})

    async def monitor(self, user: dict[str, Any], session_id: str, conn_key: str) -> Any:
        return await self._call("monitor", user["id"], session_id, conn_key, default={"session": {}, "messages": []})

    async def unmonitor(self, user: dict[str, Any], session_id: str, conn_key: str) -> Any:
        return await self._call("unmonitor", user["id"], session_id, conn_key, default={})

    async def whisper(self, user: dict[str, Any], session_id: str, text: str) -> Any:
        return await self._call("whisper", user["id"], session_id, text, default={"message": {}})

    async def barge(self, user: dict[str, Any], session_id: str, text: str) -> Any:
        return await self._call("barge", user["id"], session_id, text, default={"message": {}})

    async def reassign(self, user: dict[str, Any], session_id: str, to_agent: str) -> Any:
        return await self._call("reassign", user["id"], session_id, to_agent, default={})

    async def set_agent_presence(self, user: dict[str, Any], agent_id: str, status: str) -> Any:
        return await self._call("set_agent_presence", user["id"], agent_id, status, default={})

    async def explain(self, user: dict[str, Any], session_id: str) -> Any:
        return await self._call("explain", user["id"], session_id, default={"text": "", "explanation": {}})

    async def move_session(self, user: dict[str, Any], session_id: str, to_skill: str) -> Any:
        return await self._call("move_session", user["id"], session_id, to_skill,
                                default={"session_id": session_id, "skill": to_skill})

    # -- REST ----------------------------------------------------------------------------------

    async def get_session(self, user: dict[str, Any], session_id: str) -> Any:
        if session_id == "missing":
            raise DeskError("not_found", "no such session")
        if session_id == "theirs":
            raise DeskError("not_your_session", "not your session")
        return await self._call("get_session", user["id"], session_id,
                                default={"session": {"id": session_id}, "messages": []})

    async def search_sessions(self, user: dict[str, Any], **filters: Any) -> Any:
        return await self._call("search_sessions", user["id"], filters, default={"total": 0, "sessions": []})

    async def get_customer(self, user: dict[str, Any], openid: str) -> Any:
        return await self._call("get_customer", user["id"], openid, default={"openid": openid})

    async def customer_sessions(self, user: dict[str, Any], openid: str) -> Any:
        return await self._call("customer_sessions", user["id"], openid, default={"sessions": []})

    async def queues_snapshot(self, user: dict[str, Any] | None = None) -> Any:
        return await self._call("queues_snapshot", default={"queues": [
            {"skill": "general", "waiting": 2, "longest_wait_s": 7.5, "service_level": 1.0,
             "agents": {"available": 1, "busy": 0, "away": 0, "offline": 0}}]})

    async def agents_snapshot(self, user: dict[str, Any] | None = None) -> Any:
        return await self._call("agents_snapshot", default={"agents": []})

    async def skills_catalogue(self) -> Any:
        return await self._call("skills_catalogue", default={"skills": [], "wrapup_codes": []})

    # Leave-messages (desk/leave_messages.py): the commands' schemas bound here.
    async def assign_leave_message(self, user: dict[str, Any], session_id: str, to_agent: str) -> Any:
        return await self._call("assign_leave_message", user["id"], session_id, to_agent, default={})

    async def close_leave_message(self, user: dict[str, Any], session_id: str, outcome: str, **fields: Any) -> Any:
        return await self._call("close_leave_message", user["id"], session_id, outcome, default={})

    async def leave_message_options(self, user: dict[str, Any], session_id: str) -> Any:
        return await self._call("leave_message_options", user["id"], session_id, default={})

    async def send_leave_message_template(self, user: dict[str, Any], session_id: str, text: str) -> Any:
        return await self._call("send_leave_message_template", user["id"], session_id, default={})


class MemoryUsers:
    """Just enough of a store for `Accounts` unit tests without a database."""

    def __init__(self) -> None:
        self.users: dict[str, dict[str, Any]] = {}
        self.revoked: dict[str, float] = {}
        self.audit: list[dict[str, Any]] = []

    async def create_user(self, data: dict[str, Any]) -> dict[str, Any]:
        from store.base import DuplicateError, user_record

        rec = user_record(data)
        if any(u["username"].casefold() == rec["username"].casefold() for u in self.users.values()):
            raise DuplicateError(rec["username"])
        self.users[rec["id"]] = rec
        return dict(rec)

    async def get_user(self, user_id: str) -> dict[str, Any] | None:
        u = self.users.get(user_id)
        return dict(u) if u else None

    async def get_user_by_username(self, username: str) -> dict[str, Any] | None:
        for u in self.users.values():
            if u["username"].casefold() == username.casefold():
                return dict(u)
        return None

    async def list_users(self) -> list[dict[str, Any]]:
        return [dict(u) for u in sorted(self.users.values(), key=lambda u: u["username"].casefold())]

    async def update_user(self, user_id: str, **fields: Any) -> dict[str, Any]:
        from store.base import NotFound

        if user_id not in self.users:
            raise NotFound(user_id)
        self.users[user_id].update(fields)
        return dict(self.users[user_id])

    async def revoke_token(self, jti: str, expires_at: float) -> None:
        self.revoked[jti] = expires_at

    async def is_token_revoked(self, jti: str) -> bool:
        return jti in self.revoked

    async def add_audit(self, data: dict[str, Any]) -> dict[str, Any]:
        self.audit.append(data)
        return data


class MemorySessions:
    """Just enough of a store for the desk's lifecycle and inbound stages: sessions, messages,
    customers, users and settings in dicts. ``hold_writes`` (an `asyncio.Event`) makes
    ``file_customer_message`` wait, to cross a message with an accept."""

    def __init__(self) -> None:
        self.sessions: dict[str, dict[str, Any]] = {}
        self.messages: list[dict[str, Any]] = []
        self.customers: dict[str, dict[str, Any]] = {}
        self.users: dict[str, dict[str, Any]] = {}
        self.settings: dict[str, Any] = {}
        self.audit: list[dict[str, Any]] = []
        self.notifications: dict[str, dict[str, Any]] = {}
        self.state_writes: list[tuple[str, str]] = []  # (session id, state) in the order written
        self.hold_writes: asyncio.Event | None = None
        self.holding = 0  # writes waiting for hold_writes
        self.progress = asyncio.Event()  # set on every write (tests wait for a state to be reached)
        self._n = 0

    async def create_session(self, data: dict[str, Any]) -> dict[str, Any]:
        self._n += 1
        rec = {"id": f"s{self._n}", "agents": [], "transfers": [], **data}
        self.sessions[rec["id"]] = rec
        self.state_writes.append((rec["id"], rec["state"]))
        return dict(rec)

    async def update_session(self, session_id: str, /, **fields: Any) -> dict[str, Any]:
        self.sessions[session_id].update(fields)
        if "state" in fields:
            self.state_writes.append((session_id, fields["state"]))
        self.progress.set()
        return dict(self.sessions[session_id])

    async def get_session(self, session_id: str) -> dict[str, Any] | None:
        s = self.sessions.get(session_id)
        return dict(s) if s else None

    async def open_session_for_customer(self, openid: str) -> dict[str, Any] | None:
        return next((dict(s) for s in self.sessions.values()
                     if s["openid"] == openid and s["state"] in ("queued", "offered", "assigned")), None)

    async def list_open_sessions(self) -> list[dict[str, Any]]:
        return [dict(s) for s in self.sessions.values() if s["state"] in ("queued", "offered", "assigned")]

    async def customer_sessions(self, openid: str, limit: int = 20) -> list[dict[str, Any]]:
        return [dict(s) for s in reversed(self.sessions.values()) if s["openid"] == openid][:limit]

    async def add_message(self, data: dict[str, Any]) -> dict[str, Any]:
        rec = {"id": data.get("id") or f"m{len(self.messages) + 1}", **data}
        self.messages.append(rec)
        return dict(rec)

    async def session_messages(self, session_id: str, after_seq: int = 0) -> list[dict[str, Any]]:
        return [dict(m) for m in self.messages if m["session_id"] == session_id]

    async def file_customer_message(self, openid: str, seen_at: float, customer_fields: dict, session_id: str,
                                    session_fields: dict | None, message: dict, *, inbound_key: str | None = None,
                                    ) -> tuple[dict, dict, dict | None]:
        if self.hold_writes is not None:
            self.holding += 1
            self.progress.set()
            await self.hold_writes.wait()
            self.holding -= 1
        customer = await self.upsert_customer(openid, seen_at=seen_at, **customer_fields)
        session = await self.update_session(session_id, **(session_fields or {}))
        return customer, session, await self.add_message(message)

    async def get_customer(self, openid: str) -> dict[str, Any] | None:
        c = self.customers.get(openid)
        return dict(c) if c else None

    async def upsert_customer(self, openid: str, /, seen_at: float | None = None, **fields: Any) -> dict[str, Any]:
        c = self.customers.setdefault(openid, {"openid": openid, "first_seen": seen_at})
        c.update(fields, last_seen=seen_at)
        return dict(c)

    async def update_customer(self, openid: str, /, **fields: Any) -> dict[str, Any]:
        return await self.upsert_customer(openid, **fields)

    async def get_user(self, user_id: str) -> dict[str, Any] | None:
        return self.users.get(user_id)

    async def get_setting(self, key: str, default: Any = None) -> Any:
        return self.settings.get(key, default)

    async def set_setting(self, key: str, value: Any) -> None:
        self.settings[key] = value

    async def add_audit(self, data: dict[str, Any]) -> dict[str, Any]:
        self.audit.append(data)
        return data

    # notifications (desk/notifications.py)
    async def add_notification(self, data: dict[str, Any]) -> dict[str, Any]:
        from store.base import notification_record

        rec = notification_record(data)  # type: ignore[arg-type]
        self.notifications[rec["id"]] = dict(rec)
        return dict(rec)

    async def update_notification(self, notification_id: str, /, **fields: Any) -> dict[str, Any]:
        self.notifications[notification_id].update(fields)
        return dict(self.notifications[notification_id])

    async def list_notifications(self, openid: str | None = None, kind: str | None = None,
                                 created_by: str | None = None, limit: int = 50, offset: int = 0) -> list[dict]:
        found = [dict(n) for n in reversed(self.notifications.values())
                 if all(v is None or n[k] == v for k, v in (("openid", openid), ("kind", kind),
                                                           ("created_by", created_by)))]
        return found[offset:offset + limit]

    async def has_served(self, agent_id: str, openid: str) -> bool:
        return any(s["openid"] == openid and agent_id in (s.get("agents") or ()) for s in self.sessions.values())


class TemplateWeChat:
    """The WeChat client's ``send_template`` as the notifications feature sees it: ``sent`` lists
    ``(openid, template_id, data, url)``; ``fail_with`` errcodes are raised, one per call, first."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, dict[str, Any], str | None]] = []
        self.fail_with: list[Any] = []
        self.msgid = 1000
        self.gate: asyncio.Event | None = None  # set: a send waits at WeChat until it is set
        self.entered = asyncio.Event()  # a send reached WeChat

    async def send_template(self, openid: str, template_id: str, data: Any, url: str | None = None) -> dict:
        from wechat.errors import WeChatUnreachableError, api_error

        self.entered.set()
        if self.gate is not None:
            await self.gate.wait()

        if self.fail_with:
            code = self.fail_with.pop(0)
            if code == "unreachable":
                raise WeChatUnreachableError("timeout")
            raise api_error(code, "argument invalid! data.thing3.value invalid" if code == 47003 else "refused")
        self.sent.append((openid, template_id, dict(data), url))
        self.msgid += 1
        return {"errcode": 0, "errmsg": "ok", "msgid": self.msgid}


class RecordingBus:
    """The bus as the desk sees it: ``published`` lists ``(user_id, event, data)`` in order."""

    def __init__(self) -> None:
        self.published: list[tuple[str, str, dict[str, Any]]] = []

    async def publish(self, user_ids: Any, event: str, data: dict[str, Any]) -> None:
        for user_id in user_ids:
            self.published.append((user_id, event, data))

    def events(self, user_id: str) -> list[str]:
        return [e for u, e, _ in self.published if u == user_id]
