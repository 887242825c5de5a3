"""The persistence contract of Kefu: one async `Store` interface and the record shapes it deals in.

Everything the desk keeps goes through a `Store`: the WeChat inbound log (de-duplication and
crash recovery), customers, sessions, messages, users, revoked tokens, the audit log, the routing
event log and small settings. Two implementations exist, `store.sqlite.SQLiteStore` (embedded
default) and `store.mongo.MongoStore` (production); `tests/contract/` runs the same suite on both.

Conventions shared by every implementation:

* Records are plain JSON-able dicts, in and out, typed by `store.records` (``SessionRecord``,
  ``MessageRecord`` …, and the one ``SessionState``). A returned dict is the caller's to mutate;
  the store never hands out a reference to its own state.
* Ids are strings. When a record passed to a ``create_*``/``add_*`` method has no ``id`` (or a
  falsy one) the store fills in ``new_id()`` (128 random bits as 32 hex characters); a caller may supply its own id
  (any non-empty string) when it needs to know the id before the write. Inbound records are keyed
  by the caller's de-duplication ``key`` instead of an id; routing events by a store-assigned
  ``seq``.
* Times are float epoch seconds (``time.time()``). Where a time is left out the store uses now.
* ``get_*`` returns ``None`` for a missing record; ``update_*``/``set_*``/``mark_*`` raise
  `NotFound`. Updates merge the given fields into the record and return the whole updated
  record. Fields the store does not know are kept and returned as they are (both backends), so
  the desk can add a field without a migration; identity fields (``id``, a message's
  ``session_id``, ``seq`` and ``client_id``) cannot be changed.
* A write's awaitable completes only after the write is durable (committed); see each backend's
  module docstring for what durable means there.
"""

from __future__ import annotations

import abc
import copy
import hashlib
import os
import threading
import time
from collections.abc import Collection, Iterable, Mapping
from typing import Any, TypeVar, Unpack, cast

