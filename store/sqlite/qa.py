"""QA (质检) on SQLite: rubrics, reviews and work-queue items (migration 10).

Each table keeps the whole record as JSON plus the columns it is queried by, each indexed: a
rubric's case-folded name (unique), a review's session, agent, status and time, an item's
session (unique: one item per session, atomically), assignee, status and the session's close
time. ``closed_sessions`` reads the sessions table through an index on the JSON ``closed_at``
(an expression index: the sessions writer needs no new column).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection
from typing import Any

from ..base import DuplicateError, NotFound
from ..qa_records import (
    QAItemRecord,
    QAReviewRecord,
    QARubricRecord,
    check_qa_update,
    qa_item_record,
    qa_name_key,
    qa_review_record,
    qa_rubric_record,
)
from ..records import SessionRecord
from .codec import dumps, loads
from .reader import Reader
from .writer import Writer

# The largest IN (...) list sent in one statement (SQLite's default variable limit is 32766).
IN_CHUNK = 500


def _in(column: str, values: list[str]) -> str:
    return f"{column} IN ({', '.join('?' * len(values))})" if values else "0"


class QA:
    def __init__(self, writer: Writer, reader: Reader) -> None:
        self._writer = writer
        self._reader = reader

    async def _get(self, table: str, key: str) -> Any:
        row = await self._reader.read(lambda c: c.execute(
            f"SELECT doc FROM {table} WHERE id = ?", (key,)).fetchone())
        return None if row is None else loads(row[0])

    async def _page(self, table: str, where: list[str], args: list[Any], order: str,
                    limit: int, offset: int) -> tuple[int, list[Any]]:
        clause = ("WHERE " + " AND ".join(where)) if where else ""

        def query(conn: sqlite3.Connection) -> tuple[int, list[Any]]:
            conn.execute("BEGIN")  # count and page from one snapshot
            try:
                total = conn.execute(f"SELECT COUNT(*) FROM {table} {clause}", args).fetchone()[0]
                rows = conn.execute(f"SELECT doc FROM {table} {clause} ORDER BY {order} LIMIT ? OFFSET ?",
                                    [*args, max(0, limit), max(0, offset)]).fetchall()
            finally:
                conn.execute("COMMIT")
            return total, [loads(r[0]) for r in rows]

        return await self._reader.read(query)

    # -- rubrics -----------------------------------------------------------------------------------
    async def create_rubric(self, data: dict[str, Any]) -> QARubricRecord:
        rec = qa_rubric_record(data)

        def op(conn: sqlite3.Connection) -> QARubricRecord:
            try:
                conn.execute("INSERT INTO qa_rubrics (id, name_key, doc) VALUES (?, ?, ?)",
                             (rec["id"], qa_name_key(rec["name"]), dumps(rec)))
            except sqlite3.IntegrityError as exc:
                raise DuplicateError(f"rubric {rec['name']!r} or id exists") from exc
            return rec

        return await self._writer.write(op)

    async def get_rubric(self, rubric_id: str) -> QARubricRecord | None:
        rec: QARubricRecord | None = await self._get("qa_rubrics", rubric_id)
        return rec

    async def list_rubrics(self) -> list[QARubricRecord]:
        rows = await self._reader.read(lambda c: c.execute(
            "SELECT doc FROM qa_rubrics ORDER BY name_key").fetchall())
        return [loads(r[0]) for r in rows]

    async def update_rubric(self, rubric_id: str, fields: dict[str, Any]) -> QARubricRecord:
        fields = check_qa_update("rubric", fields, ("id",))
        if "name" in fields and not fields["name"]:
            raise ValueError("a rubric needs a name")

        def op(conn: sqlite3.Connection) -> QARubricRecord:
            row = conn.execute("SELECT doc FROM qa_rubrics WHERE id = ?", (rubric_id,)).fetchone()
            if row is None:
                raise NotFound(f"no rubric {rubric_id!r}")
            rec: QARubricRecord = loads(row[0])
            rec.update(fields)  # type: ignore[typeddict-item]
            try:
                conn.execute("UPDATE qa_rubrics SET name_key = ?, doc = ? WHERE id = ?",
                             (qa_name_key(rec["name"]), dumps(rec), rubric_id))
            except sqlite3.IntegrityError as exc:
                raise DuplicateError(f"rubric {rec['name']!r} exists") from exc
            return rec

        return await self._writer.write(op)

    # -- reviews -----------------------------------------------------------------------------------
    async def add_review(self, data: dict[str, Any]) -> QAReviewRecord:
        rec = qa_review_record(data)

        def op(conn: sqlite3.Connection) -> QAReviewRecord:
            try:
                conn.execute("INSERT INTO qa_reviews (id, session_id, agent_id, status, created_at, total, doc) "
                             "VALUES (?, ?, ?, ?, ?, ?, ?)",
                             (rec["id"], rec["session_id"], rec["agent_id"], rec["status"], rec["created_at"],
                              rec["total"], dumps(rec)))
            except sqlite3.IntegrityError as exc:
                raise DuplicateError(f"review {rec['id']!r} exists") from exc
            return rec

        return await self._writer.write(op)

    async def get_review(self, review_id: str) -> QAReviewRecord | None:
        rec: QAReviewRecord | None = await self._get("qa_reviews", review_id)
        return rec

    async def update_review(self, review_id: str, fields: dict[str, Any]) -> QAReviewRecord:
        fields = check_qa_update("review", fields, ("id", "session_id"))

        def op(conn: sqlite3.Connection) -> QAReviewRecord:
            row = conn.execute("SELECT doc FROM qa_reviews WHERE id = ?", (review_id,)).fetchone()
            if row is None:
                raise NotFound(f"no review {review_id!r}")
            rec: QAReviewRecord = loads(row[0])
            rec.update(fields)  # type: ignore[typeddict-item]
            conn.execute("UPDATE qa_reviews SET agent_id = ?, status = ?, total = ?, doc = ? WHERE id = ?",
                         (rec["agent_id"], rec["status"], rec["total"], dumps(rec), review_id))
            return rec

        return await self._writer.write(op)

    async def list_reviews(self, agent_id: str | None, session_id: str | None,
                           agent_ids: Collection[str] | None, status: str | None, since: float | None,
                           until: float | None, limit: int, offset: int) -> tuple[int, list[QAReviewRecord]]:
        where: list[str] = []
        args: list[Any] = []
        for column, value in (("agent_id", agent_id), ("session_id", session_id), ("status", status)):
            if value is not None:
                where.append(f"{column} = ?")
                args.append(value)
        if agent_ids is not None:
            ids = sorted(agent_ids)
            where.append(_in("agent_id", ids))
            args.extend(ids)
        if since is not None:
            where.append("created_at >= ?")
            args.append(since)
        if until is not None:
            where.append("created_at < ?")
            args.append(until)
        return await self._page("qa_reviews", where, args, "created_at DESC, n DESC", limit, offset)

    async def totals_by_session(self, session_ids: Collection[str]) -> dict[str, list[float]]:
        ids = sorted(set(session_ids))

        def query(conn: sqlite3.Connection) -> dict[str, list[float]]:
            out: dict[str, list[float]] = {}
            for at in range(0, len(ids), IN_CHUNK):
                chunk = ids[at:at + IN_CHUNK]
                for sid, total in conn.execute(
                        f"SELECT session_id, total FROM qa_reviews WHERE {_in('session_id', chunk)} "
                        "ORDER BY created_at, n", chunk):
                    out.setdefault(sid, []).append(float(total))
            return out

        return await self._reader.read(query)

    # -- work-queue items --------------------------------------------------------------------------
    async def add_item(self, data: dict[str, Any]) -> QAItemRecord:
        rec = qa_item_record(data)

        def op(conn: sqlite3.Connection) -> QAItemRecord:
            try:
                conn.execute("INSERT INTO qa_items (id, session_id, agent_id, assignee_id, status, closed_at, doc) "
                             "VALUES (?, ?, ?, ?, ?, ?, ?)",
                             (rec["id"], rec["session_id"], rec["agent_id"], rec["assignee_id"], rec["status"],
                              rec["closed_at"], dumps(rec)))
            except sqlite3.IntegrityError as exc:
                raise DuplicateError(f"session {rec['session_id']!r} already has a work-queue item") from exc
            return rec

        return await self._writer.write(op)

    async def get_item(self, item_id: str) -> QAItemRecord | None:
        rec: QAItemRecord | None = await self._get("qa_items", item_id)
        return rec

    async def item_for_session(self, session_id: str) -> QAItemRecord | None:
        row = await self._reader.read(lambda c: c.execute(
            "SELECT doc FROM qa_items WHERE session_id = ?", (session_id,)).fetchone())
        return None if row is None else loads(row[0])

    async def update_item(self, item_id: str, fields: dict[str, Any]) -> QAItemRecord:
        fields = check_qa_update("work-queue item", fields, ("id", "session_id"))

        def op(conn: sqlite3.Connection) -> QAItemRecord:
            row = conn.execute("SELECT doc FROM qa_items WHERE id = ?", (item_id,)).fetchone()
            if row is None:
                raise NotFound(f"no work-queue item {item_id!r}")
            rec: QAItemRecord = loads(row[0])
            rec.update(fields)  # type: ignore[typeddict-item]
            conn.execute("UPDATE qa_items SET agent_id = ?, assignee_id = ?, status = ?, closed_at = ?, doc = ? "
                         "WHERE id = ?", (rec["agent_id"], rec["assignee_id"], rec["status"], rec["closed_at"],
                                          dumps(rec), item_id))
            return rec

        return await self._writer.write(op)

    async def list_items(self, status: str | None, assignee_id: str | None, unassigned: bool,
                         agent_ids: Collection[str] | None, limit: int,
                         offset: int) -> tuple[int, list[QAItemRecord]]:
        where: list[str] = []
        args: list[Any] = []
        if status is not None:
            where.append("status = ?")
            args.append(status)
        if assignee_id is not None:
            where.append("assignee_id = ?")
            args.append(assignee_id)
        if unassigned:
            where.append("assignee_id IS NULL")
        if agent_ids is not None:
            ids = sorted(agent_ids)
            where.append(_in("agent_id", ids))
            args.extend(ids)
        return await self._page("qa_items", where, args, "closed_at, n", limit, offset)

    async def closed_sessions(self, since: float, until: float, limit: int) -> list[SessionRecord]:
        rows = await self._reader.read(lambda c: c.execute(
            "SELECT doc FROM sessions WHERE json_extract(doc, '$.closed_at') >= ? "
            "AND json_extract(doc, '$.closed_at') < ? ORDER BY json_extract(doc, '$.closed_at'), n LIMIT ?",
            (since, until, max(0, limit))).fetchall())
        return [loads(r[0]) for r in rows]
