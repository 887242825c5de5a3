"""An async face on mongomock with the call shapes of pymongo's ``AsyncDatabase``/``AsyncCollection``,
so `store.mongo.MongoStore` runs the contract suite without a MongoDB server.

Only what the Mongo store uses is wrapped. As in pymongo's async API: collection methods are
coroutines except ``find`` (returns a cursor at once, awaited through ``to_list`` or ``async
for``); ``aggregate`` is a coroutine returning a cursor. mongomock runs in the calling thread and
never blocks on I/O, so calling it directly from a coroutine is fine.
"""

from __future__ import annotations

from typing import Any

import mongomock


class AsyncCursor:
    """pymongo ``AsyncCursor`` look-alike over a mongomock cursor (or any iterable)."""

    def __init__(self, cursor: Any) -> None:
        self._cursor = cursor

    def sort(self, *args: Any, **kwargs: Any) -> AsyncCursor:
        self._cursor = self._cursor.sort(*args, **kwargs)
        return self

    def skip(self, n: int) -> AsyncCursor:
        self._cursor = self._cursor.skip(n)
        return self

    def limit(self, n: int) -> AsyncCursor:
        self._cursor = self._cursor.limit(n)
        return self

    async def to_list(self, length: int | None = None) -> list[dict]:
        docs = list(self._cursor)
        return docs if length is None else docs[:length]

    def __aiter__(self) -> AsyncCursor:
        self._iter = iter(self._cursor)
        return self

    async def __anext__(self) -> dict:
        try:
            return next(self._iter)
        except StopIteration:
            raise StopAsyncIteration from None


class AsyncCollection:
    """pymongo ``AsyncCollection`` look-alike over a mongomock collection."""

    _COROUTINES = ("insert_one", "insert_many", "find_one", "update_one", "update_many",
                   "replace_one", "find_one_and_update", "find_one_and_delete", "count_documents", "create_index",
                   "delete_one", "delete_many", "distinct", "drop")

    def __init__(self, collection: mongomock.Collection) -> None:
        self._collection = collection
        self.name = collection.name

    def find(self, *args: Any, **kwargs: Any) -> AsyncCursor:
        return AsyncCursor(self._collection.find(*args, **kwargs))

    async def aggregate(self, pipeline: list[dict], **kwargs: Any) -> AsyncCursor:
        return AsyncCursor(list(self._collection.aggregate(pipeline, **kwargs)))

    def __getattr__(self, name: str) -> Any:
        if name not in self._COROUTINES:
            raise AttributeError(f"async_mongomock does not wrap {name!r}")
        method = getattr(self._collection, name)

        async def call(*args: Any, **kwargs: Any) -> Any:
            return method(*args, **kwargs)

        return call


class AsyncDatabase:
    """pymongo ``AsyncDatabase`` look-alike over a mongomock database."""

    def __init__(self, database: mongomock.Database) -> None:
        self._database = database
        self.name = database.name
        self._collections: dict[str, AsyncCollection] = {}

    def __getitem__(self, name: str) -> AsyncCollection:
        if name not in self._collections:
            self._collections[name] = AsyncCollection(self._database[name])
        return self._collections[name]

    def __getattr__(self, name: str) -> AsyncCollection:
        if name.startswith("_"):
            raise AttributeError(name)
        return self[name]

    async def command(self, command: str, **kwargs: Any) -> dict:
        if command != "ping":
            raise NotImplementedError(f"async_mongomock does not run {command!r}")
        return {"ok": 1.0}

    async def list_collection_names(self) -> list[str]:
        return self._database.list_collection_names()

    async def drop_collection(self, name: str) -> None:
        self._database.drop_collection(name)
        self._collections.pop(name, None)


def mongomock_database(name: str = "kefu") -> AsyncDatabase:
    """A fresh in-memory database with the async call shapes."""
    return AsyncDatabase(mongomock.MongoClient()[name])