from .records import (
    CANNED_SCOPES,
    MESSAGE_DIRECTIONS,
    MESSAGE_STATUSES,
    NOTIFICATION_STATUSES,
    OPEN_STATES,
    SESSION_STATES,
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

# The states live in store.records; these names are kept for the modules that import them here.
OPEN_SESSION_STATES = OPEN_STATES
__all__ = ["MESSAGE_DIRECTIONS", "MESSAGE_STATUSES", "OPEN_SESSION_STATES", "OPEN_STATES",
           "SESSION_STATES", "DuplicateError", "NotFound", "Store", "StoreError"]

F = TypeVar("F", bound=Mapping[str, Any])


class StoreError(Exception):
    """Base class of the errors a store raises on purpose."""


class DuplicateError(StoreError):
    """A record with that unique value (e.g. a username, case-insensitively) already exists."""


class NotFound(StoreError):
    """The record to update does not exist."""


_ID_BYTES = 16
_ID_POOL_BYTES = _ID_BYTES * 256
_id_lock = threading.Lock()
_id_pool = b""
_id_at = 0


def _forget_id_pool() -> None:
    global _id_pool, _id_at
    _id_pool, _id_at = b"", 0


# A forked child must not hand out ids its parent already drew.
os.register_at_fork(after_in_child=_forget_id_pool)


def new_id() -> str:
    """A fresh record id: 128 bits from ``os.urandom`` as 32 lowercase hex characters (the
    shape of ``uuid4().hex``). Drawn from a pool filled 256 ids at a time: the desk makes
    several ids per message, and one system call each showed in the webhook profile."""
    global _id_pool, _id_at
    with _id_lock:
        if _id_at >= len(_id_pool):
            _id_pool, _id_at = os.urandom(_ID_POOL_BYTES), 0
        chunk = _id_pool[_id_at:_id_at + _ID_BYTES]
        _id_at += _ID_BYTES
    return chunk.hex()


def _now(value: float | None) -> float:
    return time.time() if value is None else float(value)


_IMMUTABLE_SCALARS = (str, int, float, bool, type(None))


def copy_json(value: Any) -> Any:
    """A private copy of a record's value, as ``copy.deepcopy`` would make it.

    Records are built on every message, and nearly all their values are dicts, lists and
    scalars: those are copied here directly, several times faster than ``deepcopy`` with its
    memo. Anything else (a set, a tuple, an object) goes to ``deepcopy``, so no mutable part is
    ever shared with the caller.
    """
    if isinstance(value, _IMMUTABLE_SCALARS):
        return value
    if type(value) is dict:
        return {k: copy_json(v) for k, v in value.items()}
    if type(value) is list:
        return [copy_json(v) for v in value]
    return copy.deepcopy(value)


# ---------------------------------------------------------------------------------------------
# Record shapes. Each `*_record` function fills the defaults of a record a caller passes in, so
# both backends store and return exactly the same keys. Extra keys are kept.
# ---------------------------------------------------------------------------------------------

def inbound_record(key: str, openid: str, message: JSONObject, received_at: float) -> InboundRecord:
    """Shape of an inbound log entry: the WeChat message as parsed, and what became of it."""
    return {
        "key": key,
        "openid": openid,
        "message": copy_json(message),
        "received_at": float(received_at),
        "reply": None,  # passive reply text WeChat was given, if any
        "session_id": None,  # session the message was filed under
        "processed": False,  # the desk finished with it (routing, relay); False = recover on start
        "processed_at": None,
    }


def customer_record(openid: str, seen_at: float, fields: CustomerFields) -> CustomerRecord:
    """Shape of a customer, keyed by the WeChat ``openid``."""
    rec: dict[str, Any] = {
        "openid": openid,
        "first_seen": seen_at,
        "last_seen": seen_at,
        "nickname": None,  # from WeChat's user info (desk/profiles.py), None until known
        "avatar_url": None,  # WeChat's headimgurl, None when unknown or none
        "profile": {},  # the user-info fetch's outcome: {"fetched_at", "subscribed"} or {"fetched_at", "error"}
        "tags": [],
        "budget": {},  # reply budget, e.g. {"window_start": ts, "sent": n}: the desk owns its keys
        "last_skill": None,
    }
    rec.update(copy_json(fields))
    rec["openid"] = openid
    return cast(CustomerRecord, rec)


def session_record(data: NewSession) -> SessionRecord:
    """Shape of a session. ``openid`` is required; everything else has a default."""
    if not data.get("openid"):
        raise ValueError("a session needs an openid")
    created = _now(data.get("created_at"))
    rec: dict[str, Any] = {
        "id": None,  # filled below unless the caller gave one
        "openid": None,
        "skill": None,
        "state": "queued",
        "agent_id": None,
        "agents": [],  # every agent who held it, in order
        "priority": 0,
        "created_at": created,
        "queued_at": created,
        "offered_at": None,
        "accepted_at": None,
        "closed_at": None,
        "wrapup": None,
        "note": None,
        "transfers": [],  # [{"from", "to_agent"|"to_skill", "ts", "by"}, …] as the desk records them
        "close_reason": None,
        "last_customer_at": None,
    }
    rec.update(copy_json(data))
    rec["id"] = rec["id"] or new_id()
    rec["created_at"] = created
    if rec["state"] not in SESSION_STATES:
        raise ValueError(f"unknown session state {rec['state']!r}")
    return cast(SessionRecord, rec)


def client_message_id(session_id: str, author_id: str | None, client_id: str) -> str:
    """The id of the message an author sent into a session under their own ``client_id``.

    Derived, not drawn: the id is the message's primary key in every backend, so a second
    ``add_message`` with the same client id (a retry after a lost socket, a resend after a
    restart) is a `DuplicateError`, atomically, and ``get_message`` finds the first one.
    """
    digest = hashlib.sha256("\x1f".join((session_id, author_id or "", client_id)).encode("utf-8"))
    return "c" + digest.hexdigest()[:31]


def message_record(data: NewMessage) -> MessageRecord:
    """Shape of a message. ``session_id`` is required; ``seq`` is assigned by the store.

    A message with a ``client_id`` (the console's own id for a reply it sends) gets the id
    `client_message_id` derives from it, so that the client id is unique per session and author.
    """
    if not data.get("session_id"):
        raise ValueError("a message needs a session_id")
    rec: dict[str, Any] = {
        "id": None,  # filled below unless the caller gave one
        "session_id": None,
        "openid": None,
        "seq": None,  # 1, 2, 3 … within the session, assigned by the store
        "direction": "in",
        "author": "customer",  # customer | agent | supervisor | bot | system
        "author_id": None,
        "type": "text",  # text | image | voice | video | location | link | event | whisper | …
        "text": None,
        "media": None,  # {"media_id", "url", "format", …} for non-text messages
        "ts": None,
        "status": "received",
        "error": None,
        "client_id": None,  # the sender's own id for the message (de-duplicates its retries)
    }
    rec.update(copy_json(data))
    if rec["client_id"]:
        derived = client_message_id(rec["session_id"], rec["author_id"], rec["client_id"])
        if rec["id"] and rec["id"] != derived:
            raise ValueError("a message with a client_id takes the id derived from it")
        rec["id"] = derived
    rec["id"] = rec["id"] or new_id()
    rec["ts"] = _now(rec["ts"])
    rec["seq"] = None
    if rec["direction"] not in MESSAGE_DIRECTIONS:
        raise ValueError(f"unknown message direction {rec['direction']!r}")
    return cast(MessageRecord, rec)  # seq: None until the store numbers it


def user_record(data: NewUser) -> UserRecord:
    """Shape of a user (agent, supervisor, admin, QA). ``username`` is required."""
    if not data.get("username"):
        raise ValueError("a user needs a username")
    rec: dict[str, Any] = {
        "id": None,  # filled below unless the caller gave one
        "username": None,
        "name": None,
        "password_hash": None,
        "roles": [],  # e.g. ["agent"], ["supervisor", "agent"], ["admin"]
        "skills": [],  # [{"name": "billing", "level": 1..5}, …]
        "max_sessions": 3,
        "disabled": False,
        "created_at": None,
    }
    rec.update(copy_json(data))
    rec["id"] = rec["id"] or new_id()
    rec["name"] = rec["name"] or rec["username"]
    rec["created_at"] = _now(rec["created_at"])
    return cast(UserRecord, rec)


def team_record(data: NewTeam) -> TeamRecord:
    """Shape of a team. ``name`` is required; its names are unique case-insensitively."""
    if not data.get("name"):
        raise ValueError("a team needs a name")
    rec: dict[str, Any] = {
        "id": None,  # filled below unless the caller gave one
        "name": None,
        "supervisors": [],
        "members": [],
        "created_at": None,
        "updated_at": None,
    }
    rec.update(copy_json(data))
    rec["id"] = rec["id"] or new_id()
    rec["created_at"] = _now(rec["created_at"])
    return cast(TeamRecord, rec)


def team_name_key(name: str) -> str:
    """What makes two team names the same: case and surrounding spaces do not count."""
    return name.strip().casefold()


def audit_record(data: NewAuditEntry) -> AuditEntry:
    """Shape of an audit entry: who did what to which session or target."""
    rec: dict[str, Any] = {
        "id": None,  # filled below unless the caller gave one
        "ts": None,
        "actor_id": None,
        "action": None,
        "session_id": None,
        "target": None,
        "details": {},
    }
    rec.update(copy_json(data))
    rec["id"] = rec["id"] or new_id()
    rec["ts"] = _now(rec["ts"])
    return cast(AuditEntry, rec)


# The owner of a canned reply, as one key: what its shortcut is unique within and what
# ``list_canned`` selects by. ``public``, ``team:<team_id>`` or ``user:<owner_id>``.
CANNED_PUBLIC = "public"


def canned_team_owner(team_id: str) -> str:
    return f"team:{team_id}"


def canned_user_owner(user_id: str) -> str:
    return f"user:{user_id}"


def canned_owner(rec: Mapping[str, Any]) -> str:
    """The owner key of a canned reply (ValueError when its scope lacks its team or owner)."""
    scope = rec.get("scope")
    if scope == "public":
        return CANNED_PUBLIC
    if scope == "team":
        if not rec.get("team_id"):
            raise ValueError("a team canned reply needs a team_id")
        return canned_team_owner(str(rec["team_id"]))
    if scope == "personal":
        if not rec.get("owner_id"):
            raise ValueError("a personal canned reply needs an owner_id")
        return canned_user_owner(str(rec["owner_id"]))
    raise ValueError(f"unknown canned reply scope {scope!r}")


def canned_shortcut_key(shortcut: str) -> str:
    """The case-insensitive form of a shortcut under which uniqueness (per owner) is enforced."""
    return shortcut.casefold()


def canned_record(data: NewCannedReply) -> CannedReplyRecord:
    """Shape of a canned reply. ``shortcut``, ``text`` and a known ``scope`` are required (the
    desk validates them for people; this guards the store)."""
    if not data.get("shortcut") or not data.get("text"):
        raise ValueError("a canned reply needs a shortcut and a text")
    rec: dict[str, Any] = {
        "id": None,  # filled below unless the caller gave one
        "shortcut": None,
        "title": "",
        "text": None,
        "category": "",
        "scope": None,
        "team_id": None,
        "owner_id": None,
        "created_at": None,
        "created_by": None,
        "updated_at": None,
        "updated_by": None,
    }
    rec.update(copy_json(data))
    rec["id"] = rec["id"] or new_id()
    rec["created_at"] = _now(rec["created_at"])
    if rec["scope"] not in CANNED_SCOPES:
        raise ValueError(f"unknown canned reply scope {rec['scope']!r}")
    record = cast(CannedReplyRecord, rec)
    canned_owner(record)
    return record


def check_update(kind: str, fields: F, frozen: tuple[str, ...]) -> F:
    """Reject changes to identity fields; return a private copy of the fields."""
    bad = [f for f in frozen if f in fields]
    if bad:
        raise ValueError(f"cannot change {', '.join(bad)} of a {kind}")
    if "state" in fields and kind == "session" and fields["state"] not in SESSION_STATES:
        raise ValueError(f"unknown session state {fields['state']!r}")
    copied: F = copy_json(fields)
    return copied


def username_key(username: str) -> str:
    """The case-insensitive form of a username under which uniqueness is enforced."""
    return username.casefold()


class Store(abc.ABC):
    """Async persistence for the desk. See the module docstring for the shared conventions.

    Use: ``store = open_store(url); await store.open(); …; await store.close()``.
    """

    # -- lifecycle ---------------------------------------------------------------------------

    @abc.abstractmethod
    async def open(self) -> None:
        """Connect, create the schema / indexes (idempotent) and start any background workers.

        Must be awaited inside the event loop that will use the store."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Commit every pending write, then release connections and workers. Idempotent."""

    @abc.abstractmethod
    async def ping(self) -> bool:
        """True when the backend answers a trivial query (for /healthz); never raises."""

    @abc.abstractmethod
    async def flush(self) -> None:
        """Return once every write queued before this call is durable."""

    # -- inbound log / de-duplication (WeChat webhook hot path) -------------------------------

    @abc.abstractmethod
    async def put_inbound(self, key: str, openid: str, message: JSONObject,
                          received_at: float) -> tuple[bool, InboundRecord]:
        """Record an inbound WeChat message once per ``key``, atomically.

        ``key`` is the de-duplication key (``MsgId``, or ``FromUserName+CreateTime`` for events).
        Returns ``(True, record)`` for the call that stored it and ``(False, existing_record)``
        for every later or concurrent call with the same key, also after a restart. Returns
        only once the record is durable: the webhook may acknowledge WeChat after this.
        Record: ``{key, openid, message, received_at, reply, session_id, processed,
        processed_at}``."""

    @abc.abstractmethod
    async def set_inbound_result(self, key: str, reply: str | None,
                                 session_id: str | None) -> InboundRecord:
        """Store what the desk made of an inbound message (passive reply, session). NotFound if
        the key is unknown. Returns the updated record."""

    @abc.abstractmethod
    async def get_inbound(self, key: str) -> InboundRecord | None:
        """The inbound record for ``key`` or None."""

    @abc.abstractmethod
    async def mark_inbound_processed(self, key: str, session_id: str | None = None,
                                     processed_at: float | None = None) -> InboundRecord:
        """Flag an inbound message as fully handled by the desk (and optionally file it under a
        session). NotFound if the key is unknown. Returns the updated record."""

    @abc.abstractmethod
    async def unprocessed_inbound(self, limit: int = 1000) -> list[InboundRecord]:
        """Inbound records not yet marked processed, oldest first (``received_at``, then insertion
        order): what the desk must replay after a crash."""

    # -- customers -----------------------------------------------------------------------------

    @abc.abstractmethod
    async def upsert_customer(self, openid: str, /, seen_at: float | None = None,
                              **fields: Unpack[CustomerFields]) -> CustomerRecord:
        """Create the customer on first contact or touch it on each message.

        New: ``first_seen = last_seen = seen_at`` plus defaults and ``fields``. Existing:
        ``last_seen = max(last_seen, seen_at)`` and ``fields`` merged. Returns the record
        ``{openid, first_seen, last_seen, nickname, tags, budget, last_skill, …}``."""

    @abc.abstractmethod
    async def get_customer(self, openid: str) -> CustomerRecord | None:
        """The customer or None."""

    @abc.abstractmethod
    async def update_customer(self, openid: str, /, **fields: Unpack[CustomerFields]) -> CustomerRecord:
        """Merge ``fields`` into the customer; NotFound if absent. Returns the updated record."""

    async def get_customers(self, openids: Iterable[str]) -> dict[str, CustomerRecord]:
        """The stored customers among ``openids``, by openid (absent ones left out). One call
        for a whole wall of sessions; stores with a cheaper bulk read override it."""
        out: dict[str, CustomerRecord] = {}
        for openid in dict.fromkeys(openids):
            customer = await self.get_customer(openid)
            if customer is not None:
                out[openid] = customer
        return out

    # -- sessions ------------------------------------------------------------------------------

    @abc.abstractmethod
    async def create_session(self, data: NewSession) -> SessionRecord:
        """Insert a session (shape: `session_record`); returns the stored record with its id.
        DuplicateError if the id exists."""

    @abc.abstractmethod
    async def update_session(self, session_id: str, /, **fields: Unpack[SessionFields]) -> SessionRecord:
        """Merge ``fields`` into the session; NotFound if absent. Returns the updated record."""

    @abc.abstractmethod
    async def get_session(self, session_id: str) -> SessionRecord | None:
        """The session or None."""

    @abc.abstractmethod
    async def open_session_for_customer(self, openid: str) -> SessionRecord | None:
        """The customer's open (queued/offered/assigned) session, newest if several, or None."""

    @abc.abstractmethod
    async def list_open_sessions(self) -> list[SessionRecord]:
        """Every open (queued/offered/assigned) session, by ``queued_at`` then ``created_at``:
        what the desk re-queues at start-up."""

    @abc.abstractmethod
    async def customer_sessions(self, openid: str, limit: int = 20) -> list[SessionRecord]:
        """The customer's sessions, newest (``created_at``) first."""

    @abc.abstractmethod
    async def search_sessions(self, openid: str | None = None, agent_id: str | None = None,
                              skill: str | None = None, since: float | None = None,
                              until: float | None = None, text: str | None = None,
                              limit: int = 50, offset: int = 0,
                              agent_ids: Collection[str] | None = None) -> tuple[int, list[SessionRecord]]:
        """Sessions matching every given criterion, newest first, as ``(total, page)``.

        ``agent_id`` matches the current agent or any agent in ``agents``; ``since <= created_at
        < until``; ``text`` is a case-insensitive substring of any message text in the session;
        ``agent_ids`` (a team's members) matches a session held by any of them, now or before
        (an empty collection matches nothing).
        ``total`` counts all matches, ``page`` is ``[offset, offset+limit)`` of them."""

    @abc.abstractmethod
    async def has_served(self, agent_id: str, openid: str) -> bool:
        """True when ``agent_id`` held any session of customer ``openid``: is its current agent or
        in its ``agents`` (so also through a transfer, and after it was closed). One indexed
        lookup: the desk asks it on every read an agent makes of a customer."""

    @abc.abstractmethod
    async def count_sessions_by_state(self) -> dict[SessionState, int]:
        """``{state: count}`` for every state (zero included), for /metrics."""

    async def file_customer_message(self, openid: str, seen_at: float, customer_fields: CustomerFields,
                                    session_id: str, session_fields: SessionFields | None,
                                    message: NewMessage, *, inbound_key: str | None = None,
                                    ) -> tuple[CustomerRecord, SessionRecord, MessageRecord | None]:
        """A customer's message in a session, in one call: ``upsert_customer(openid, seen_at,
        **customer_fields)``, ``update_session(session_id, **session_fields)`` (only read when
        ``session_fields`` is None), ``add_message(message)`` and, given ``inbound_key``,
        ``mark_inbound_processed(inbound_key, session_id)``. Returns ``(customer, session,
        message)``; the message is None when one with its id was already stored. A backend may
        do it all in one transaction."""
        customer = await self.upsert_customer(openid, seen_at=seen_at, **customer_fields)
        if session_fields is None:
            found = await self.get_session(session_id)
            if found is None:
                raise NotFound(f"no session {session_id!r}")
            session = found
        else:
            session = await self.update_session(session_id, **session_fields)
        try:
            stored: MessageRecord | None = await self.add_message(message)
        except DuplicateError:
            stored = None
        if inbound_key is not None:
            await self.mark_inbound_processed(inbound_key, session_id)
        return customer, session, stored

    # -- messages ------------------------------------------------------------------------------

    @abc.abstractmethod
    async def add_message(self, data: NewMessage) -> MessageRecord:
        """Append a message to its session (shape: `message_record`). The store assigns ``seq``
        (1, 2, … per session, gap-free, atomically). Returns the stored record."""

    @abc.abstractmethod
    async def update_message(self, message_id: str, /, **fields: Unpack[MessageFields]) -> MessageRecord:
        """Merge ``fields`` (typically ``status``, ``error``) into a message; NotFound if absent.
        Returns the updated record."""

    @abc.abstractmethod
    async def get_message(self, message_id: str) -> MessageRecord | None:
        """The message or None."""

    async def get_client_message(self, session_id: str, author_id: str | None,
                                 client_id: str) -> MessageRecord | None:
        """The message ``author_id`` sent into the session under ``client_id``, or None."""
        return await self.get_message(client_message_id(session_id, author_id, client_id))

    @abc.abstractmethod
    async def session_messages(self, session_id: str, after_seq: int = 0) -> list[MessageRecord]:
        """The session's messages with ``seq > after_seq``, in ``seq`` order."""

    @abc.abstractmethod
    async def customer_messages(self, openid: str, limit: int = 100) -> list[MessageRecord]:
        """The customer's latest ``limit`` messages across sessions, oldest first (``ts``)."""

    # -- users ---------------------------------------------------------------------------------

    @abc.abstractmethod
    async def create_user(self, data: NewUser) -> UserRecord:
        """Insert a user (shape: `user_record`). DuplicateError when the username exists,
        compared case-insensitively, or the id exists. Returns the stored record."""

    @abc.abstractmethod
    async def get_user(self, user_id: str) -> UserRecord | None:
        """The user or None."""

    @abc.abstractmethod
    async def get_user_by_username(self, username: str) -> UserRecord | None:
        """The user with that username, case-insensitively, or None."""

    @abc.abstractmethod
    async def list_users(self) -> list[UserRecord]:
        """Every user, by username (case-insensitive)."""

    @abc.abstractmethod
    async def update_user(self, user_id: str, /, **fields: Unpack[UserFields]) -> UserRecord:
        """Merge ``fields``; NotFound if absent; DuplicateError if a new ``username`` is taken."""

    # -- teams ---------------------------------------------------------------------------------

    @abc.abstractmethod
    async def create_team(self, data: NewTeam) -> TeamRecord:
        """Insert a team (shape: `team_record`). DuplicateError when the name exists (compared
        by `team_name_key`) or the id exists. Returns the stored record."""

    @abc.abstractmethod
    async def get_team(self, team_id: str) -> TeamRecord | None:
        """The team or None."""

    @abc.abstractmethod
    async def list_teams(self) -> list[TeamRecord]:
        """Every team, by name (case-insensitive)."""

    @abc.abstractmethod
    async def update_team(self, team_id: str, /, **fields: Unpack[TeamFields]) -> TeamRecord:
        """Merge ``fields``; NotFound if absent; DuplicateError if a new ``name`` is taken."""

    @abc.abstractmethod
    async def delete_team(self, team_id: str) -> None:
        """Remove the team; NotFound if absent."""

    # -- revoked tokens ------------------------------------------------------------------------

    @abc.abstractmethod
    async def revoke_token(self, jti: str, expires_at: float) -> None:
        """Remember a revoked JWT id until ``expires_at`` (after that the token is dead anyway).
        Idempotent."""

    @abc.abstractmethod
    async def is_token_revoked(self, jti: str) -> bool:
        """True when ``jti`` was revoked. Once ``expires_at`` has passed the answer may turn False
        (the Mongo store lets a TTL index forget it): callers check expiry first anyway."""

    @abc.abstractmethod
    async def purge_revoked_tokens(self, now: float | None = None) -> int:
        """Forget revocations whose token expired before ``now``; returns how many."""

    # -- audit log -----------------------------------------------------------------------------

    @abc.abstractmethod
    async def add_audit(self, data: NewAuditEntry) -> AuditEntry:
        """Append an audit entry ``{id, ts, actor_id, action, session_id, target, details}``."""

    @abc.abstractmethod
    async def list_audit(self, limit: int = 50, offset: int = 0, actor_id: str | None = None,
                         session_id: str | None = None, action: str | None = None,
                         target: str | None = None, since: float | None = None,
                         until: float | None = None) -> list[AuditEntry]:
        """Audit entries, newest first (``ts``, then insertion order), optionally filtered: each
        given field equal, ``since <= ts < until`` (epoch seconds). Every filter is indexed."""

    # -- routing event log -------------------------------------------------------------------

    @abc.abstractmethod
    async def append_routing_events(self, events: list[RoutingEvent]) -> list[int]:
        """Append events in order, atomically as a batch; the store adds an increasing ``seq``
        to each (also in the returned list of seqs). The caller's dicts are not modified."""

    @abc.abstractmethod
    async def routing_events(self, after_seq: int = 0) -> list[RoutingEvent]:
        """Events with ``seq > after_seq`` in ``seq`` order, each with its ``seq`` key."""

    @abc.abstractmethod
    async def save_routing_snapshot(self, seq: int, snapshot: RoutingSnapshot) -> None:
        """Replace the routing snapshot: the engine's state after applying events up to ``seq``."""

    @abc.abstractmethod
    async def load_routing_snapshot(self) -> tuple[int, RoutingSnapshot] | None:
        """``(seq, snapshot)`` of the last saved snapshot, or None. Rebuild = snapshot, then
        ``routing_events(after_seq=seq)``."""

    @abc.abstractmethod
    async def prune_routing_events(self, upto_seq: int) -> int:
        """Delete events with ``seq <= upto_seq`` (covered by a snapshot); returns how many.
        Seqs keep increasing after a prune."""

    # -- canned replies ------------------------------------------------------------------------

    @abc.abstractmethod
    async def create_canned(self, data: NewCannedReply) -> CannedReplyRecord:
        """Insert a canned reply (shape: `canned_record`). DuplicateError when its owner (see
        `canned_owner`) already has that shortcut, compared case-insensitively, or the id exists."""

    @abc.abstractmethod
    async def get_canned(self, reply_id: str) -> CannedReplyRecord | None:
        """The canned reply or None."""

    @abc.abstractmethod
    async def list_canned(self, owners: Iterable[str] | None = None) -> list[CannedReplyRecord]:
        """The canned replies of the given owner keys (`CANNED_PUBLIC`, `canned_team_owner`,
        `canned_user_owner`), or every one when ``owners`` is None; by shortcut
        (case-insensitive), then owner key."""

    @abc.abstractmethod
    async def update_canned(self, reply_id: str, /, **fields: Unpack[CannedFields]) -> CannedReplyRecord:
        """Merge ``fields``; NotFound if absent; DuplicateError if the (new) owner already has the
        (new) shortcut; ValueError if the scope is left without its team or owner."""

    @abc.abstractmethod
    async def delete_canned(self, reply_id: str) -> CannedReplyRecord:
        """Delete the canned reply and return it as it was; NotFound if absent."""

    # -- settings ------------------------------------------------------------------------------

    @abc.abstractmethod
    async def get_setting(self, key: str, default: Any = None) -> Any:
        """The JSON value stored under ``key``, or ``default``."""

    @abc.abstractmethod
    async def set_setting(self, key: str, value: Any) -> None:
        """Store a JSON-able ``value`` under ``key``, replacing any previous one."""

    # -- reports (运营报表; owned by the reports feature, desk/reports.py) ---------------------

    @abc.abstractmethod
    async def report_partials(self, since: float, until: float, group: ReportGroup,
                              sla_secs: Mapping[str, float], default_sla_secs: float,
                              agent_ids: Collection[str] | None = None) -> list[ReportPartial]:
        """Sums and counts (`ReportPartial`) of the sessions with ``since <= queued_at < until``
        (state ``bot`` left out: those never entered a queue), one per ``group`` key, in no
        particular order. Computed by the backend's own aggregation (SQL ``GROUP BY``, a
        MongoDB pipeline), through an index on ``queued_at``.

        Definitions (docs/protocol.md, reports): answered = ``accepted_at`` set; within the
        service level when ``accepted_at − queued_at <= sla_secs[skill]`` (``default_sla_secs``
        for a skill not listed); abandoned = not accepted, ended (closed or diverted) with a
        ``close_reason`` in `ABANDONED_REASONS`, after the service level when ``closed_at −
        queued_at > sla``; handle time over answered sessions that are closed; the first
        response is the first message with ``author: "agent"``; transfers = entries of
        ``transfers``; CSAT from ``csat.score``. ``agent_ids`` (a team's members) keeps only the
        sessions whose first agent is one of them (an empty collection keeps none)."""

    @abc.abstractmethod
    async def report_session_keys(self, since: float, until: float, group: ReportGroup,
                                  agent_ids: Collection[str] | None = None) -> list[tuple[str, str | None]]:
        """``(session_id, group key)`` of the answered, closed sessions ``report_partials``
        counts with the same arguments: the sessions a QA review can be about (qa_avg)."""

    @abc.abstractmethod
    async def append_agent_state(self, agent_id: str, state: AgentState, at: float) -> None:
        """The agent is in ``state`` from ``at`` on: end the agent's open interval at ``at``
        (cut into pieces of at most `AGENT_STATE_PIECE_SECS`, on multiples of it) and open a
        new one, atomically. A state equal to the open one changes nothing. Durable: the
        log is never pruned (the routing event log is; it cannot serve reports)."""

    @abc.abstractmethod
    async def agent_state_totals(self, since: float, until: float, now: float,
                                 agent_ids: Collection[str] | None = None) -> dict[str, dict[str, float]]:
        """``{agent_id: {state: seconds}}`` spent in each state within ``[since, until)``; an
        interval still open counts until ``min(now, until)``. ``agent_ids`` narrows it."""

    # -- QA (owned by the QA feature) ------------------------------------------------------------

    async def qa_totals_by_session(self, session_ids: Collection[str]) -> dict[str, list[float]]:
        """The totals (0–100) of the QA reviews of each of ``session_ids`` that has any. The QA
        feature's stores override this default, which knows no reviews."""
        return {}

    # -- leave-messages (留言, desk/leave_messages.py) -------------------------------------------

    @abc.abstractmethod
    async def list_leave_messages(self, states: Collection[SessionState] | None = None, skill: str | None = None,
                                  limit: int = 500, newest_first: bool = False) -> list[SessionRecord]:
        """Sessions that are leave-messages (their ``leave_message`` is set), oldest
        ``leave_message.created_at`` first (ties by id; ``newest_first`` the other way), whose
        state is one of ``states`` (all when None) and whose skill is ``skill`` (any when None);
        at most ``limit``."""
    # -- notifications (template messages, desk/notifications.py) ----------------------------

    @abc.abstractmethod
    async def add_notification(self, data: NewNotification) -> NotificationRecord:
        """Insert a notification (shape: `notification_record`); DuplicateError if the id exists."""

    @abc.abstractmethod
    async def update_notification(self, notification_id: str, /,
                                  **fields: Unpack[NotificationFields]) -> NotificationRecord:
        """Merge ``fields``; NotFound if absent; ``id``, ``openid`` and ``created_at`` are frozen."""

    @abc.abstractmethod
    async def get_notification(self, notification_id: str) -> NotificationRecord | None:
        """The notification or None."""

    @abc.abstractmethod
    async def list_notifications(self, openid: str | None = None, kind: str | None = None,
                                 created_by: str | None = None, limit: int = 50,
                                 offset: int = 0) -> list[NotificationRecord]:
        """Notifications newest first (``created_at``, then insertion order), each given filter
        equal. Every filter is indexed."""

    # -- the bot's answer usage (desk/bot_stats.py, 客服机器人) ---------------------------------

    @abc.abstractmethod
    async def count_bot_answer(self, answer_id: str, used: int = 0, handed_over: int = 0,
                               at: float | None = None) -> None:
        """Add ``used`` (the bot gave this answer) and ``handed_over`` (a session it was given in
        went on to a human) to the answer's counters, atomically (concurrent adds all count);
        ``at``, when given, is kept as ``last_used_at``."""

    @abc.abstractmethod
    async def bot_answer_counts(self) -> dict[str, BotAnswerCounts]:
        """Every answer's counters by answer id: ``{"used", "handed_over", "last_used_at"}``."""


# -- notifications (template messages, desk/notifications.py) --------------------------------------

def notification_record(data: NewNotification) -> NotificationRecord:
    """Shape of a notification: ``openid`` and ``template_id`` are required, status ``pending``
    until the WeChat call answers."""
    if not data.get("openid") or not data.get("template_id"):
        raise ValueError("a notification needs an openid and a template_id")
    rec: dict[str, Any] = {
        "id": None,  # filled below unless the caller gave one
        "openid": None,
        "template_id": None,
        "title": "",
        "kind": "",
        "data": {},
        "url": None,
        "status": "pending",
        "msgid": None,
        "error": None,
        "created_at": None,
        "created_by": None,
        "sent_at": None,
        "session_id": None,
        "message_id": None,
        "delivery": None,  # WeChat's delivery report (TEMPLATESENDJOBFINISH), None until it comes
        "delivery_at": None,
    }
    rec.update(copy_json(data))
    rec["id"] = rec["id"] or new_id()
    rec["created_at"] = _now(rec["created_at"])
    if rec["status"] not in NOTIFICATION_STATUSES:
        raise ValueError(f"unknown notification status {rec['status']!r}")
    return cast(NotificationRecord, rec)


# Fields that identify a notification or say when, by whom and for whom it was made.
NOTIFICATION_FROZEN = ("id", "openid", "template_id", "created_at", "created_by")
