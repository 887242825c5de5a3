"""The SQLite store's writer: one thread, the only write connection, group commit.

Callers put an operation (a function of the connection) on a queue and await a future. The
thread takes everything queued (up to `MAX_BATCH`), runs it inside ONE transaction (``BEGIN
IMMEDIATE`` … ``COMMIT``), commits once, and only then resolves each caller's future (one
``loop.call_soon_threadsafe`` per loop per batch). When an operation fails (say a duplicate
username) the batch is rolled back and run again with each operation in its own SAVEPOINT, so
the failure is that operation's alone; savepoints are not paid for otherwise. Because one thread
does every write, read-modify-write operations (de-dup, per-session seq, merges) are atomic
without extra locking.

Rows for the bulk insert (the webhook's new inbound messages) skip the per-operation call: the
batch's rows go first, to the ``bulk_insert`` function the writer was built with, which inserts
them with as few statements as it can (store/sqlite/inbound.py).
"""

from __future__ import annotations

import asyncio
import queue
import sqlite3
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from ..base import DuplicateError, StoreError
from .schema import connect

# Upper bound on the operations one transaction takes, so a flood of writers cannot make one
# commit (and the latency of the first caller in it) arbitrarily long.
MAX_BATCH = 1000

T = TypeVar("T")
# What a write operation does: anything with the connection, inside the batch's transaction.
WriteOp = Callable[[sqlite3.Connection], T]
# An operation's outcome: (True, result) or (False, exception).
Outcome = tuple[bool, Any]
# Inserts a batch's bulk rows; one outcome per row, in order.
BulkInsert = Callable[[sqlite3.Connection, list[Any]], list[Outcome]]


def _stop(conn: sqlite3.Connection) -> None:  # pragma: no cover - never called
    raise AssertionError("the stop marker is handled by the writer loop")


def _bulk_row(conn: sqlite3.Connection) -> None:  # pragma: no cover - never called
    raise AssertionError("bulk rows are inserted together by the writer")


class _Op:
    __slots__ = ("fn", "loop", "future", "row")

    def __init__(self, fn: Callable[[sqlite3.Connection], Any], loop: asyncio.AbstractEventLoop,
                 future: asyncio.Future[Any], row: Any = None) -> None:
        self.fn = fn
        self.loop = loop
        self.future = future
        self.row = row  # a row for the bulk insert, or None


def resolve(future: asyncio.Future[Any], ok: bool, value: Any) -> None:
    if future.done():  # the caller was cancelled; the write happened anyway
        return
    if ok:
        future.set_result(value)
    else:
        future.set_exception(value)


def _resolve_all(outcomes: list[tuple[asyncio.Future[Any], bool, Any]]) -> None:
    for future, ok, value in outcomes:
        resolve(future, ok, value)


