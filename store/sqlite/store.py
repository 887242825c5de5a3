"""`SQLiteStore`: the `Store` interface composed of the SQLite aggregates, one writer, one reader.

Each ``Store`` method hands over to the aggregate that owns the table (store/sqlite/*.py); this
module owns the lifecycle and the one operation that spans aggregates, `file_customer_message`.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Collection, Iterable, Mapping
from typing import Any, Unpack

from ..base import Store, message_record
from ..records import (
    AgentState,
    AuditEntry,
    BotAnswerCounts,
    CannedFields,
    CannedReplyRecord,
    CustomerFields,
    CustomerRecord,
    InboundRecord,
    JSONObject,
    MessageFields,
    MessageRecord,
    NewAuditEntry,
    NewCannedReply,
    NewMessage,
    NewNotification,
    NewSession,
    NewTeam,
    NewUser,
    NotificationFields,
    NotificationRecord,
    ReportGroup,
    ReportPartial,
    RoutingEvent,
    RoutingSnapshot,
    SessionFields,
    SessionRecord,
    SessionState,
    TeamFields,
    TeamRecord,
    UserFields,
    UserRecord,
)
from . import customers, inbound, messages, sessions
from .audit import AuditLog
from .bot_stats import BotAnswerStats
from .canned import CannedReplies
from .leave_messages import LeaveMessages
from .notifications import Notifications
from .reader import Reader
from .reports import Reports
from .routing_log import RoutingLog
from .schema import migrate
from .settings import Settings
from .teams import Teams
from .tokens import RevokedTokens
from .users import Users
from .writer import Writer

# Records kept in each write-through cache (customers, sessions, open session per customer).
CACHE_RECORDS = 20000

# What `file_customer_message`'s one writer operation returns: the customer with its committed
# JSON, the session, the message (None when already filed).
_Filed = tuple[customers.Upserted, SessionRecord, MessageRecord | None]


class SQLiteStore(Store):
    """`Store` on one SQLite file. ``path`` is created (with its parent directories) on open."""

    def __init__(self, path: str) -> None:
        if path in ("", ":memory:") or path.startswith("file:"):
            raise ValueError("SQLiteStore needs a file path (use a temporary file for tests)")
        self.path = path
        self.fts = False  # FTS5 trigram index in use (else LIKE scans)
        self._open = False
        self._writer = Writer(path, bulk_insert=inbound.insert_new)
        self._reader = Reader(path)
        self._inbound = inbound.InboundLog(self._writer, self._reader)
        self._customers = customers.Customers(self._writer, self._reader, CACHE_RECORDS)
        self._sessions = sessions.Sessions(self._writer, self._reader, CACHE_RECORDS)
        self._messages = messages.Messages(self._writer, self._reader)
        self._users = Users(self._writer, self._reader)
        self._teams = Teams(self._writer, self._reader)
        self._tokens = RevokedTokens(self._writer, self._reader)
        self._audit = AuditLog(self._writer, self._reader)
        self._routing = RoutingLog(self._writer, self._reader)
        self._settings = Settings(self._writer, self._reader)
        self._canned = CannedReplies(self._writer, self._reader)
        self._leave_messages = LeaveMessages(self._reader)
        # Reports read on a connection and thread of their own (store/sqlite/reports.py).
        self._report_reader = Reader(path)
        self._reports = Reports(self._writer, self._report_reader)
        self._notifications = Notifications(self._writer, self._reader)
        self._bot_stats = BotAnswerStats(self._writer, self._reader)

    @property
    def commits(self) -> int:
        """Transactions committed by the writer (one fsync each)."""
        return self._writer.commits

    @property
    def writes(self) -> int:
        """Write operations those transactions carried."""
        return self._writer.writes

    # -- lifecycle -----------------------------------------------------------------------------

    async def open(self) -> None:
        if self._open:
            return
        parent = os.path.dirname(os.path.abspath(self.path))
        os.makedirs(parent, exist_ok=True)
        path = self.path
        self.fts = self._sessions.fts = await self._writer.start(lambda conn: migrate(conn, path))
        await self._reader.open()
        await self._report_reader.open()
        self._open = True

    async def close(self) -> None:
        if not self._open:
            return
        self._open = False
        self._reader.refuse()
        self._report_reader.refuse()
        await self._writer.stop()  # FIFO: everything queued before is committed
        await self._reader.close()
        await self._report_reader.close()

    async def ping(self) -> bool:
        try:
            return await self._reader.read(lambda c: c.execute("SELECT 1").fetchone()[0] == 1)
        except Exception:
            return False

    async def flush(self) -> None:
        await self._writer.write(lambda conn: None)

    # -- inbound -------------------------------------------------------------------------------

    async def put_inbound(self, key: str, openid: str, message: JSONObject,
                          received_at: float) -> tuple[bool, InboundRecord]:
        return await self._inbound.put(key, openid, message, received_at)

    async def set_inbound_result(self, key: str, reply: str | None,
                                 session_id: str | None) -> InboundRecord:
        return await self._inbound.set_result(key, reply, session_id)

    async def get_inbound(self, key: str) -> InboundRecord | None:
        return await self._inbound.get(key)

    async def mark_inbound_processed(self, key: str, session_id: str | None = None,
                                     processed_at: float | None = None) -> InboundRecord:
        return await self._inbound.mark_processed(key, session_id, processed_at)

    async def unprocessed_inbound(self, limit: int = 1000) -> list[InboundRecord]:
        return await self._inbound.unprocessed(limit)

    # -- customers -----------------------------------------------------------------------------

    async def upsert_customer(self, openid: str, /, seen_at: float | None = None,
                              **fields: Unpack[CustomerFields]) -> CustomerRecord:
        return await self._customers.upsert(openid, seen_at, fields)

    async def get_customer(self, openid: str) -> CustomerRecord | None:
        return await self._customers.get(openid)

    async def update_customer(self, openid: str, /, **fields: Unpack[CustomerFields]) -> CustomerRecord:
        return await self._customers.update(openid, fields)

    async def file_customer_message(self, openid: str, seen_at: float, customer_fields: CustomerFields,
                                    session_id: str, session_fields: SessionFields | None,
                                    message: NewMessage, *, inbound_key: str | None = None,
                                    ) -> tuple[CustomerRecord, SessionRecord, MessageRecord | None]:
        # One writer operation instead of four: a customer's message is the hot path.
        customer_op = customers.upsert_op(openid, seen_at, customer_fields)
        session_op = (sessions.read_op(session_id) if session_fields is None
                      else sessions.update_op(session_id, session_fields))
        message_op = messages.add_op(message_record(message))
        mark_op = None if inbound_key is None else inbound.mark_op(inbound_key, session_id, None)

        def op(conn: sqlite3.Connection) -> _Filed:
            customer = customer_op(conn)
            session = session_op(conn)
            stored: MessageRecord | None
            try:
                # One statement: when it fails, SQLite undoes it alone (no savepoint needed).
                stored = message_op(conn)
            except sqlite3.IntegrityError:  # already filed (processed again after a crash)
                stored = None
            if mark_op is not None:
                mark_op(conn)
            return customer, session, stored

        (customer, doc), session, stored = await self._writer.write(op)
        self._customers.docs.put(openid, doc)
        if session_fields is not None:
            self._sessions.written(session)
        return customer, session, stored

    # -- sessions ------------------------------------------------------------------------------

    async def create_session(self, data: NewSession) -> SessionRecord:
        return await self._sessions.create(data)

    async def update_session(self, session_id: str, /, **fields: Unpack[SessionFields]) -> SessionRecord:
        return await self._sessions.update(session_id, fields)

    async def get_session(self, session_id: str) -> SessionRecord | None:
        return await self._sessions.get(session_id)

    async def open_session_for_customer(self, openid: str) -> SessionRecord | None:
        return await self._sessions.open_for_customer(openid)

    async def list_open_sessions(self) -> list[SessionRecord]:
        return await self._sessions.list_open()

    async def customer_sessions(self, openid: str, limit: int = 20) -> list[SessionRecord]:
        return await self._sessions.of_customer(openid, limit)

    async def search_sessions(self, openid: str | None = None, agent_id: str | None = None,
                              skill: str | None = None, since: float | None = None,
                              until: float | None = None, text: str | None = None,
                              limit: int = 50, offset: int = 0,
                              agent_ids: Collection[str] | None = None) -> tuple[int, list[SessionRecord]]:
        return await self._sessions.search(openid, agent_id, skill, since, until, text, limit, offset,
                                           agent_ids)

    async def has_served(self, agent_id: str, openid: str) -> bool:
        return await self._sessions.has_served(agent_id, openid)

    async def count_sessions_by_state(self) -> dict[SessionState, int]:
        return await self._sessions.count_by_state()

    # -- messages ------------------------------------------------------------------------------

    async def add_message(self, data: NewMessage) -> MessageRecord:
        return await self._messages.add(data)

    async def update_message(self, message_id: str, /, **fields: Unpack[MessageFields]) -> MessageRecord:
        return await self._messages.update(message_id, fields)

    async def get_message(self, message_id: str) -> MessageRecord | None:
        return await self._messages.get(message_id)

    async def session_messages(self, session_id: str, after_seq: int = 0) -> list[MessageRecord]:
        return await self._messages.of_session(session_id, after_seq)

    async def customer_messages(self, openid: str, limit: int = 100) -> list[MessageRecord]:
        return await self._messages.of_customer(openid, limit)

    # -- users ---------------------------------------------------------------------------------

    async def create_user(self, data: NewUser) -> UserRecord:
        return await self._users.create(data)

    async def get_user(self, user_id: str) -> UserRecord | None:
        return await self._users.get(user_id)

    async def get_user_by_username(self, username: str) -> UserRecord | None:
        return await self._users.by_username(username)

    async def list_users(self) -> list[UserRecord]:
        return await self._users.list()

    async def update_user(self, user_id: str, /, **fields: Unpack[UserFields]) -> UserRecord:
        return await self._users.update(user_id, fields)

    # -- teams ---------------------------------------------------------------------------------

    async def create_team(self, data: NewTeam) -> TeamRecord:
        return await self._teams.create(data)

    async def get_team(self, team_id: str) -> TeamRecord | None:
        return await self._teams.get(team_id)

    async def list_teams(self) -> list[TeamRecord]:
        return await self._teams.list()

    async def update_team(self, team_id: str, /, **fields: Unpack[TeamFields]) -> TeamRecord:
        return await self._teams.update(team_id, fields)

    async def delete_team(self, team_id: str) -> None:
        await self._teams.delete(team_id)

    # -- revoked tokens ------------------------------------------------------------------------

    async def revoke_token(self, jti: str, expires_at: float) -> None:
        await self._tokens.revoke(jti, expires_at)

    async def is_token_revoked(self, jti: str) -> bool:
        return await self._tokens.is_revoked(jti)

    async def purge_revoked_tokens(self, now: float | None = None) -> int:
        return await self._tokens.purge(now)

    # -- audit ---------------------------------------------------------------------------------

    async def add_audit(self, data: NewAuditEntry) -> AuditEntry:
        return await self._audit.add(data)

    async def list_audit(self, limit: int = 50, offset: int = 0, actor_id: str | None = None,
                         session_id: str | None = None, action: str | None = None,
                         target: str | None = None, since: float | None = None,
                         until: float | None = None) -> list[AuditEntry]:
        return await self._audit.list(limit, offset, actor_id, session_id, action, target, since, until)

    # -- routing event log -------------------------------------------------------------------

    async def append_routing_events(self, events: list[RoutingEvent]) -> list[int]:
        return await self._routing.append(events)

    async def routing_events(self, after_seq: int = 0) -> list[RoutingEvent]:
        return await self._routing.events(after_seq)

    async def save_routing_snapshot(self, seq: int, snapshot: RoutingSnapshot) -> None:
        await self._routing.save_snapshot(seq, snapshot)

    async def load_routing_snapshot(self) -> tuple[int, RoutingSnapshot] | None:
        return await self._routing.load_snapshot()

    async def prune_routing_events(self, upto_seq: int) -> int:
        return await self._routing.prune(upto_seq)

    # -- canned replies ------------------------------------------------------------------------

    async def create_canned(self, data: NewCannedReply) -> CannedReplyRecord:
        return await self._canned.create(data)

    async def get_canned(self, reply_id: str) -> CannedReplyRecord | None:
        return await self._canned.get(reply_id)

    async def list_canned(self, owners: Iterable[str] | None = None) -> list[CannedReplyRecord]:
        return await self._canned.list(owners)

    async def update_canned(self, reply_id: str, /, **fields: Unpack[CannedFields]) -> CannedReplyRecord:
        return await self._canned.update(reply_id, fields)

    async def delete_canned(self, reply_id: str) -> CannedReplyRecord:
        return await self._canned.delete(reply_id)

    # -- settings ------------------------------------------------------------------------------

    async def get_setting(self, key: str, default: Any = None) -> Any:
        return await self._settings.get(key, default)

    async def set_setting(self, key: str, value: Any) -> None:
        await self._settings.set(key, value)

    # -- leave-messages (留言) ---------------------------------------------------------------------

    async def list_leave_messages(self, states: Collection[SessionState] | None = None, skill: str | None = None,
                                  limit: int = 500, newest_first: bool = False) -> list[SessionRecord]:
        return await self._leave_messages.list(states, skill, limit, newest_first)
    # -- reports (运营报表; store/sqlite/reports.py) ----------------------------------------------

    async def report_partials(self, since: float, until: float, group: ReportGroup,
                              sla_secs: Mapping[str, float], default_sla_secs: float,
                              agent_ids: Collection[str] | None = None) -> list[ReportPartial]:
        return await self._reports.partials(since, until, group, sla_secs, default_sla_secs, agent_ids)

    async def report_session_keys(self, since: float, until: float, group: ReportGroup,
                                  agent_ids: Collection[str] | None = None) -> list[tuple[str, str | None]]:
        return await self._reports.session_keys(since, until, group, agent_ids)

    async def append_agent_state(self, agent_id: str, state: AgentState, at: float) -> None:
        await self._reports.append_agent_state(agent_id, state, at)

    async def agent_state_totals(self, since: float, until: float, now: float,
                                 agent_ids: Collection[str] | None = None) -> dict[str, dict[str, float]]:
        return await self._reports.agent_state_totals(since, until, now, agent_ids)

    # -- notifications (template messages, desk/notifications.py) ----------------------------

    async def add_notification(self, data: NewNotification) -> NotificationRecord:
        return await self._notifications.add(data)

    async def update_notification(self, notification_id: str, /,
                                  **fields: Unpack[NotificationFields]) -> NotificationRecord:
        return await self._notifications.update(notification_id, fields)

    async def get_notification(self, notification_id: str) -> NotificationRecord | None:
        return await self._notifications.get(notification_id)

    async def list_notifications(self, openid: str | None = None, kind: str | None = None,
                                 created_by: str | None = None, limit: int = 50,
                                 offset: int = 0) -> list[NotificationRecord]:
        return await self._notifications.list(openid, kind, created_by, limit, offset)
    # -- the bot's answer usage (desk/bot_stats.py) --------------------------------------------

    async def count_bot_answer(self, answer_id: str, used: int = 0, handed_over: int = 0,
                               at: float | None = None) -> None:
        await self._bot_stats.count(answer_id, used, handed_over, at)

    async def bot_answer_counts(self) -> dict[str, BotAnswerCounts]:
        return await self._bot_stats.all()
