"""The bot's answer usage in the store contract (desk/bot_stats.py), on every backend: counters
start at nothing, add up (concurrent adds all count), keep the latest use, and outlive the store
being closed and opened again (SQLite: the same file)."""

from __future__ import annotations

import asyncio

import pytest

from store.records import BotAnswerCounts

T0 = 1_700_000_000.0


@pytest.mark.gen_test
async def test_counts_add_up_concurrently_and_keep_the_latest_use(store):
    assert await store.bot_answer_counts() == {}
    await store.count_bot_answer("fee", used=1, at=T0)
    await asyncio.gather(*[store.count_bot_answer("fee", used=1, at=T0 + i) for i in range(1, 6)])
    await store.count_bot_answer("fee", handed_over=1)  # no use: last_used_at stays
    await store.count_bot_answer("lost", used=2, handed_over=1, at=T0 - 10)
    counts = await store.bot_answer_counts()
    assert counts == {"fee": {"used": 6, "handed_over": 1, "last_used_at": T0 + 5},
                      "lost": {"used": 2, "handed_over": 1, "last_used_at": T0 - 10}}
    assert set(counts["fee"]) == BotAnswerCounts.__required_keys__


@pytest.mark.gen_test
async def test_a_sqlite_file_keeps_the_counts_across_a_restart(tmp_path):
    from store.sqlite import SQLiteStore

    first = SQLiteStore(str(tmp_path / "stats.sqlite3"))
    await first.open()
    await first.count_bot_answer("fee", used=3, handed_over=1, at=T0)
    await first.close()
    again = SQLiteStore(str(tmp_path / "stats.sqlite3"))
    await again.open()
    try:
        assert await again.bot_answer_counts() == {"fee": {"used": 3, "handed_over": 1, "last_used_at": T0}}
    finally:
        await again.close()
