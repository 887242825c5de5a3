"""desk/canned.py on a real SQLite store: replies kept by earlier releases in the ``canned_replies``
setting become public replies once, and without the teams feature nobody is in a team."""

from __future__ import annotations

import pytest

from desk.canned import LEGACY_IMPORTED_SETTING, LEGACY_SETTING, CannedReplies, no_teams
from store.sqlite import SQLiteStore


@pytest.fixture
def store(io_loop, tmp_path):
    s = SQLiteStore(str(tmp_path / "kefu.sqlite3"))
    io_loop.run_sync(s.open)
    yield s
    io_loop.run_sync(s.close)


@pytest.mark.gen_test
async def test_legacy_replies_are_imported_once_as_public(store):
    await store.set_setting(LEGACY_SETTING, [
        {"shortcut": "hi", "text": "您好，请问有什么可以帮您？"},
        {"shortcut": "wait", "title": "稍等", "text": "请稍等"},
        {"shortcut": "bad one", "text": "a shortcut with a space is skipped"},
        {"text": "no shortcut"},
        "not an object",
        {"shortcut": "HI", "text": "a duplicate is skipped"},
    ])
    canned = CannedReplies(store, lambda: 1000.0)
    assert await canned.import_legacy() == 2
    replies = await store.list_canned()
    assert [(r["shortcut"], r["title"], r["scope"]) for r in replies] == [("hi", "", "public"), ("wait", "稍等", "public")]
    assert await store.get_setting(LEGACY_IMPORTED_SETTING) is True
    # Started again (every start calls it): nothing imported twice, even after an edit.
    await store.update_canned(replies[0]["id"], text="changed")
    assert await CannedReplies(store, lambda: 2000.0).import_legacy() == 0
    assert len(await store.list_canned()) == 2


@pytest.mark.gen_test
async def test_without_the_teams_feature_team_replies_reach_nobody(store):
    canned = CannedReplies(store, lambda: 1000.0)
    assert canned.team_ids_of is no_teams and await no_teams("u1") == set()
    admin = {"id": "a1", "roles": ["admin"]}
    sup = {"id": "s1", "roles": ["supervisor", "agent"]}
    await canned.create(admin, {"shortcut": "t", "text": "team text", "scope": "team", "team_id": "x"})
    assert (await canned.usable(sup))["replies"] == []
    assert [r["shortcut"] for r in (await canned.manageable(admin))["replies"]] == ["t"]
    assert await canned.import_legacy() == 0  # no legacy setting: nothing to do
    assert await store.get_setting(LEGACY_IMPORTED_SETTING) is None
