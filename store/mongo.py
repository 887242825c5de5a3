"""The production store on MongoDB through pymongo's async API (``AsyncMongoClient``).

Durability. A store built from a URL uses write concern ``{w: "majority", j: true}`` for every
collection: a write is acknowledged only once a majority of the replica set has it in its
on-disk journal, so an acknowledged inbound message survives the loss of the primary and a
power cut ("acknowledged means stored"). That costs a round of replication per write; it is the
webhook's promise to WeChat, so it is not traded away. (A standalone server is a majority of
one: journaled write.) An injected database (tests, or a caller with its own options) is used
as given.

Layout. One collection per record kind; the record's id is the document ``_id`` (inbound:
the key, customers: the openid, routing events: the seq, settings: the key). Keys starting
with ``_`` are the store's own and are stripped from returned records: ``_n`` (an ObjectId,
the insertion-order tie-breaker where times are equal), ``_text`` (lowercased message text,
for search), ``_username_key`` (case-folded username, unique index), ``_owner`` and
``_shortcut_key`` (a canned reply's owner key and case-folded shortcut, unique together), ``_name_key`` (a team's
name as `team_name_key` folds it, unique index), ``_expire`` (revoked
tokens: a date with a TTL index, so MongoDB forgets a revocation once the token has expired).
Every query has an index, created (idempotently) in `open()`.

Counters. Message ``seq`` per session and routing-event ``seq`` come from
``find_one_and_update({_id: name}, {$inc: {seq: n}}, upsert, AFTER)`` on ``counters``: atomic
across processes. A message insert that fails after taking a number (duplicate id) leaves a
gap; the sequence stays increasing.

Text search: a substring regex over ``_text``. MongoDB's ``$text`` index splits on whitespace
and so cannot find 退款 inside 我想退款 (Chinese has no spaces), and mongomock does not implement
it; the other criteria (openid, agent, skill, time) are applied to sessions through indexes and
the regex only runs over messages. At scale, Atlas Search with an n-gram analyzer is the
replacement.
"""

from __future__ import annotations

import datetime
import json
import re
import time
from collections.abc import Collection, Iterable, Mapping
from typing import Any, Unpack
from urllib.parse import unquote, urlsplit

from bson import ObjectId
from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.errors import DuplicateKeyError
from pymongo.write_concern import WriteConcern

