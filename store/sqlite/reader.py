"""The SQLite store's reader: one thread with a read-only connection.

WAL lets it read while the writer writes, and since a caller's write future resolves after
COMMIT, a later read sees it (read-your-writes). SQLite calls never run on the event loop.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from ..base import StoreError
from .schema import connect

T = TypeVar("T")


class Reader:
    def __init__(self, path: str) -> None:
        self.path = path
        self._executor: ThreadPoolExecutor | None = None
        self._conn: sqlite3.Connection | None = None
        self._open = False

    async def open(self) -> None:
        """Start the thread and connect (after the writer has migrated the file)."""
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kefu-sqlite-reader")
        self._conn = await asyncio.get_running_loop().run_in_executor(self._executor, connect, self.path, True)
        self._open = True

    async def read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """``fn(conn)`` run on the reader thread."""
        if not self._open or self._executor is None:
            raise StoreError("store is not open")
        conn = self._conn
        assert conn is not None
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, conn)

    def refuse(self) -> None:
        """Refuse reads from now on (the store is closing)."""
        self._open = False

    async def close(self) -> None:
        self._open = False
        executor, conn = self._executor, self._conn
        self._executor = self._conn = None
        if executor is not None and conn is not None:
            await asyncio.get_running_loop().run_in_executor(executor, conn.close)
            executor.shutdown(wait=True)
