"""Canned replies (快捷回复) through the real app: who may write which scope, what each caller's
list holds, validation with the field named (nothing stored, nothing audited) and the audit of
every change. Team membership comes from a fake in place of the teams feature's lookups."""

from __future__ import annotations

from typing import Any

import pytest

TEAM_A, TEAM_B = "team-a", "team-b"


class FakeTeams:
    """Who is in and who supervises which team, by username (ids are filled in by `wire`)."""

    def __init__(self, members: dict[str, set[str]], supervisors: dict[str, set[str]]) -> None:
        self.members = members
        self.supervisors = supervisors
        self.ids: dict[str, str] = {}

    async def team_ids_of(self, user_id: str) -> set[str]:
        return set(self.members.get(self.ids.get(user_id, ""), set()))

    async def supervised_team_ids(self, user_id: str) -> set[str]:
        return set(self.supervisors.get(self.ids.get(user_id, ""), set()))


@pytest.fixture
def users(kefu, login, io_loop):
    """Tokens of the demo users, with the desk's canned replies told: alice and super are in team
    A and super supervises it, bob is in team B."""
    teams = FakeTeams(members={"alice": {TEAM_A}, "super": {TEAM_A}, "bob": {TEAM_B}},
                      supervisors={"super": {TEAM_A}})
    kefu.desk.canned.team_ids_of = teams.team_ids_of
    kefu.desk.canned.supervised_team_ids = teams.supervised_team_ids

    async def sign_in() -> dict[str, str]:
        tokens = {}
        for name in ("alice", "bob", "carol", "super", "admin", "qa"):
            tokens[name], user = await login(name)
            teams.ids[user["id"]] = name
        return tokens

    return sign_in


def _reply(shortcut: str, scope: str = "public", **fields: Any) -> dict[str, Any]:
    return {"shortcut": shortcut, "title": shortcut.title(), "text": f"{shortcut} text, {{customer}}",
            "scope": scope, **fields}


async def _audit(api, admin: str) -> list[dict[str, Any]]:
    entries = (await api("/api/audit?limit=200", token=admin))[1]["entries"]
    return [e for e in entries if (e["action"] or "").startswith("canned.")]


async def _shortcuts(api, token: str, query: str = "") -> list[str]:
    status, body = await api(f"/api/canned{query}", token=token)
    assert status == 200, body
    return [r["shortcut"] for r in body["replies"]]


@pytest.mark.gen_test(timeout=30)
async def test_who_may_write_which_scope_and_what_each_caller_lists(api, users) -> None:
    t = await users()

    async def create(who: str, body: dict[str, Any]) -> tuple[int, Any]:
        return await api("/api/canned", "POST", body, token=t[who])

    # Admin: public and any team's.
    status, public = await create("admin", _reply("hello", category="开场"))
    assert status == 201 and public["scope"] == "public" and public["category"] == "开场"
    assert (await create("admin", _reply("b-admin", "team", team_id=TEAM_B)))[0] == 201
    # Supervisor: their own team's, not another team's, not public.
    status, team_a = await create("super", _reply("a-wait", "team", team_id=TEAM_A))
    assert status == 201 and team_a["team_id"] == TEAM_A
    status, body = await create("super", _reply("b-super", "team", team_id=TEAM_B))
    assert (status, body["error"]["code"]) == (403, "forbidden")
    assert (await create("super", _reply("sup-public")))[0] == 403
    # Agents: their own personal replies; not public, not a team's (not even their own team's).
    status, mine = await create("alice", _reply("mine", "personal"))
    assert status == 201 and mine["owner_id"] and mine["team_id"] is None
    assert (await create("bob", _reply("mine", "personal")))[0] == 201  # same shortcut, other owner
    assert (await create("alice", _reply("alice-public")))[0] == 403
    assert (await create("alice", _reply("alice-team", "team", team_id=TEAM_A)))[0] == 403
    # QA answers no customer: no personal replies either.
    assert (await create("qa", _reply("qa-mine", "personal")))[0] == 403

    # Each list holds exactly what its caller may use: public, their teams', their own.
    assert await _shortcuts(api, t["alice"]) == ["a-wait", "hello", "mine"]
    assert await _shortcuts(api, t["bob"]) == ["b-admin", "hello", "mine"]
    assert await _shortcuts(api, t["carol"]) == ["hello"]
    assert await _shortcuts(api, t["super"]) == ["a-wait", "hello"]
    assert await _shortcuts(api, t["admin"]) == ["hello"]
    # The admin page's list (?manage=1): an admin sees every team's replies, never another's personal.
    assert await _shortcuts(api, t["admin"], "?manage=1") == ["a-wait", "b-admin", "hello"]
    assert await _shortcuts(api, t["super"], "?manage=1") == ["a-wait", "hello"]
    # Each reply says whether the caller may change it.
    listed = {r["shortcut"]: r["editable"] for r in (await api("/api/canned", token=t["alice"]))[1]["replies"]}
    assert listed == {"a-wait": False, "hello": False, "mine": True}
    listed = {r["shortcut"]: r["editable"] for r in (await api("/api/canned", token=t["super"]))[1]["replies"]}
    assert listed == {"a-wait": True, "hello": False}
    assert (await api("/api/canned"))[0] == 401