from . import mongo_reports
from .agent_states import pieces
from .base import (
    NOTIFICATION_FROZEN,
    DuplicateError,
    NotFound,
    Store,
    audit_record,
    canned_owner,
    canned_record,
    canned_shortcut_key,
    check_update,
    customer_record,
    inbound_record,
    message_record,
    notification_record,
    session_record,
    team_name_key,
    team_record,
    user_record,
    username_key,
)
from .records import (
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

DEFAULT_DATABASE = "kefu"
# A server that does not answer a ping within this long is reported down by /healthz.
PING_TIMEOUT_MS = 2000


def database_name(url: str) -> str:
    """The database named by the path of a ``mongodb://`` URL, else ``kefu``."""
    path = unquote(urlsplit(url).path.lstrip("/"))
    return path or DEFAULT_DATABASE


def _clean(doc: dict[str, Any]) -> Any:
    """A stored document as a record: without ``_id`` and the store's ``_`` fields. `Any`: the
    caller knows which kind of record it read (its return type says)."""
    return {k: v for k, v in doc.items() if not k.startswith("_")}


def _clean_or_none(doc: dict[str, Any] | None) -> Any:
    return None if doc is None else _clean(doc)


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _expire_date(expires_at: float) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(expires_at, tz=datetime.UTC)


class MongoStore(Store):
    """`Store` on a MongoDB database.

    ``MongoStore(url="mongodb://…/db")`` builds its own ``AsyncMongoClient`` in `open()` (inside
    the running loop) and closes it in `close()`. ``MongoStore(db=database)`` uses an injected
    async database object (pymongo's ``AsyncDatabase`` or a test double with the same call
    shapes) and leaves its client alone. ``db_name`` overrides the URL's database.
    """

    def __init__(self, url: str | None = None, db_name: str | None = None, *, db: Any = None) -> None:
        if (url is None) == (db is None):
            raise ValueError("MongoStore needs exactly one of url= or db=")
        self.url = url
        self.db_name = db_name or (database_name(url) if url else None)
        self.db = db
        self.client: Any = None

    # -- lifecycle -----------------------------------------------------------------------------

    async def open(self) -> None:
        if self.url is not None and self.client is None:
            from pymongo import AsyncMongoClient

            self.client = AsyncMongoClient(self.url, serverSelectionTimeoutMS=10_000)
            self.db = self.client.get_database(
                self.db_name, write_concern=WriteConcern(w="majority", j=True))
        await self._create_indexes()
        await mongo_reports.create_indexes(self.db)  # reports (store/mongo_reports.py)

    async def _create_indexes(self) -> None:
        db = self.db
        await db.inbound.create_index([("processed", ASCENDING), ("received_at", ASCENDING),
                                       ("_n", ASCENDING)], name="unprocessed")
        for name, keys in [
            ("openid", [("openid", ASCENDING), ("created_at", DESCENDING)]),
            ("agent", [("agent_id", ASCENDING), ("created_at", DESCENDING)]),
            ("agents", [("agents", ASCENDING), ("created_at", DESCENDING)]),
            # has_served: "did this agent hold a session of this customer?" on every agent read
            ("served_current", [("agent_id", ASCENDING), ("openid", ASCENDING)]),
            ("served", [("agents", ASCENDING), ("openid", ASCENDING)]),
            ("skill", [("skill", ASCENDING), ("created_at", DESCENDING)]),
            ("created", [("created_at", DESCENDING), ("_n", DESCENDING)]),
            ("state", [("state", ASCENDING), ("queued_at", ASCENDING)]),
        ]:
            await db.sessions.create_index(keys, name=name)
        await db.messages.create_index([("session_id", ASCENDING), ("seq", ASCENDING)],
                                       name="session_seq", unique=True)
        await db.messages.create_index([("openid", ASCENDING), ("ts", DESCENDING)], name="openid")
        await db.users.create_index("_username_key", name="username", unique=True)
        await db.teams.create_index("_name_key", name="name", unique=True)
        await db.revoked_tokens.create_index("_expire", name="ttl", expireAfterSeconds=0)
        await db.revoked_tokens.create_index("expires_at", name="expires_at")
        await db.audit.create_index([("ts", DESCENDING), ("_n", DESCENDING)], name="ts")
        await db.audit.create_index([("actor_id", ASCENDING), ("ts", DESCENDING)], name="actor")
        await db.audit.create_index([("session_id", ASCENDING), ("ts", DESCENDING)], name="session")
        await db.canned.create_index([("_owner", ASCENDING), ("_shortcut_key", ASCENDING)],
                                     name="owner_shortcut", unique=True)
        await db.audit.create_index([("action", ASCENDING), ("ts", DESCENDING)], name="action")
        await db.audit.create_index([("target", ASCENDING), ("ts", DESCENDING)], name="target")
        # Leave-messages (留言): only the sessions that are one, oldest first.
        await db.sessions.create_index([("leave_message.created_at", ASCENDING), ("_id", ASCENDING)],
                                       name="leave_message",
                                       partialFilterExpression={"leave_message.created_at": {"$exists": True}})
        # notifications (desk/notifications.py): by customer, kind and sender, newest first
        for field in ("openid", "kind", "created_by"):
            await db.notifications.create_index([(field, ASCENDING), ("created_at", DESCENDING), ("_n", DESCENDING)],
                                                name=field)
        await db.notifications.create_index([("created_at", DESCENDING), ("_n", DESCENDING)], name="created_at")

    async def close(self) -> None:
        # Every write was acknowledged under the write concern before its await returned:
        # nothing is pending. Only a client we built is ours to close.
        if self.client is not None:
            client, self.client = self.client, None
            await client.close()

    async def drop_database(self) -> None:
        """Drop the whole database (tests against a real server clean up with this)."""
        if self.client is not None:
            await self.client.drop_database(self.db_name)
        else:
            for name in await self.db.list_collection_names():
                await self.db.drop_collection(name)

    async def ping(self) -> bool:
        try:
            reply = await self.db.command("ping", maxTimeMS=PING_TIMEOUT_MS)
            return bool(reply.get("ok"))
        except Exception:
            return False

    async def flush(self) -> None:
        return None  # writes are durable when acknowledged (see the module docstring)

    async def _next_seq(self, name: str, n: int = 1) -> int:
        """Reserve ``n`` numbers of counter ``name`` atomically; returns the last one."""
        doc = await self.db.counters.find_one_and_update(
            {"_id": name}, {"$inc": {"seq": n}}, upsert=True, return_document=ReturnDocument.AFTER)
        return doc["seq"]

    async def _update(self, collection: str, key: Any, fields: Mapping[str, Any], what: str,
                      extra: dict[str, Any] | None = None) -> Any:
        changes = dict(fields, **(extra or {}))
        if not changes:
            doc = await self.db[collection].find_one({"_id": key})
        else:
            doc = await self.db[collection].find_one_and_update(
                {"_id": key}, {"$set": changes}, return_document=ReturnDocument.AFTER)
        if doc is None:
            raise NotFound(f"no {what} {key!r}")
        return _clean(doc)

    # -- inbound -------------------------------------------------------------------------------

    async def put_inbound(self, key: str, openid: str, message: JSONObject,
                          received_at: float) -> tuple[bool, InboundRecord]:
        rec = inbound_record(key, openid, message, received_at)
        try:
            await self.db.inbound.insert_one(dict(rec, _id=key, _n=ObjectId()))
            return True, rec
        except DuplicateKeyError:
            existing = await self.db.inbound.find_one({"_id": key})
            if existing is None:  # only if someone deleted it in between
                raise
            return False, _clean(existing)

    async def set_inbound_result(self, key: str, reply: str | None,
                                 session_id: str | None) -> InboundRecord:
        return await self._update("inbound", key, {"reply": reply, "session_id": session_id},
                                  "inbound message")

    async def get_inbound(self, key: str) -> InboundRecord | None:
        return _clean_or_none(await self.db.inbound.find_one({"_id": key}))

    async def mark_inbound_processed(self, key: str, session_id: str | None = None,
                                     processed_at: float | None = None) -> InboundRecord:
        changes: dict[str, Any] = {"processed": True,
                                   "processed_at": time.time() if processed_at is None else processed_at}
        if session_id is not None:
            changes["session_id"] = session_id
        return await self._update("inbound", key, changes, "inbound message")

    async def unprocessed_inbound(self, limit: int = 1000) -> list[InboundRecord]:
        cursor = self.db.inbound.find({"processed": False}).sort(
            [("received_at", ASCENDING), ("_n", ASCENDING)]).limit(max(1, limit))
        return [_clean(d) for d in await cursor.to_list()]

    # -- customers -----------------------------------------------------------------------------

    async def upsert_customer(self, openid: str, /, seen_at: float | None = None,
                              **fields: Unpack[CustomerFields]) -> CustomerRecord:
        seen = time.time() if seen_at is None else float(seen_at)
        fields = check_update("customer", fields, ("openid",))
        fields.pop("last_seen", None)  # last_seen only moves forward, through $max
        defaults = customer_record(openid, seen, {})
        on_insert = {k: v for k, v in defaults.items()
                     if k not in fields and k not in ("last_seen", "openid")}
        update: dict[str, Any] = {"$setOnInsert": on_insert, "$max": {"last_seen": seen},
                                  "$set": dict(fields, openid=openid)}
        for attempt in range(2):  # two first messages at once: one upsert inserts, one retries
            try:
                doc = await self.db.customers.find_one_and_update(
                    {"_id": openid}, update, upsert=True, return_document=ReturnDocument.AFTER)
                return _clean(doc)
            except DuplicateKeyError:
                if attempt:
                    raise
        raise AssertionError("unreachable")

    async def get_customer(self, openid: str) -> CustomerRecord | None:
        return _clean_or_none(await self.db.customers.find_one({"_id": openid}))

    async def update_customer(self, openid: str, /, **fields: Unpack[CustomerFields]) -> CustomerRecord:
        fields = check_update("customer", fields, ("openid",))
        return await self._update("customers", openid, fields, "customer")

    async def get_customers(self, openids: Iterable[str]) -> dict[str, CustomerRecord]:
        wanted = list(dict.fromkeys(openids))
        if not wanted:
            return {}
        docs = await self.db.customers.find({"_id": {"$in": wanted}}).to_list()
        return {doc["_id"]: _clean(doc) for doc in docs}

    # -- sessions ------------------------------------------------------------------------------

    async def create_session(self, data: NewSession) -> SessionRecord:
        rec = session_record(data)
        try:
            await self.db.sessions.insert_one(dict(rec, _id=rec["id"], _n=ObjectId()))
        except DuplicateKeyError as exc:
            raise DuplicateError(f"session {rec['id']!r} exists") from exc
        return rec

    async def update_session(self, session_id: str, /, **fields: Unpack[SessionFields]) -> SessionRecord:
        fields = check_update("session", fields, ("id",))
        return await self._update("sessions", session_id, fields, "session")

    async def get_session(self, session_id: str) -> SessionRecord | None:
        return _clean_or_none(await self.db.sessions.find_one({"_id": session_id}))

    async def open_session_for_customer(self, openid: str) -> SessionRecord | None:
        docs = await self.db.sessions.find(
            {"openid": openid, "state": {"$in": list(OPEN_STATES)}}).sort(
            [("created_at", DESCENDING), ("_n", DESCENDING)]).limit(1).to_list()
        return _clean(docs[0]) if docs else None

    async def list_open_sessions(self) -> list[SessionRecord]:
        docs = await self.db.sessions.find({"state": {"$in": list(OPEN_STATES)}}).sort(
            [("queued_at", ASCENDING), ("created_at", ASCENDING), ("_n", ASCENDING)]).to_list()
        return [_clean(d) for d in docs]

    async def customer_sessions(self, openid: str, limit: int = 20) -> list[SessionRecord]:
        if limit <= 0:
            return []
        docs = await self.db.sessions.find({"openid": openid}).sort(
            [("created_at", DESCENDING), ("_n", DESCENDING)]).limit(limit).to_list()
        return [_clean(d) for d in docs]

    async def search_sessions(self, openid: str | None = None, agent_id: str | None = None,
                              skill: str | None = None, since: float | None = None,
                              until: float | None = None, text: str | None = None,
                              limit: int = 50, offset: int = 0,
                              agent_ids: Collection[str] | None = None) -> tuple[int, list[SessionRecord]]:
        query: dict[str, Any] = {}
        if openid is not None:
            query["openid"] = openid
        if agent_id is not None:
            query["$or"] = [{"agent_id": agent_id}, {"agents": agent_id}]
        if agent_ids is not None:
            ids = sorted(agent_ids)
            query.setdefault("$and", []).append({"$or": [{"agent_id": {"$in": ids}}, {"agents": {"$in": ids}}]})
        if skill is not None:
            query["skill"] = skill
        if since is not None or until is not None:
            query["created_at"] = {}
            if since is not None:
                query["created_at"]["$gte"] = since
            if until is not None:
                query["created_at"]["$lt"] = until
        if text is not None and text.strip():
            msg_query: dict[str, Any] = {"_text": {"$regex": re.escape(text.lower())}}
            if openid is not None:
                msg_query["openid"] = openid
            query["_id"] = {"$in": await self.db.messages.distinct("session_id", msg_query)}
        total = await self.db.sessions.count_documents(query)
        if limit <= 0 or offset >= total:
            return total, []
        docs = await self.db.sessions.find(query).sort(
            [("created_at", DESCENDING), ("_n", DESCENDING)]).skip(max(0, offset)).limit(limit).to_list()
        return total, [_clean(d) for d in docs]

    async def has_served(self, agent_id: str, openid: str) -> bool:
        found = await self.db.sessions.find_one(
            {"openid": openid, "$or": [{"agent_id": agent_id}, {"agents": agent_id}]}, {"_id": 1})
        return found is not None

    async def count_sessions_by_state(self) -> dict[SessionState, int]:
        cursor = await self.db.sessions.aggregate([{"$group": {"_id": "$state", "n": {"$sum": 1}}}])
        counts = dict.fromkeys(SESSION_STATES, 0)
        counts.update({d["_id"]: d["n"] for d in await cursor.to_list()})
        return counts

    # -- messages ------------------------------------------------------------------------------

    async def add_message(self, data: NewMessage) -> MessageRecord:
        rec = message_record(data)
        if await self.db.messages.find_one({"_id": rec["id"]}, {"_id": 1}) is not None:
            raise DuplicateError(f"message {rec['id']!r} exists")  # before taking a seq
        rec["seq"] = await self._next_seq(f"messages:{rec['session_id']}")
        doc = dict(rec, _id=rec["id"], _n=ObjectId(), _text=(rec["text"] or "").lower())
        try:
            await self.db.messages.insert_one(doc)
        except DuplicateKeyError as exc:
            raise DuplicateError(f"message {rec['id']!r} exists") from exc
        return rec

    async def update_message(self, message_id: str, /, **fields: Unpack[MessageFields]) -> MessageRecord:
        fields = check_update("message", fields, ("id", "session_id", "seq", "client_id"))
        extra = {"_text": (fields["text"] or "").lower()} if "text" in fields else None
        return await self._update("messages", message_id, fields, "message", extra)

    async def get_message(self, message_id: str) -> MessageRecord | None:
        return _clean_or_none(await self.db.messages.find_one({"_id": message_id}))

    async def session_messages(self, session_id: str, after_seq: int = 0) -> list[MessageRecord]:
        docs = await self.db.messages.find(
            {"session_id": session_id, "seq": {"$gt": after_seq}}).sort("seq", ASCENDING).to_list()
        return [_clean(d) for d in docs]

    async def customer_messages(self, openid: str, limit: int = 100) -> list[MessageRecord]:
        if limit <= 0:
            return []
        docs = await self.db.messages.find({"openid": openid}).sort(
            [("ts", DESCENDING), ("_n", DESCENDING)]).limit(limit).to_list()
        return [_clean(d) for d in reversed(docs)]

    # -- users ---------------------------------------------------------------------------------

    async def create_user(self, data: NewUser) -> UserRecord:
        rec = user_record(data)
        try:
            await self.db.users.insert_one(
                dict(rec, _id=rec["id"], _username_key=username_key(rec["username"])))
        except DuplicateKeyError as exc:
            raise DuplicateError(f"username {rec['username']!r} or id exists") from exc
        return rec

    async def get_user(self, user_id: str) -> UserRecord | None:
        return _clean_or_none(await self.db.users.find_one({"_id": user_id}))

    async def get_user_by_username(self, username: str) -> UserRecord | None:
        return _clean_or_none(await self.db.users.find_one({"_username_key": username_key(username)}))

    async def list_users(self) -> list[UserRecord]:
        docs = await self.db.users.find({}).sort("_username_key", ASCENDING).to_list()
        return [_clean(d) for d in docs]

    async def update_user(self, user_id: str, /, **fields: Unpack[UserFields]) -> UserRecord:
        fields = check_update("user", fields, ("id",))
        extra = None
        if "username" in fields:
            if not fields["username"]:
                raise ValueError("a user needs a username")
            extra = {"_username_key": username_key(fields["username"])}
        try:
            return await self._update("users", user_id, fields, "user", extra)
        except DuplicateKeyError as exc:
            raise DuplicateError(f"username {fields.get('username')!r} exists") from exc

    # -- teams ---------------------------------------------------------------------------------

    async def create_team(self, data: NewTeam) -> TeamRecord:
        rec = team_record(data)
        try:
            await self.db.teams.insert_one(dict(rec, _id=rec["id"], _name_key=team_name_key(rec["name"])))
        except DuplicateKeyError as exc:
            raise DuplicateError(f"team {rec['name']!r} or id exists") from exc
        return rec

    async def get_team(self, team_id: str) -> TeamRecord | None:
        return _clean_or_none(await self.db.teams.find_one({"_id": team_id}))

    async def list_teams(self) -> list[TeamRecord]:
        docs = await self.db.teams.find({}).sort("_name_key", ASCENDING).to_list()
        return [_clean(d) for d in docs]

    async def update_team(self, team_id: str, /, **fields: Unpack[TeamFields]) -> TeamRecord:
        fields = check_update("team", fields, ("id",))
        extra = None
        if "name" in fields:
            if not fields["name"]:
                raise ValueError("a team needs a name")
            extra = {"_name_key": team_name_key(fields["name"])}
        try:
            return await self._update("teams", team_id, fields, "team", extra)
        except DuplicateKeyError as exc:
            raise DuplicateError(f"team {fields.get('name')!r} exists") from exc

    async def delete_team(self, team_id: str) -> None:
        result = await self.db.teams.delete_one({"_id": team_id})
        if not result.deleted_count:
            raise NotFound(f"no team {team_id!r}")

    # -- revoked tokens ------------------------------------------------------------------------

    async def revoke_token(self, jti: str, expires_at: float) -> None:
        expires_at = float(expires_at)
        for attempt in range(2):  # concurrent revocations of one jti: one upsert retries
            try:
                await self.db.revoked_tokens.update_one(
                    {"_id": jti},
                    {"$max": {"expires_at": expires_at, "_expire": _expire_date(expires_at)}},
                    upsert=True)
                return
            except DuplicateKeyError:
                if attempt:
                    raise

    async def is_token_revoked(self, jti: str) -> bool:
        return await self.db.revoked_tokens.find_one({"_id": jti}, {"_id": 1}) is not None

    async def purge_revoked_tokens(self, now: float | None = None) -> int:
        cutoff = time.time() if now is None else now
        result = await self.db.revoked_tokens.delete_many({"expires_at": {"$lt": cutoff}})
        return result.deleted_count

    # -- audit ---------------------------------------------------------------------------------

    async def add_audit(self, data: NewAuditEntry) -> AuditEntry:
        rec = audit_record(data)
        await self.db.audit.insert_one(dict(rec, _id=rec["id"], _n=ObjectId()))
        return rec

    async def list_audit(self, limit: int = 50, offset: int = 0, actor_id: str | None = None,
                         session_id: str | None = None, action: str | None = None,
                         target: str | None = None, since: float | None = None,
                         until: float | None = None) -> list[AuditEntry]:
        if limit <= 0:
            return []
        query: dict[str, Any] = {}
        for name, value in (("actor_id", actor_id), ("session_id", session_id), ("action", action),
                            ("target", target)):
            if value is not None:
                query[name] = value
        span: dict[str, float] = {}
        if since is not None:
            span["$gte"] = since
        if until is not None:
            span["$lt"] = until
        if span:
            query["ts"] = span
        docs = await self.db.audit.find(query).sort(
            [("ts", DESCENDING), ("_n", DESCENDING)]).skip(max(0, offset)).limit(limit).to_list()
        return [_clean(d) for d in docs]

    # -- routing event log -------------------------------------------------------------------

    async def append_routing_events(self, events: list[RoutingEvent]) -> list[int]:
        if not events:
            return []
        last = await self._next_seq("routing_events", len(events))
        seqs = list(range(last - len(events) + 1, last + 1))
        docs = [dict({k: v for k, v in e.items() if k != "seq"}, _id=seq)
                for seq, e in zip(seqs, events, strict=True)]
        await self.db.routing_events.insert_many(docs, ordered=True)
        return seqs

    async def routing_events(self, after_seq: int = 0) -> list[RoutingEvent]:
        docs = await self.db.routing_events.find({"_id": {"$gt": after_seq}}).sort(
            "_id", ASCENDING).to_list()
        return [dict(_clean(d), seq=d["_id"]) for d in docs]

    async def save_routing_snapshot(self, seq: int, snapshot: RoutingSnapshot) -> None:
        # Opaque blobs (snapshot, settings) are stored as JSON text: their keys are the desk's
        # data and may hold characters MongoDB treats specially ("$", ".").
        await self.db.routing_snapshot.replace_one(
            {"_id": 1}, {"_id": 1, "seq": int(seq), "json": _dumps(snapshot)}, upsert=True)

    async def load_routing_snapshot(self) -> tuple[int, RoutingSnapshot] | None:
        doc = await self.db.routing_snapshot.find_one({"_id": 1})
        return None if doc is None else (doc["seq"], json.loads(doc["json"]))

    async def prune_routing_events(self, upto_seq: int) -> int:
        result = await self.db.routing_events.delete_many({"_id": {"$lte": upto_seq}})
        return result.deleted_count

    # -- canned replies ------------------------------------------------------------------------

    async def create_canned(self, data: NewCannedReply) -> CannedReplyRecord:
        rec = canned_record(data)
        owner = canned_owner(rec)
        try:
            await self.db.canned.insert_one(
                dict(rec, _id=rec["id"], _owner=owner, _shortcut_key=canned_shortcut_key(rec["shortcut"])))
        except DuplicateKeyError as exc:
            raise DuplicateError(f"shortcut {rec['shortcut']!r} exists for {owner} (or the id exists)") from exc
        return rec

    async def get_canned(self, reply_id: str) -> CannedReplyRecord | None:
        return _clean_or_none(await self.db.canned.find_one({"_id": reply_id}))

    async def list_canned(self, owners: Iterable[str] | None = None) -> list[CannedReplyRecord]:
        query: dict[str, Any] = {}
        if owners is not None:
            keys = list(dict.fromkeys(owners))
            if not keys:
                return []
            query["_owner"] = {"$in": keys}
        docs = await self.db.canned.find(query).sort(
            [("_shortcut_key", ASCENDING), ("_owner", ASCENDING)]).to_list()
        return [_clean(d) for d in docs]

    async def update_canned(self, reply_id: str, /, **fields: Unpack[CannedFields]) -> CannedReplyRecord:
        fields = check_update("canned reply", fields, ("id",))
        current = await self.db.canned.find_one({"_id": reply_id})
        if current is None:
            raise NotFound(f"no canned reply {reply_id!r}")
        merged = dict(_clean(current), **fields)
        # The owner and shortcut keys follow the merged record; the unique index refuses a
        # collision atomically, also against a concurrent writer.
        extra = {"_owner": canned_owner(merged), "_shortcut_key": canned_shortcut_key(merged["shortcut"])}
        try:
            return await self._update("canned", reply_id, fields, "canned reply", extra)
        except DuplicateKeyError as exc:
            raise DuplicateError(f"shortcut {merged['shortcut']!r} exists for {extra['_owner']}") from exc

    async def delete_canned(self, reply_id: str) -> CannedReplyRecord:
        doc = await self.db.canned.find_one_and_delete({"_id": reply_id})
        if doc is None:
            raise NotFound(f"no canned reply {reply_id!r}")
        return _clean(doc)

    # -- settings ------------------------------------------------------------------------------

    async def get_setting(self, key: str, default: Any = None) -> Any:
        doc = await self.db.settings.find_one({"_id": key})
        return default if doc is None else json.loads(doc["json"])

    async def set_setting(self, key: str, value: Any) -> None:
        await self.db.settings.replace_one({"_id": key}, {"_id": key, "json": _dumps(value)}, upsert=True)

    # -- leave-messages (留言, desk/leave_messages.py) -------------------------------------------

    async def list_leave_messages(self, states: Collection[SessionState] | None = None, skill: str | None = None,
                                  limit: int = 500, newest_first: bool = False) -> list[SessionRecord]:
        query: dict[str, Any] = {"leave_message.created_at": {"$exists": True, "$ne": None}}
        if states is not None:
            query["state"] = {"$in": list(dict.fromkeys(states))}
        if skill is not None:
            query["skill"] = skill
        if limit <= 0:
            return []
        order = DESCENDING if newest_first else ASCENDING
        docs = await self.db.sessions.find(query).sort(
            [("leave_message.created_at", order), ("_id", order)]).limit(int(limit)).to_list(None)
        return [_clean(d) for d in docs]
    # -- reports (运营报表; pipelines in store/mongo_reports.py) ---------------------------------

    async def report_partials(self, since: float, until: float, group: ReportGroup,
                              sla_secs: Mapping[str, float], default_sla_secs: float,
                              agent_ids: Collection[str] | None = None) -> list[ReportPartial]:
        pipeline = mongo_reports.partials_pipeline(since, until, group, sla_secs, default_sla_secs, agent_ids)
        cursor = await self.db.sessions.aggregate(pipeline)
        return [mongo_reports.partial_of(doc, group) async for doc in cursor]

    async def report_session_keys(self, since: float, until: float, group: ReportGroup,
                                  agent_ids: Collection[str] | None = None) -> list[tuple[str, str | None]]:
        cursor = self.db.sessions.find(mongo_reports.session_keys_query(since, until, agent_ids),
                                       {"_id": 1, "skill": 1, "agents": 1, "queued_at": 1})
        return [(doc["_id"], mongo_reports.session_key(doc, group)) async for doc in cursor]

    async def append_agent_state(self, agent_id: str, state: AgentState, at: float) -> None:
        at = float(at)
        current = await self.db.agent_states.find_one({"agent_id": agent_id, "open": True})
        if current is not None:
            if current["state"] == state:
                return
            parts = pieces(float(current["start_at"]), max(at, float(current["start_at"])))
            # The open document becomes the first piece in one atomic update, then the other
            # pieces and the new open interval follow: a crash in between loses at most that
            # stretch of time, and never counts any twice.
            await self.db.agent_states.update_one({"_id": current["_id"]},
                                                  {"$set": {"end_at": parts[0][1]}, "$unset": {"open": ""}})
            if parts[1:]:
                await self.db.agent_states.insert_many([
                    {"agent_id": agent_id, "state": current["state"], "start_at": a, "end_at": b}
                    for a, b in parts[1:]])
        await self.db.agent_states.insert_one({"agent_id": agent_id, "state": state, "start_at": at,
                                               "end_at": None, "open": True})

    async def agent_state_totals(self, since: float, until: float, now: float,
                                 agent_ids: Collection[str] | None = None) -> dict[str, dict[str, float]]:
        cursor = await self.db.agent_states.aggregate(
            mongo_reports.state_totals_pipeline(since, until, now, agent_ids))
        out: dict[str, dict[str, float]] = {}
        async for doc in cursor:
            out.setdefault(doc["_id"]["agent_id"], {})[doc["_id"]["state"]] = float(doc["secs"])
        return out

    # -- notifications (template messages, desk/notifications.py) ----------------------------

    async def add_notification(self, data: NewNotification) -> NotificationRecord:
        rec = notification_record(data)
        try:
            await self.db.notifications.insert_one(dict(rec, _id=rec["id"], _n=ObjectId()))
        except DuplicateKeyError as exc:
            raise DuplicateError(f"notification {rec['id']!r} exists") from exc
        return rec

    async def update_notification(self, notification_id: str, /,
                                  **fields: Unpack[NotificationFields]) -> NotificationRecord:
        changes = check_update("notification", fields, NOTIFICATION_FROZEN)
        result: NotificationRecord = await self._update("notifications", notification_id, changes, "notification")
        return result

    async def get_notification(self, notification_id: str) -> NotificationRecord | None:
        return _clean_or_none(await self.db.notifications.find_one({"_id": notification_id}))

    async def list_notifications(self, openid: str | None = None, kind: str | None = None,
                                 created_by: str | None = None, limit: int = 50,
                                 offset: int = 0) -> list[NotificationRecord]:
        if limit <= 0:
            return []
        query = {name: value for name, value in (("openid", openid), ("kind", kind), ("created_by", created_by))
                 if value is not None}
        docs = await self.db.notifications.find(query).sort(
            [("created_at", DESCENDING), ("_n", DESCENDING)]).skip(max(0, offset)).limit(limit).to_list()
        return [_clean(d) for d in docs]
    # -- the bot's answer usage (desk/bot_stats.py) --------------------------------------------

    async def count_bot_answer(self, answer_id: str, used: int = 0, handed_over: int = 0,
                               at: float | None = None) -> None:
        # $inc with upsert: atomic, concurrent counts all land; $max keeps the latest use.
        update: dict[str, Any] = {"$inc": {"used": int(used), "handed_over": int(handed_over)}}
        if at is not None:
            update["$max"] = {"last_used_at": float(at)}
        await self.db.bot_answer_stats.update_one({"_id": answer_id}, update, upsert=True)

    async def bot_answer_counts(self) -> dict[str, BotAnswerCounts]:
        docs = await self.db.bot_answer_stats.find({}).to_list()
        return {d["_id"]: {"used": int(d.get("used", 0)), "handed_over": int(d.get("handed_over", 0)),
                           "last_used_at": d.get("last_used_at")} for d in docs}
