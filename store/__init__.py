"""Kefu's persistence: the `Store` interface (store.base) and `open_store`, which picks a backend.

``server.py`` is the only caller of `open_store`; everything else receives the `Store`.
"""

from __future__ import annotations

from .base import DuplicateError, NotFound, Store, StoreError

__all__ = ["DuplicateError", "NotFound", "Store", "StoreError", "open_store", "sqlite_path"]


def sqlite_path(url: str) -> str:
    """The file path of a ``sqlite:///PATH`` URL: ``sqlite:///data/x.db`` is relative to the
    working directory, ``sqlite:////var/lib/kefu/x.db`` is absolute."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or len(url) == len(prefix):
        raise ValueError(f"bad SQLite URL {url!r}: use sqlite:///PATH (relative) or sqlite:////PATH")
    return url[len(prefix):]


def open_store(url: str) -> Store:
    """Build the store a URL names; the caller then awaits ``store.open()`` inside its loop.

    ``sqlite:///PATH`` → `store.sqlite.SQLiteStore` (parent directories are created on open);
    ``mongodb://…`` or ``mongodb+srv://…`` → `store.mongo.MongoStore` on the database named in
    the URL path (default ``kefu``). Anything else raises ValueError.
    """
    scheme = url.split(":", 1)[0].lower() if ":" in url else url
    if scheme == "sqlite":
        from .sqlite import SQLiteStore

        return SQLiteStore(sqlite_path(url))
    if scheme in ("mongodb", "mongodb+srv"):
        from .mongo import MongoStore

        return MongoStore(url=url)
    raise ValueError(f"unknown store scheme '{scheme}': use sqlite:///PATH or mongodb://…")