@pytest.mark.gen_test(timeout=30)
async def test_edit_and_delete_follow_the_same_rule(api, users) -> None:
    t = await users()
    _, public = await api("/api/canned", "POST", _reply("hello"), token=t["admin"])
    _, team_b = await api("/api/canned", "POST", _reply("b-only", "team", team_id=TEAM_B), token=t["admin"])
    _, team_a = await api("/api/canned", "POST", _reply("a-only", "team", team_id=TEAM_A), token=t["super"])
    _, alices = await api("/api/canned", "POST", _reply("mine", "personal"), token=t["alice"])

    # A supervisor cannot edit or delete another team's replies, nor public ones.
    status, body = await api(f"/api/canned/{team_b['id']}", "PATCH", {"text": "changed"}, token=t["super"])
    assert (status, body["error"]["code"]) == (403, "forbidden")
    assert (await api(f"/api/canned/{team_b['id']}", "DELETE", token=t["super"]))[0] == 403
    assert (await api(f"/api/canned/{public['id']}", "PATCH", {"text": "x"}, token=t["super"]))[0] == 403
    # ... nor move their own team's reply into another team.
    status, _ = await api(f"/api/canned/{team_a['id']}", "PATCH", {"team_id": TEAM_B}, token=t["super"])
    assert status == 403
    # An agent changes only their own personal replies.
    assert (await api(f"/api/canned/{alices['id']}", "PATCH", {"text": "x"}, token=t["bob"]))[0] == 403
    assert (await api(f"/api/canned/{alices['id']}", "DELETE", token=t["bob"]))[0] == 403
    assert (await api(f"/api/canned/{team_a['id']}", "DELETE", token=t["alice"]))[0] == 403
    # Nothing refused changed anything.
    status, body = await api("/api/canned?manage=1", token=t["admin"])
    assert {r["id"]: r["text"] for r in body["replies"]} == {
        public["id"]: public["text"], team_b["id"]: team_b["text"], team_a["id"]: team_a["text"]}

    status, edited = await api(f"/api/canned/{team_a['id']}", "PATCH",
                               {"text": "请稍等，{agent} 正在查询", "category": "等待"}, token=t["super"])
    assert status == 200 and (edited["text"], edited["category"], edited["shortcut"]) == (
        "请稍等，{agent} 正在查询", "等待", "a-only")
    status, edited = await api(f"/api/canned/{alices['id']}", "PATCH", {"shortcut": "/mine2"}, token=t["alice"])
    assert status == 200 and edited["shortcut"] == "mine2"
    assert (await api(f"/api/canned/{alices['id']}", "DELETE", token=t["alice"]))[0] == 200
    assert await _shortcuts(api, t["alice"]) == ["a-only", "hello"]
    status, body = await api(f"/api/canned/{alices['id']}", "DELETE", token=t["alice"])
    assert (status, body["error"]["code"]) == (404, "not_found")
    # An admin moves a team reply to public.
    status, moved = await api(f"/api/canned/{team_b['id']}", "PATCH", {"scope": "public"}, token=t["admin"])
    assert status == 200 and (moved["scope"], moved["team_id"]) == ("public", None)
    assert "b-only" in await _shortcuts(api, t["carol"])


