"""The SQLite store's write-through caches: committed JSON text of hot records, bounded, LRU.

One process owns the file, so every write passes through the store and can update the cache as
it commits; a customer's next message then needs no hop to the reader thread.
"""

from __future__ import annotations

from collections import OrderedDict


class DocCache:
    """A bounded, least-recently-used map of key -> committed JSON text."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._items: OrderedDict[str, str] = OrderedDict()

    def get(self, key: str) -> str | None:
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
        return value

    def put(self, key: str, value: str) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        if len(self._items) > self._limit:
            self._items.popitem(last=False)

    def fill(self, key: str, value: str) -> None:
        """Put what a read found, unless a write completed meanwhile (it is newer)."""
        if key not in self._items:
            self.put(key, value)
