"""The canned-reply part of the store contract (快捷回复), on every backend (see conftest.py):
shortcuts unique per owner (public, one team, one agent) case-insensitively and atomically,
listing by owner keys, moving a reply between owners, deleting."""

from __future__ import annotations

import asyncio

import pytest

from store import DuplicateError, NotFound
from store.base import CANNED_PUBLIC, canned_team_owner, canned_user_owner
from store.records import CannedReplyRecord

T0 = 1_700_000_000.0


def _reply(shortcut: str, scope: str = "public", **fields):
    return {"shortcut": shortcut, "text": f"text of {shortcut}", "scope": scope, **fields}


@pytest.mark.gen_test
async def test_create_get_and_the_record_shape(store):
    rec = await store.create_canned(_reply("hi", title="Greeting", category="开场", created_at=T0,
                                           created_by="u1"))
    assert rec == {"id": rec["id"], "shortcut": "hi", "title": "Greeting", "text": "text of hi",
                   "category": "开场", "scope": "public", "team_id": None, "owner_id": None,
                   "created_at": T0, "created_by": "u1", "updated_at": None, "updated_by": None}
    assert set(rec) == CannedReplyRecord.__required_keys__
    assert len(rec["id"]) == 32
    assert await store.get_canned(rec["id"]) == rec
    assert await store.get_canned("missing") is None
    bare = await store.create_canned(_reply("bye"))
    assert (bare["title"], bare["category"]) == ("", "")


@pytest.mark.gen_test
async def test_a_shortcut_is_unique_per_owner_case_insensitively(store):
    await store.create_canned(_reply("Hi"))
    with pytest.raises(DuplicateError):
        await store.create_canned(_reply("hI"))
    # The same shortcut under another owner is a different reply.
    await store.create_canned(_reply("hi", "team", team_id="t1"))
    await store.create_canned(_reply("hi", "team", team_id="t2"))
    await store.create_canned(_reply("hi", "personal", owner_id="u1"))
    with pytest.raises(DuplicateError):
        await store.create_canned(_reply("HI", "team", team_id="t1"))
    with pytest.raises(DuplicateError):
        await store.create_canned(_reply("hi", "personal", owner_id="u1"))
    assert len(await store.list_canned()) == 4


@pytest.mark.gen_test
async def test_concurrent_duplicate_shortcuts_store_one(store):
    results = await asyncio.gather(*[store.create_canned(_reply(s, "team", team_id="t1"))
                                     for s in ("wait", "WAIT", "Wait")], return_exceptions=True)
    assert sum(isinstance(r, dict) for r in results) == 1
    assert sum(isinstance(r, DuplicateError) for r in results) == 2


@pytest.mark.gen_test
async def test_a_scope_without_its_team_or_owner_is_refused(store):
    for bad in (_reply("a", "team"), _reply("a", "personal"), _reply("a", "everyone"), {"shortcut": "a", "scope": "public"}):
        with pytest.raises(ValueError):
            await store.create_canned(bad)
    assert await store.list_canned() == []


@pytest.mark.gen_test
async def test_list_by_owner_keys_in_shortcut_order(store):
    await store.create_canned(_reply("b-public"))
    await store.create_canned(_reply("A-team1", "team", team_id="t1"))
    await store.create_canned(_reply("c-team2", "team", team_id="t2"))
    await store.create_canned(_reply("d-mine", "personal", owner_id="u1"))
    await store.create_canned(_reply("e-theirs", "personal", owner_id="u2"))

    def shortcuts(replies):
        return [r["shortcut"] for r in replies]

    assert shortcuts(await store.list_canned()) == ["A-team1", "b-public", "c-team2", "d-mine", "e-theirs"]
    assert shortcuts(await store.list_canned([CANNED_PUBLIC, canned_team_owner("t1"), canned_user_owner("u1")])) == [
        "A-team1", "b-public", "d-mine"]
    assert shortcuts(await store.list_canned([canned_team_owner("t2")])) == ["c-team2"]
    assert await store.list_canned([]) == []
    assert await store.list_canned([canned_team_owner("nobody")]) == []


@pytest.mark.gen_test
async def test_update_merges_and_moves_between_owners(store):
    rec = await store.create_canned(_reply("hi", "team", team_id="t1", category="x"))
    await store.create_canned(_reply("taken"))
    updated = await store.update_canned(rec["id"], text="新的", updated_at=T0, updated_by="u9")
    assert (updated["text"], updated["category"], updated["updated_at"], updated["updated_by"]) == (
        "新的", "x", T0, "u9")
    assert await store.get_canned(rec["id"]) == updated
    # Public already has "taken": moving there with that shortcut is refused, and nothing changes.
    with pytest.raises(DuplicateError):
        await store.update_canned(rec["id"], scope="public", team_id=None, shortcut="TAKEN")
    assert await store.get_canned(rec["id"]) == updated
    moved = await store.update_canned(rec["id"], scope="public", team_id=None)
    assert [r["id"] for r in await store.list_canned([CANNED_PUBLIC])] == [moved["id"], await _id_of(store, "taken")]
    assert await store.list_canned([canned_team_owner("t1")]) == []
    # The shortcut it left is free again in its old owner.
    await store.create_canned(_reply("hi", "team", team_id="t1"))
    with pytest.raises(ValueError):
        await store.update_canned(rec["id"], scope="team")  # no team_id
    with pytest.raises(ValueError):
        await store.update_canned(rec["id"], id="other")
    with pytest.raises(NotFound):
        await store.update_canned("missing", text="x")


async def _id_of(store, shortcut: str) -> str:
    return next(r["id"] for r in await store.list_canned() if r["shortcut"] == shortcut)


@pytest.mark.gen_test
async def test_delete_returns_the_reply_and_frees_its_shortcut(store):
    rec = await store.create_canned(_reply("hi", "personal", owner_id="u1"))
    assert await store.delete_canned(rec["id"]) == rec
    assert await store.get_canned(rec["id"]) is None
    with pytest.raises(NotFound):
        await store.delete_canned(rec["id"])
    await store.create_canned(_reply("hi", "personal", owner_id="u1"))