@pytest.mark.gen_test(timeout=30)
async def test_bad_input_names_the_field_and_changes_nothing(api, users) -> None:
    t = await users()
    admin = t["admin"]
    _, existing = await api("/api/canned", "POST", _reply("hello"), token=admin)
    await api("/api/canned", "POST", _reply("wait", "team", team_id=TEAM_A), token=admin)
    before_audit = await _audit(api, admin)
    before = (await api("/api/canned?manage=1", token=admin))[1]

    cases: list[tuple[dict[str, Any], int, str, str]] = [
        ({**_reply("x"), "text": ""}, 400, "bad_field", "text"),
        ({**_reply("x"), "text": "   "}, 400, "bad_field", "text"),
        ({**_reply("x"), "text": "长" * 2001}, 400, "bad_field", "text"),
        ({**_reply("x"), "shortcut": "two words"}, 400, "bad_field", "shortcut"),
        ({**_reply("x"), "shortcut": "s" * 33}, 400, "bad_field", "shortcut"),
        ({**_reply("x"), "shortcut": ""}, 400, "bad_field", "shortcut"),
        ({**_reply("x"), "shortcut": 7}, 400, "bad_field", "shortcut"),
        ({**_reply("x"), "scope": "everyone"}, 400, "bad_field", "scope"),
        ({k: v for k, v in _reply("x").items() if k != "scope"}, 400, "bad_field", "scope"),
        (_reply("x", "team"), 400, "bad_field", "team_id"),
        (_reply("x", "public", team_id=TEAM_A), 400, "bad_field", "team_id"),
        ({**_reply("x"), "owner_id": "someone"}, 400, "bad_field", "owner_id"),
        ({**_reply("x"), "title": "t" * 81}, 400, "bad_field", "title"),
        (_reply("HELLO"), 409, "exists", "shortcut"),  # same scope, case-insensitively
        (_reply("/wait", "team", team_id=TEAM_A), 409, "exists", "shortcut"),
    ]
    for body, status, code, field in cases:
        got_status, got = await api("/api/canned", "POST", body, token=admin)
        assert (got_status, got["error"]["code"]) == (status, code), (body, got)
        assert got["error"]["message"].startswith(f"{field}:"), (body, got)
    # A text of exactly 2,000 characters and a shortcut of 32 are fine (then removed again below).
    status, edge = await api("/api/canned", "POST", {**_reply("s" * 32), "text": "长" * 2000}, token=admin)
    assert status == 201
    assert (await api(f"/api/canned/{edge['id']}", "DELETE", token=admin))[0] == 200

    for patch, field in [({"text": ""}, "text"), ({"shortcut": "a b"}, "shortcut"), ({"scope": "team"}, "team_id"),
                         ({"scope": "x"}, "scope"), ({"nonsense": 1}, "nonsense"), ({"shortcut": "wait", "scope": "team",
                                                                                      "team_id": TEAM_A}, "shortcut")]:
        status, got = await api(f"/api/canned/{existing['id']}", "PATCH", patch, token=admin)
        assert status in (400, 409) and got["error"]["message"].startswith(f"{field}:"), (patch, got)
    for raw in ("[", "[1]"):
        status, got = await api("/api/canned", "POST", raw, token=admin)
        assert (status, got["error"]["code"]) == (400, "invalid_json")
    assert (await api("/api/canned/nope", "PATCH", {"text": "x"}, token=admin))[0] == 404

    assert (await api("/api/canned?manage=1", token=admin))[1] == before
    after_audit = await _audit(api, admin)
    # Only the 2,000-character reply's create and delete were audited.
    assert [e["action"] for e in after_audit[:2]] == ["canned.delete", "canned.create"]
    assert after_audit[2:] == before_audit


@pytest.mark.gen_test(timeout=30)
async def test_every_change_is_audited_with_who_and_what(api, users, login) -> None:
    t = await users()
    _, admin_user = await login("admin")
    _, alice_user = await login("alice")
    _, reply = await api("/api/canned", "POST", _reply("hello", category="开场"), token=t["admin"])
    await api(f"/api/canned/{reply['id']}", "PATCH", {"text": "您好，{customer}！"}, token=t["admin"])
    # A change to the same values is not a change: no audit entry.
    await api(f"/api/canned/{reply['id']}", "PATCH", {"text": "您好，{customer}！"}, token=t["admin"])
    _, mine = await api("/api/canned", "POST", _reply("mine", "personal"), token=t["alice"])
    await api(f"/api/canned/{mine['id']}", "DELETE", token=t["alice"])

    entries = list(reversed(await _audit(api, t["admin"])))
    assert [(e["action"], e["target"], e["actor_id"]) for e in entries] == [
        ("canned.create", reply["id"], admin_user["id"]),
        ("canned.update", reply["id"], admin_user["id"]),
        ("canned.create", mine["id"], alice_user["id"]),
        ("canned.delete", mine["id"], alice_user["id"]),
    ]
    created, updated, _, deleted = entries
    assert created["details"]["reply"]["text"] == "hello text, {customer}"
    assert (created["details"]["scope"], created["details"]["shortcut"]) == ("public", "hello")
    assert updated["details"]["before"] == {"text": "hello text, {customer}"}
    assert updated["details"]["after"] == {"text": "您好，{customer}！"}
    assert deleted["details"]["reply"]["shortcut"] == "mine" and deleted["details"]["scope"] == "personal"
