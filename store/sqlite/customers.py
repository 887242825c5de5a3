"""Customers on SQLite, keyed by openid, behind a write-through cache of their committed JSON."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable

from ..base import NotFound, check_update, customer_record
from ..records import CustomerFields, CustomerRecord
from .cache import DocCache
from .codec import dumps, loads
from .reader import Reader
from .writer import Writer

# An upsert's outcome: the record and the JSON text committed for it (for the cache).
Upserted = tuple[CustomerRecord, str]


def upsert_op(openid: str, seen_at: float | None,
              fields: CustomerFields) -> Callable[[sqlite3.Connection], Upserted]:
    """Create the customer or merge ``fields`` into it, moving ``last_seen`` forward only."""
    seen = time.time() if seen_at is None else float(seen_at)
    fields = check_update("customer", fields, ("openid",))

    def op(conn: sqlite3.Connection) -> Upserted:
        row = conn.execute("SELECT doc FROM customers WHERE openid = ?", (openid,)).fetchone()
        if row is None:
            rec = customer_record(openid, seen, fields)
            doc = dumps(rec)
            conn.execute("INSERT INTO customers VALUES (?, ?)", (openid, doc))
        else:
            rec = loads(row[0])
            rec.update(fields)
            rec["last_seen"] = max(rec["last_seen"] or seen, seen)
            doc = dumps(rec)
            conn.execute("UPDATE customers SET doc = ? WHERE openid = ?", (doc, openid))
        return rec, doc

    return op


class Customers:
    def __init__(self, writer: Writer, reader: Reader, cache_records: int) -> None:
        self._writer = writer
        self._reader = reader
        self.docs = DocCache(cache_records)  # openid -> committed JSON text

    async def upsert(self, openid: str, seen_at: float | None, fields: CustomerFields) -> CustomerRecord:
        rec, doc = await self._writer.write(upsert_op(openid, seen_at, fields))
        self.docs.put(openid, doc)
        return rec

    async def get(self, openid: str) -> CustomerRecord | None:
        cached = self.docs.get(openid)
        if cached is not None:
            return loads(cached)
        row = await self._reader.read(lambda c: c.execute(
            "SELECT doc FROM customers WHERE openid = ?", (openid,)).fetchone())
        if row is None:
            return None
        self.docs.fill(openid, row[0])
        return loads(row[0])

    async def update(self, openid: str, fields: CustomerFields) -> CustomerRecord:
        fields = check_update("customer", fields, ("openid",))

        def op(conn: sqlite3.Connection) -> Upserted:
            row = conn.execute("SELECT doc FROM customers WHERE openid = ?", (openid,)).fetchone()
            if row is None:
                raise NotFound(f"no customer {openid!r}")
            rec: CustomerRecord = loads(row[0])
            rec.update(fields)
            doc = dumps(rec)
            conn.execute("UPDATE customers SET doc = ? WHERE openid = ?", (doc, openid))
            return rec, doc

        rec, doc = await self._writer.write(op)
        self.docs.put(openid, doc)
        return rec
