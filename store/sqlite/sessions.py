"""Sessions on SQLite: the records, who served them (``session_agents``), search, and three
write-through caches the desk's per-message lookups are answered from.

The caches hold committed JSON text by session id, each customer's open session and each
customer's latest session. A lookup that has to read marks its entry with a unique "?n" token
first and fills it only if the token is unchanged when the read returns: a write that completed
meanwhile is newer than what the read found.
"""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Callable, Collection
from typing import Any

from ..base import NotFound, check_update, session_record
from ..records import OPEN_STATES, SESSION_STATES, NewSession, SessionFields, SessionRecord, SessionState
from .cache import DocCache
from .codec import dumps, loads
from .reader import Reader
from .writer import Writer

_UNKNOWN = "?"  # in the open/latest-session caches: look it up
_NONE = "-"  # in the open/latest-session caches: the customer has none

_OPEN_MARKS = ",".join("?" * len(OPEN_STATES))


def _fts_query(text: str) -> str:
    """A FTS5 phrase matching ``text`` literally."""
    return '"' + text.replace('"', '""') + '"'


def _like_pattern(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _columns(rec: SessionRecord) -> tuple[Any, ...]:
    return (rec["openid"], rec["agent_id"], rec["skill"], rec["state"], rec["created_at"],
            rec["queued_at"], dumps(rec), rec["id"])


def _sync_agents(conn: sqlite3.Connection, rec: SessionRecord) -> None:
    agents = set(rec.get("agents") or [])
    agent = rec.get("agent_id")
    if agent:
        agents.add(agent)
    conn.executemany("INSERT OR IGNORE INTO session_agents (session_id, agent_id, openid) VALUES (?, ?, ?)",
                     [(rec["id"], a, rec["openid"]) for a in agents])


def update_op(session_id: str, fields: SessionFields) -> Callable[[sqlite3.Connection], SessionRecord]:
    """Merge ``fields`` into the session (NotFound if absent); the updated record."""
    fields = check_update("session", fields, ("id",))

    def op(conn: sqlite3.Connection) -> SessionRecord:
        row = conn.execute("SELECT doc FROM sessions WHERE id = ?", (session_id,)).fetchone()
        if row is None:
            raise NotFound(f"no session {session_id!r}")
        rec: SessionRecord = loads(row[0])
        rec.update(fields)
        conn.execute(
            "UPDATE sessions SET openid = ?, agent_id = ?, skill = ?, state = ?, created_at = ?, "
            "queued_at = ?, doc = ? WHERE id = ?", _columns(rec))
        _sync_agents(conn, rec)
        return rec

    return op


def read_op(session_id: str) -> Callable[[sqlite3.Connection], SessionRecord]:
    """The session, read inside a write transaction (NotFound if absent)."""
    def op(conn: sqlite3.Connection) -> SessionRecord:
        row = conn.execute("SELECT doc FROM sessions WHERE id = ?", (session_id,)).fetchone()
        if row is None:
            raise NotFound(f"no session {session_id!r}")
        rec: SessionRecord = loads(row[0])
        return rec

    return op


class Sessions:
    def __init__(self, writer: Writer, reader: Reader, cache_records: int) -> None:
        self._writer = writer
        self._reader = reader
        self.fts = False  # messages have the FTS5 trigram index (set once the file is open)
        self._docs = DocCache(cache_records)  # session id -> committed JSON text
        self._open_of = DocCache(cache_records)  # openid -> open session id, _NONE or _UNKNOWN
        # openid -> id of the customer's latest session (what ``customer_sessions(limit=1)``
        # answers), or a unique "?n" token: look it up, and fill only if the token is unchanged.
        self._latest_of = DocCache(cache_records)
        self._lookups = itertools.count()

    # -- writes --------------------------------------------------------------------------------

    async def create(self, data: NewSession) -> SessionRecord:
        rec = session_record(data)

        def op(conn: sqlite3.Connection) -> SessionRecord:
            conn.execute(
                "INSERT INTO sessions (openid, agent_id, skill, state, created_at, queued_at, doc, id) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", _columns(rec))
            _sync_agents(conn, rec)
            return rec

        stored = await self._writer.write(op)
        self.written(stored)
        self._latest_created(stored)
        return stored

    async def update(self, session_id: str, fields: SessionFields) -> SessionRecord:
        stored = await self._writer.write(update_op(session_id, fields))
        self.written(stored)
        return stored

    def _latest_created(self, rec: SessionRecord) -> None:
        latest = self._latest_of.get(rec["openid"])
        previous = self._docs.get(latest) if latest and not latest.startswith(_UNKNOWN) else None
        if previous is not None and rec["created_at"] >= loads(previous)["created_at"]:
            self._latest_of.put(rec["openid"], rec["id"])
        else:  # created with an older time (recovery), or not known: the next lookup reads
            self._latest_of.put(rec["openid"], f"{_UNKNOWN}{next(self._lookups)}")

    def written(self, rec: SessionRecord) -> None:
        """Keep the session caches in step with a committed session record."""
        self._docs.put(rec["id"], dumps(rec))
        if rec["state"] in OPEN_STATES:
            self._open_of.put(rec["openid"], rec["id"])
        elif self._open_of.get(rec["openid"]) == rec["id"]:
            # Closed: forget, and let the next lookup read (another open session may exist).
            self._open_of.put(rec["openid"], _UNKNOWN)

    # -- reads ---------------------------------------------------------------------------------

    async def get(self, session_id: str) -> SessionRecord | None:
        cached = self._docs.get(session_id)
        if cached is not None:
            return loads(cached)
        row = await self._reader.read(lambda c: c.execute(
            "SELECT doc FROM sessions WHERE id = ?", (session_id,)).fetchone())
        if row is None:
            return None
        self._docs.fill(session_id, row[0])
        return loads(row[0])

    async def open_for_customer(self, openid: str) -> SessionRecord | None:
        known = self._open_of.get(openid)
        if known is not None and known != _UNKNOWN:
            if known == _NONE:
                return None
            cached = self._docs.get(known)
            if cached is not None:
                rec: SessionRecord = loads(cached)
                if rec["state"] in OPEN_STATES:
                    return rec
        row = await self._reader.read(lambda c: c.execute(
            f"SELECT id, doc FROM sessions WHERE openid = ? AND state IN ({_OPEN_MARKS}) "
            "ORDER BY created_at DESC, n DESC LIMIT 1", (openid, *OPEN_STATES)).fetchone())
        if self._open_of.get(openid) in (None, _UNKNOWN, known):
            # Nothing was written for this customer meanwhile: remember what the read found.
            self._open_of.put(openid, _NONE if row is None else row[0])
        if row is None:
            return None
        self._docs.fill(row[0], row[1])
        return loads(row[1])

    async def list_open(self) -> list[SessionRecord]:
        rows = await self._reader.read(lambda c: c.execute(
            f"SELECT doc FROM sessions WHERE state IN ({_OPEN_MARKS}) "
            "ORDER BY queued_at, created_at, n", OPEN_STATES).fetchall())
        return [loads(r[0]) for r in rows]

    async def of_customer(self, openid: str, limit: int = 20) -> list[SessionRecord]:
        token = self._latest_of.get(openid)
        if limit == 1 and token is not None and not token.startswith(_UNKNOWN):
            # The desk asks for a customer's latest session on every message with no open one.
            if token == _NONE:
                return []
            cached = self._docs.get(token)
            if cached is not None:
                return [loads(cached)]
        if token is None or not token.startswith(_UNKNOWN):
            token = f"{_UNKNOWN}{next(self._lookups)}"
            self._latest_of.put(openid, token)
        rows = await self._reader.read(lambda c: c.execute(
            "SELECT id, doc FROM sessions WHERE openid = ? ORDER BY created_at DESC, n DESC LIMIT ?",
            (openid, limit)).fetchall())
        if limit >= 1 and self._latest_of.get(openid) == token:  # no session created meanwhile
            self._latest_of.put(openid, rows[0][0] if rows else _NONE)
            if rows:
                self._docs.fill(rows[0][0], rows[0][1])
        return [loads(r[1]) for r in rows]

    async def search(self, openid: str | None = None, agent_id: str | None = None,
                     skill: str | None = None, since: float | None = None,
                     until: float | None = None, text: str | None = None,
                     limit: int = 50, offset: int = 0,
                     agent_ids: Collection[str] | None = None, csat_min: int | None = None,
                     csat_max: int | None = None,
                     wrapup: str | None = None) -> tuple[int, list[SessionRecord]]:
        where: list[str] = []
        args: list[Any] = []
        # CSAT and wrap-up: expression indexes over the JSON (migration 10).
        if csat_min is not None:
            where.append("json_extract(doc, '$.csat.score') >= ?")
            args.append(csat_min)
        if csat_max is not None:
            where.append("json_extract(doc, '$.csat.score') <= ?")
            args.append(csat_max)
        if wrapup is not None:
            where.append("json_extract(doc, '$.wrapup') = ?")
            args.append(wrapup)
        if openid is not None:
            where.append("openid = ?")
            args.append(openid)
        if agent_id is not None:
            where.append("id IN (SELECT session_id FROM session_agents WHERE agent_id = ?)")
            args.append(agent_id)
        if agent_ids is not None:
            ids = sorted(agent_ids)
            where.append("id IN (SELECT session_id FROM session_agents WHERE agent_id IN "
                         f"({', '.join('?' * len(ids))}))" if ids else "0")
            args.extend(ids)
        if skill is not None:
            where.append("skill = ?")
            args.append(skill)
        if since is not None:
            where.append("created_at >= ?")
            args.append(since)
        if until is not None:
            where.append("created_at < ?")
            args.append(until)
        if text is not None and text.strip():
            if self.fts and len(text) >= 3:  # trigram index needs three characters
                where.append("id IN (SELECT m.session_id FROM messages_fts f "
                             "JOIN messages m ON m.n = f.rowid WHERE messages_fts MATCH ?)")
                args.append(_fts_query(text))
            else:
                where.append("id IN (SELECT session_id FROM messages WHERE text LIKE ? ESCAPE '\\')")
                args.append(_like_pattern(text))
        clause = ("WHERE " + " AND ".join(where)) if where else ""

        def query(conn: sqlite3.Connection) -> tuple[int, list[SessionRecord]]:
            conn.execute("BEGIN")  # count and page from one snapshot
            try:
                total = conn.execute(f"SELECT COUNT(*) FROM sessions {clause}", args).fetchone()[0]
                rows = conn.execute(
                    f"SELECT doc FROM sessions {clause} ORDER BY created_at DESC, n DESC "
                    "LIMIT ? OFFSET ?", [*args, max(0, limit), max(0, offset)]).fetchall()
            finally:
                conn.execute("COMMIT")
            return total, [loads(r[0]) for r in rows]

        return await self._reader.read(query)

    async def has_served(self, agent_id: str, openid: str) -> bool:
        row = await self._reader.read(lambda c: c.execute(
            "SELECT 1 FROM session_agents WHERE agent_id = ? AND openid = ? LIMIT 1",
            (agent_id, openid)).fetchone())
        return row is not None

    async def count_by_state(self) -> dict[SessionState, int]:
        rows = await self._reader.read(lambda c: c.execute(
            "SELECT state, COUNT(*) FROM sessions GROUP BY state").fetchall())
        counts = dict.fromkeys(SESSION_STATES, 0)
        counts.update({state: n for state, n in rows})
        return counts
