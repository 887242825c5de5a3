"""The embedded SQLite store: one file, WAL, a group-committing writer thread and a reader thread.

Durability. The file runs in WAL mode with ``synchronous=FULL``: every COMMIT fsyncs the WAL, so
a write whose awaitable has completed survives a process crash *and* a power loss. WAL with
``synchronous=NORMAL`` would only fsync at checkpoints: it survives ``kill -9`` but a power cut
can lose the last commits, and the webhook promises WeChat that an acknowledged message is
stored ("acknowledged means stored"), so NORMAL is not enough. FULL costs one fsync per commit;
the writer makes that one fsync per *batch* instead of per write (group commit), so throughput
under load is bounded by the number of batches, not the number of callers.

Threads. SQLite calls never run on the event loop.

* One writer thread owns the only write connection (`writer`): callers queue an operation and
  await its future; the thread runs everything queued in ONE transaction, commits once, and
  only then resolves the futures. A failing operation fails alone (the batch is run again with
  each operation in a SAVEPOINT). One thread doing every write makes read-modify-write
  operations (de-dup, per-session seq, merges) atomic without extra locking.
* One reader thread owns a read-only connection (`reader`). WAL lets it read while the writer
  writes, and since a caller's write future resolves after COMMIT, a later read sees it.

Schema (`schema`). Each table keeps the whole record as a JSON ``doc`` plus the columns it is
queried by, each with an index; ``meta.schema_version`` drives `MIGRATIONS`. Text search uses an
FTS5 ``trigram`` index over message texts (substring match, case-insensitive, and works for
Chinese which has no spaces for a word tokenizer to split on) for queries of three characters
or more; shorter queries (two-character Chinese words are common) fall back to ``LIKE`` over
the session's messages. One process per file: several Kefu processes share a MongoDB store
instead.

Modules: one per aggregate (`inbound`, `customers`, `sessions`, `messages`, `users`, `tokens`,
`audit`, `routing_log`, `settings`, `canned`, `teams`), each owning its table's SQL; `store.SQLiteStore` composes
them behind the `store.base.Store` interface.
"""

from __future__ import annotations

from .schema import BUSY_TIMEOUT_MS, MIGRATIONS
from .store import CACHE_RECORDS, SQLiteStore
from .writer import MAX_BATCH

__all__ = ["BUSY_TIMEOUT_MS", "CACHE_RECORDS", "MAX_BATCH", "MIGRATIONS", "SQLiteStore"]
