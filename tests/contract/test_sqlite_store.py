"""What only the SQLite store promises: group commit, durability across reopen and kill -9,
schema versioning, URL parsing."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator

import pytest

from store import StoreError
from store.sqlite import MIGRATIONS, SQLiteStore


@contextlib.asynccontextmanager
async def opened(tmp_path) -> AsyncIterator[SQLiteStore]:
    """A fresh store in ``tmp_path``, closed afterwards."""
    store = SQLiteStore(str(tmp_path / "k.sqlite3"))
    await store.open()
    try:
        yield store
    finally:
        await store.close()


REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.mark.gen_test
async def test_group_commit(tmp_path):
    async with opened(tmp_path) as store:
        before_commits, before_writes = store.commits, store.writes
        results = await asyncio.gather(*[
            store.put_inbound(f"m{i}", "o1", {"i": i}, float(i)) for i in range(200)])
        assert all(created for created, _ in results)
        assert store.writes - before_writes == 200
        commits = store.commits - before_commits
        assert 1 <= commits < 200, commits  # many writes share one transaction (one fsync)
        assert len(await store.unprocessed_inbound()) == 200


@pytest.mark.gen_test
async def test_inbound_inserted_together_still_tells_new_from_stored(tmp_path):
    # The writer inserts a batch's new inbound messages with one statement; a key already
    # stored, or twice in the batch, must still get "not created" and the first record.
    async with opened(tmp_path) as store:
        await store.put_inbound("old", "o1", {"first": True}, 1.0)
        before_commits = store.commits
        outcomes = await asyncio.gather(
            *[store.put_inbound(f"m{i}", "o1", {"i": i}, float(i)) for i in range(30)],
            store.put_inbound("old", "o1", {"first": False}, 2.0),
            store.put_inbound("twice", "o2", {"n": 1}, 3.0),
            store.put_inbound("twice", "o2", {"n": 2}, 4.0))
        assert store.commits - before_commits < len(outcomes)  # they did share commits
        assert [created for created, _ in outcomes[:30]] == [True] * 30
        assert [rec["message"]["i"] for _, rec in outcomes[:30]] == list(range(30))
        created, record = outcomes[30]
        assert not created and record["message"] == {"first": True} and record["received_at"] == 1.0
        assert sorted(created for created, _ in outcomes[31:]) == [False, True]
        assert {rec["message"]["n"] for _, rec in outcomes[31:]} == {1}
        assert len(await store.unprocessed_inbound()) == 32  # 30 new, "old", "twice"


@pytest.mark.gen_test
async def test_marking_inbound_processed_keeps_every_digit(tmp_path):
    # SQLite edits the record's JSON in place; the float must come back exactly.
    async with opened(tmp_path) as store:
        await store.put_inbound("k1", "o1", {"text": "你好"}, 1795861811.7351289)
        stamp = 1795861812.1234567
        marked = await store.mark_inbound_processed("k1", "s1", processed_at=stamp)
        assert marked["processed"] is True and marked["processed_at"] == stamp
        assert marked["session_id"] == "s1" and marked["message"] == {"text": "你好"}
        again = await store.get_inbound("k1")
        assert again == marked and again["received_at"] == 1795861811.7351289
        assert await store.unprocessed_inbound() == []


@pytest.mark.gen_test
async def test_a_failing_write_fails_alone_in_its_batch(tmp_path):
    async with opened(tmp_path) as store:
        session = await store.create_session({"openid": "o1"})
        before_commits = store.commits
        outcomes = await asyncio.gather(
            *[store.put_inbound(f"m{i}", "o1", {"i": i}, float(i)) for i in range(20)],
            store.update_session("no-such-session", state="closed"),  # fails: NotFound
            store.create_user({"username": "dup"}), store.create_user({"username": "dup"}),  # one: DuplicateError
            *[store.add_message({"session_id": session["id"], "text": f"t{i}"}) for i in range(20)],
            return_exceptions=True)
        assert store.commits - before_commits < len(outcomes)  # they did share commits
        failed = [type(o).__name__ for o in outcomes if isinstance(o, BaseException)]
        assert sorted(failed) == ["DuplicateError", "NotFound"]
        assert len(await store.unprocessed_inbound()) == 20
        assert [m["seq"] for m in await store.session_messages(session["id"])] == list(range(1, 21))
        assert (await store.get_session(session["id"]))["state"] == "queued"


@pytest.mark.gen_test
async def test_dedup_and_data_survive_reopen(tmp_path):
    path = str(tmp_path / "k.sqlite3")
    store = SQLiteStore(path)
    await store.open()
    await store.put_inbound("k1", "o1", {"Content": "hi"}, 1.0)
    user = await store.create_user({"username": "Ann"})
    s = await store.create_session({"openid": "o1"})
    await store.add_message({"session_id": s["id"], "text": "one"})
    await store.close()
    await store.close()  # idempotent
    with pytest.raises(StoreError):
        await store.put_inbound("k2", "o1", {}, 2.0)

    again = SQLiteStore(path)
    await again.open()
    try:
        created, rec = await again.put_inbound("k1", "o1", {"Content": "retry"}, 9.0)
        assert created is False and rec["message"] == {"Content": "hi"}
        assert await again.get_user_by_username("ann") == user
        m2 = await again.add_message({"session_id": s["id"], "text": "two"})
        assert m2["seq"] == 2
        assert again.fts is True  # the stdlib build has FTS5 with the trigram tokenizer
    finally:
        await again.close()


@pytest.mark.gen_test
async def test_open_creates_parent_directories_and_records_schema_version(tmp_path):
    path = tmp_path / "a" / "b" / "kefu.sqlite3"
    store = SQLiteStore(str(path))
    await store.open()
    await store.close()
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        version = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0]
        assert int(version) == len(MIGRATIONS)
        conn.execute("UPDATE meta SET value = '999' WHERE key = 'schema_version'")
        conn.commit()
    finally:
        conn.close()
    newer = SQLiteStore(str(path))
    with pytest.raises(StoreError, match="newer"):
        await newer.open()


@pytest.mark.gen_test
async def test_migration_2_indexes_who_served_whom_in_an_existing_file(tmp_path):
    """A file written by schema 1 answers has_served for the sessions it already held."""
    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
        MIGRATIONS[0](conn, False)
        conn.execute("INSERT INTO meta VALUES ('fts', 'none'), ('schema_version', '1')")
        conn.execute("INSERT INTO sessions (id, openid, agent_id, state, created_at, doc) "
                     "VALUES ('s1', 'o-old', 'a1', 'closed', 1.0, '{}')")
        conn.execute("INSERT INTO session_agents VALUES ('s1', 'a1')")
    finally:
        conn.close()
    store = SQLiteStore(str(path))
    await store.open()
    try:
        assert await store.has_served("a1", "o-old") is True
        assert await store.has_served("a2", "o-old") is False
    finally:
        await store.close()
    conn = sqlite3.connect(path)
    try:
        plan = " ".join(str(r) for r in conn.execute(
            "EXPLAIN QUERY PLAN SELECT 1 FROM session_agents WHERE agent_id = 'a1' AND openid = 'o'"))
        assert "session_agents_served" in plan, plan  # an index lookup, not a scan
    finally:
        conn.close()


@pytest.mark.gen_test
async def test_migration_3_indexes_the_audit_by_action_and_target_in_an_existing_file(tmp_path):
    """Entries written before schema 3 are found by the new filters, through an index."""
    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
        MIGRATIONS[0](conn, False)
        MIGRATIONS[1](conn, False)
        conn.execute("INSERT INTO meta VALUES ('fts', 'none'), ('schema_version', '2')")
        conn.execute("INSERT INTO audit (ts, actor_id, session_id, doc) VALUES (1.0, 'u1', NULL, "
                     "'{\"id\":\"e1\",\"ts\":1.0,\"actor_id\":\"u1\",\"action\":\"setting_changed\","
                     "\"session_id\":null,\"target\":\"menu\",\"details\":{}}')")
    finally:
        conn.close()
    store = SQLiteStore(str(path))
    await store.open()
    try:
        assert [e["id"] for e in await store.list_audit(action="setting_changed", target="menu")] == ["e1"]
        assert await store.list_audit(action="monitor") == []
    finally:
        await store.close()
    conn = sqlite3.connect(path)
    try:
        for column, index in (("action", "audit_action"), ("target", "audit_target")):
            plan = " ".join(str(r) for r in conn.execute(
                f"EXPLAIN QUERY PLAN SELECT doc FROM audit WHERE {column} = 'x' ORDER BY ts DESC, n DESC"))
            assert index in plan, plan
    finally:
        conn.close()


CHILD = textwrap.dedent(
    """
    import asyncio, sys
    from store.sqlite import SQLiteStore

    async def main():
        store = SQLiteStore(sys.argv[1])
        await store.open()

        async def put(key):
            await store.put_inbound(key, "o1", {"key": key}, 0.0)
            sys.stdout.write(key + "\\n")  # acknowledged: WeChat would get its 200 now
            sys.stdout.flush()

        n = 0
        while True:
            await asyncio.gather(*[put(f"k{n + j}") for j in range(8)])
            n += 8

    asyncio.run(main())
    """
)


@pytest.mark.gen_test(timeout=60)
async def test_every_acknowledged_inbound_survives_sigkill(tmp_path):
    path = str(tmp_path / "crash.sqlite3")
    child = subprocess.Popen([sys.executable, "-c", CHILD, path], cwd=REPO, stdout=subprocess.PIPE,
                             env=dict(os.environ, PYTHONPATH=REPO), text=True)
    acked = []
    try:
        while len(acked) < 400:  # blocking reads: the child is the only thing running here
            line = child.stdout.readline()
            assert line, "child exited early"
            acked.append(line.strip())
    finally:
        os.kill(child.pid, signal.SIGKILL)
        rest, _ = child.communicate()
    acked += [line for line in rest.split("\n")[:-1]]  # complete lines only
    assert child.returncode == -signal.SIGKILL

    store = SQLiteStore(path)
    await store.open()
    try:
        stored = {r["key"] for r in await store.unprocessed_inbound(limit=1_000_000)}
    finally:
        await store.close()
    missing = [k for k in acked if k not in stored]
    assert not missing, f"{len(missing)} acknowledged keys lost, e.g. {missing[:5]}"


@pytest.mark.gen_test
async def test_failing_write_is_rolled_back_alone(tmp_path):
    async with opened(tmp_path) as store:
        await store.upsert_customer("o1", 1.0)
        bad, good = await asyncio.gather(
            store.update_customer("o1", nickname="x", tags=object()),  # not JSON: fails in the writer
            store.put_inbound("k1", "o1", {}, 1.0), return_exceptions=True)
        assert isinstance(bad, TypeError)
        assert good[0] is True
        assert (await store.get_customer("o1"))["nickname"] is None
        assert (await store.get_inbound("k1")) is not None


@pytest.mark.gen_test
async def test_cached_reads_follow_every_write(tmp_path):
    """Customers and sessions are served from a write-through cache: every read sees the last
    committed write, also when reads and writes overlap, and the file agrees after a reopen."""
    path = str(tmp_path / "k.sqlite3")
    store = SQLiteStore(path)
    await store.open()
    try:
        assert await store.get_customer("o1") is None
        assert await store.open_session_for_customer("o1") is None
        await store.upsert_customer("o1", seen_at=1.0, nickname="a")
        assert (await store.get_customer("o1"))["nickname"] == "a"
        # A read racing a write never leaves the older value behind.
        _, updated = await asyncio.gather(store.get_customer("o1"), store.update_customer("o1", nickname="b"))
        assert updated["nickname"] == "b"
        assert (await store.get_customer("o1"))["nickname"] == "b"
        returned = await store.get_customer("o1")
        returned["nickname"] = "mutated by the caller"
        assert (await store.get_customer("o1"))["nickname"] == "b"

        first = await store.create_session({"openid": "o1", "skill": "general", "created_at": 10.0})
        assert (await store.open_session_for_customer("o1"))["id"] == first["id"]
        await store.update_session(first["id"], skill="loans")
        assert (await store.open_session_for_customer("o1"))["skill"] == "loans"
        assert (await store.get_session(first["id"]))["skill"] == "loans"
        await store.update_session(first["id"], state="closed")
        assert await store.open_session_for_customer("o1") is None
        second = await store.create_session({"openid": "o1", "skill": "cards", "created_at": 20.0})
        assert (await store.open_session_for_customer("o1"))["id"] == second["id"]
    finally:
        await store.close()
    reopened = SQLiteStore(path)
    await reopened.open()
    try:
        assert (await reopened.get_customer("o1"))["nickname"] == "b"
        assert (await reopened.open_session_for_customer("o1"))["id"] == second["id"]
        assert (await reopened.get_session(first["id"]))["state"] == "closed"
    finally:
        await reopened.close()