class Writer:
    """The write side of one SQLite file. ``commits`` counts the transactions committed (one
    fsync each), ``writes`` the operations they carried."""

    def __init__(self, path: str, bulk_insert: BulkInsert) -> None:
        self.path = path
        self.commits = 0
        self.writes = 0
        self._bulk_insert = bulk_insert
        self._queue: queue.SimpleQueue[_Op] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._accepting = False

    # -- the caller's side ---------------------------------------------------------------------

    async def start(self, prepare: Callable[[sqlite3.Connection], T]) -> T:
        """Start the thread, open the write connection, run ``prepare(conn)`` there first (the
        migrations) and return its result; raises what connecting or ``prepare`` raised."""
        loop = asyncio.get_running_loop()
        started: asyncio.Future[T] = loop.create_future()

        def ready(ok: bool, value: Any) -> None:
            loop.call_soon_threadsafe(resolve, started, ok, value)

        self._thread = threading.Thread(target=self._main, args=(prepare, ready),
                                        name="kefu-sqlite-writer", daemon=True)
        self._thread.start()
        result = await started
        self._accepting = True
        return result

    async def write(self, fn: WriteOp[T]) -> T:
        """Run ``fn(conn)`` in the next batch; its result once committed."""
        if not self._accepting:
            raise StoreError("store is not open")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._queue.put(_Op(fn, loop, future))
        return await future

    async def write_row(self, row: Any) -> Any:
        """Insert ``row`` with the batch's bulk insert; its outcome once committed."""
        if not self._accepting:
            raise StoreError("store is not open")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._queue.put(_Op(_bulk_row, loop, future, row))
        return await future

    async def stop(self) -> None:
        """Refuse new writes, commit everything queued before (FIFO), end the thread."""
        self._accepting = False
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        self._queue.put(_Op(_stop, loop, future))
        await future
        if self._thread is not None:
            await loop.run_in_executor(None, self._thread.join)

    # -- the thread ----------------------------------------------------------------------------

    def _main(self, prepare: Callable[[sqlite3.Connection], Any],
              ready: Callable[[bool, Any], None]) -> None:
        try:
            conn = connect(self.path, readonly=False)
            prepared = prepare(conn)
        except BaseException as exc:  # report to start() instead of dying silently
            ready(False, exc)
            return
        ready(True, prepared)
        stop: _Op | None = None
        while stop is None:
            batch = [self._queue.get()]
            while len(batch) < MAX_BATCH:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            ops = []
            for op in batch:
                if op.fn is _stop:
                    stop = op
                else:
                    ops.append(op)
            if ops:
                self._run_batch(conn, ops)
        conn.close()
        stop.loop.call_soon_threadsafe(resolve, stop.future, True, None)

    def _run_batch(self, conn: sqlite3.Connection, ops: list[_Op]) -> None:
        results: list[Outcome]
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                # Optimistic: almost every operation succeeds, and a savepoint around each one
                # costs two more statements (each a GIL release and re-acquire on this thread).
                results = self._run_ops(conn, ops, isolated=False)
            except Exception:
                # One failed: undo the batch and run it again with each operation isolated, so
                # the failure is that operation's alone. Operations only touch the connection
                # and their own locals, so running one again is safe.
                conn.execute("ROLLBACK")
                conn.execute("BEGIN IMMEDIATE")
                results = self._run_ops(conn, ops, isolated=True)
            conn.execute("COMMIT")
            self.commits += 1
            self.writes += len(ops)
        except Exception as exc:  # the transaction as a whole failed (disk full, I/O error…)
            try:
                conn.execute("ROLLBACK")
            except sqlite3.Error:
                pass
            results = [(False, StoreError(f"write failed: {exc}"))] * len(ops)
        # One wake-up of each waiting loop per batch, not one per write: under load a batch holds
        # dozens of writes, and every call_soon_threadsafe costs the loop a self-pipe round trip.
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Any], bool, Any]]] = {}
        for op, (ok, value) in zip(ops, results, strict=True):
            by_loop.setdefault(op.loop, []).append((op.future, ok, value))
        for loop, outcomes in by_loop.items():
            try:
                loop.call_soon_threadsafe(_resolve_all, outcomes)
            except RuntimeError:  # that caller's loop is closed; nobody is waiting any more
                pass

    def _run_ops(self, conn: sqlite3.Connection, ops: list[_Op], isolated: bool) -> list[Outcome]:
        """Run a batch's operations in order, except that its bulk rows go first, together.
        They cannot depend on anything else in the batch: every other write about an inbound
        message is made after its insert has committed."""
        bulk = [op for op in ops if op.row is not None]
        done: dict[int, Outcome] = {}
        if bulk:
            for op, outcome in zip(bulk, self._bulk_insert(conn, [op.row for op in bulk]), strict=True):
                done[id(op)] = outcome
        if isolated:
            return [done.get(id(op)) or self._run_isolated(conn, op) for op in ops]
        return [done.get(id(op)) or (True, op.fn(conn)) for op in ops]

    @staticmethod
    def _run_isolated(conn: sqlite3.Connection, op: _Op) -> Outcome:
        conn.execute("SAVEPOINT op")
        try:
            value = op.fn(conn)
        except Exception as exc:
            conn.execute("ROLLBACK TO op")
            conn.execute("RELEASE op")
            if isinstance(exc, sqlite3.IntegrityError):
                exc = DuplicateError(str(exc))
            return False, exc
        conn.execute("RELEASE op")
        return True, value
