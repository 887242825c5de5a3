"""Teams end to end: the API's rules, and a supervisor in a team sees and acts only on it.

Team A: supervisor ``super``, member alice. Team B: supervisor ``super2`` (created here), members
bob and carol. alice holds one customer, bob another. ``super3`` is a supervisor in no team; the
admin is in none either. Everything goes through the real app: HTTP, sockets, the simulator.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

OPENID_A, OPENID_B = "o-team-a", "o-team-b"
PASSWORD = "a-long-password"


async def _create_user(api, admin_token: str, username: str, roles: list[str], **fields: Any) -> dict[str, Any]:
    code, user = await api("/api/users", "POST", {"username": username, "password": PASSWORD, "roles": roles,
                                                  **fields}, token=admin_token)
    assert code == 201, user
    return user


async def _token(api, username: str) -> str:
    code, data = await api("/api/auth/login", "POST", {"username": username, "password": PASSWORD})
    assert code == 200, data
    return data["token"]


async def _ids(api, admin_token: str) -> dict[str, str]:
    code, data = await api("/api/users", token=admin_token)
    assert code == 200
    return {u["username"]: u["id"] for u in data["users"]}


async def _audit_actions(api, admin_token: str) -> list[str]:
    code, data = await api("/api/audit?limit=200", token=admin_token)
    assert code == 200
    return [e["action"] for e in data["entries"]]


@pytest.mark.gen_test(timeout=60)
async def test_the_teams_api_validates_audits_and_belongs_to_the_admin(api, login) -> None:
    admin_token, _ = await login("admin")
    super_token, _ = await login("super")
    ids = await _ids(api, admin_token)

    code, team = await api("/api/teams", "POST", {"name": "Cards", "supervisors": [ids["super"]],
                                                 "members": [ids["bob"], ids["carol"], ids["bob"]]},
                           token=admin_token)
    assert code == 201, team
    assert team["name"] == "Cards" and team["supervisors"] == [ids["super"]]
    assert team["members"] == [ids["bob"], ids["carol"]]  # a repeated id counts once
    audited = await _audit_actions(api, admin_token)
    assert audited.count("team.create") == 1

    bad = [
        ({"name": "X", "members": ["no-such-user"]}, 400, "bad_field", "members"),
        ({"name": "X", "supervisors": [ids["alice"]]}, 400, "bad_field", "supervisors"),  # lacks the role
        ({"name": " cards "}, 409, "exists", "Cards"),
        ({"name": ""}, 400, "bad_field", "name"),
        ({"name": "X", "members": "bob"}, 400, "bad_field", "members"),
        ({"name": "X", "colour": "red"}, 400, "bad_field", "colour"),
        ([1, 2], 400, "invalid_json", "object"),
    ]
    for body, status, error, named in bad:
        code, answer = await api("/api/teams", "POST", body, token=admin_token)
        assert (code, answer["error"]["code"]) == (status, error), (body, answer)
        assert named in answer["error"]["message"], (body, answer)
    code, answer = await api("/api/teams", "POST", {"name": "Mine"}, token=super_token)
    assert (code, answer["error"]["code"]) == (403, "forbidden")
    code, listed = await api("/api/teams", token=super_token)  # supervisors read teams
    assert code == 200 and [t["name"] for t in listed["teams"]] == ["Cards"]
    assert await _audit_actions(api, admin_token) == audited  # nothing refused was audited

    code, other = await api("/api/teams", "POST", {"name": "Loans"}, token=admin_token)
    assert code == 201
    code, answer = await api(f"/api/teams/{other['id']}", "PATCH", {"name": "CARDS"}, token=admin_token)
    assert (code, answer["error"]["code"]) == (409, "exists")
    code, answer = await api(f"/api/teams/{other['id']}", "PATCH", {"members": [ids["alice"]]}, token=super_token)
    assert code == 403
    code, changed = await api(f"/api/teams/{other['id']}", "PATCH", {"members": [ids["alice"]]}, token=admin_token)
    assert code == 200 and changed["members"] == [ids["alice"]] and changed["name"] == "Loans"
    code, answer = await api("/api/teams/nope", "PATCH", {"name": "Z"}, token=admin_token)
    assert code == 404
    code, _ = await api(f"/api/teams/{other['id']}", "DELETE", token=admin_token)
    assert code == 204
    code, listed = await api("/api/teams", token=admin_token)
    assert [t["name"] for t in listed["teams"]] == ["Cards"]
    assert (await _audit_actions(api, admin_token))[:3] == ["team.delete", "team.update", "team.create"]


async def _story(api, console, customer, login) -> dict[str, Any]:
    """Two teams, each with a customer held by one of its agents; every socket open."""
    admin_token, _ = await login("admin")
    await _create_user(api, admin_token, "super2", ["supervisor"])
    await _create_user(api, admin_token, "super3", ["supervisor"])
    ids = await _ids(api, admin_token)
    code, team_a = await api("/api/teams", "POST", {"name": "A", "supervisors": [ids["super"]],
                                                   "members": [ids["alice"]]}, token=admin_token)
    assert code == 201
    code, team_b = await api("/api/teams", "POST", {"name": "B", "supervisors": [ids["super2"]],
                                                   "members": [ids["bob"], ids["carol"]]}, token=admin_token)
    assert code == 201
    alice, bob = await console("alice"), await console("bob")
    await alice.ok("presence", status="available")
    await customer.send_text(OPENID_A, "我要办卡")
    offer = await alice.event("offer")
    held_a = (await alice.ok("accept", session_id=offer["session_id"]))["session"]["id"]
    await alice.ok("presence", status="away")
    await bob.ok("presence", status="available")
    await customer.send_text(OPENID_B, "我要贷款")
    offer = await bob.event("offer")
    held_b = (await bob.ok("accept", session_id=offer["session_id"]))["session"]["id"]
    sockets = {"alice": alice, "bob": bob, "super": await console("super"), "admin": await console("admin")}
    for name in ("super2", "super3"):
        sockets[name] = await console(name, token=await _token(api, name))
    return {"ids": ids, "a": held_a, "b": held_b, "sockets": sockets, "admin_token": admin_token,
            "team_a": team_a, "team_b": team_b}


def _seen(wall: dict[str, Any]) -> tuple[set[str], set[str]]:
    return {a["id"] for a in wall["agents"]}, {s["id"] for s in wall["sessions"]}


@pytest.mark.gen_test(timeout=90)
async def test_a_supervisor_in_a_team_sees_and_acts_only_on_it(api, console, customer, login) -> None:
    story = await _story(api, console, customer, login)
    ids, held_a, held_b, sockets = story["ids"], story["a"], story["b"], story["sockets"]
    agents = {ids["alice"], ids["bob"], ids["carol"]}
    expected = {
        "super": ({ids["alice"]}, {held_a}),
        "super2": ({ids["bob"], ids["carol"]}, {held_b}),
        "super3": (agents, {held_a, held_b}),  # in no team: everyone
        "admin": (agents, {held_a, held_b}),
    }
    # The wall on subscribe, then a queues event over the socket after a change.
    for name, (want_agents, want_sessions) in expected.items():
        wall = await sockets[name].ok("subscribe_queues")
        seen_agents, seen_sessions = _seen(wall)
        assert seen_agents & agents == want_agents and seen_sessions == want_sessions, name
    await sockets["bob"].ok("presence", status="away")  # a change: every wall repaints
    for name, (want_agents, want_sessions) in expected.items():
        event = await sockets[name].event(
            "queues", where=lambda d: any(a["id"] == ids["bob"] and a["presence"] == "away" for a in d["agents"])
            or ids["bob"] not in {a["id"] for a in d["agents"]})
        seen_agents, seen_sessions = _seen(event)
        assert seen_agents & agents == want_agents and seen_sessions == want_sessions, name
        text = json.dumps(event, ensure_ascii=False)
        for hidden in want_sessions ^ {held_a, held_b}:
            assert hidden not in text, name  # not even in a queue's order
        for openid, session_id in ((OPENID_A, held_a), (OPENID_B, held_b)):
            if session_id not in want_sessions:
                assert openid not in text, name

    # The REST reads of the same picture.
    for name, (want_agents, want_sessions) in expected.items():
        token = sockets[name].token
        code, data = await api("/api/agents", token=token)
        assert code == 200 and {a["id"] for a in data["agents"]} & agents == want_agents, name
        code, data = await api("/api/sessions", token=token)
        assert code == 200 and {s["id"] for s in data["sessions"]} == want_sessions, name
        code, data = await api(f"/api/sessions?agent={ids['bob']}", token=token)
        assert {s["id"] for s in data["sessions"]} == want_sessions & {held_b}, name

    # super acts on team A only.
    sup = sockets["super"]
    for command, fields in (("monitor", {}), ("whisper", {"text": "悄悄话"}), ("barge", {"text": "插话"}),
                            ("reassign", {"to_agent": "alice"}), ("explain", {})):
        frame = await sup.command(command, session_id=held_b, **fields)
        assert not frame["ok"] and frame["error"]["code"] == "not_your_session", (command, frame)
        frame = await sup.command(command, session_id="no-such-session", **fields)
        assert frame["error"]["code"] == "not_your_session", command  # existence is not told
    frame = await sup.command("reassign", session_id=held_a, to_agent="bob")
    assert frame["error"]["code"] == "forbidden", frame
    frame = await sup.command("set_presence", agent_id="bob", status="away")
    assert frame["error"]["code"] == "forbidden", frame
    assert (await sup.ok("monitor", session_id=held_a))["session"]["id"] == held_a
    await sup.ok("whisper", session_id=held_a, text="好的")
    await sup.ok("set_presence", agent_id="alice", status="available")
    code, _ = await api(f"/api/sessions/{held_b}", token=sup.token)
    assert code == 403
    # The unscoped supervisor and the admin act on team B's session.
    for name in ("super3", "admin"):
        assert (await sockets[name].ok("monitor", session_id=held_b))["session"]["id"] == held_b


@pytest.mark.gen_test(timeout=90)
async def test_moving_an_agent_between_teams_counts_at_once(api, console, customer, login) -> None:
    story = await _story(api, console, customer, login)
    ids, held_b, sockets, admin_token = story["ids"], story["b"], story["sockets"], story["admin_token"]
    sup, sup2 = sockets["super"], sockets["super2"]
    wall = await sup.ok("subscribe_queues")
    assert ids["bob"] not in _seen(wall)[0]
    assert ids["bob"] in _seen(await sup2.ok("subscribe_queues"))[0]
    await sup2.ok("monitor", session_id=held_b)
    frame = await sup.command("monitor", session_id=held_b)
    assert frame["error"]["code"] == "not_your_session"

    # bob moves from team B to team A: no restart, no reconnect.
    code, _ = await api(f"/api/teams/{story['team_b']['id']}", "PATCH", {"members": [ids["carol"]]}, token=admin_token)
    assert code == 200
    code, _ = await api(f"/api/teams/{story['team_a']['id']}", "PATCH",
                        {"members": [ids["alice"], ids["bob"]]}, token=admin_token)
    assert code == 200
    event = await sup.event("queues", where=lambda d: ids["bob"] in {a["id"] for a in d["agents"]})
    assert held_b in _seen(event)[1]
    ended = await sup2.event("monitor_ended", session_id=held_b)
    assert ended["reason"] == "out_of_scope"
    event = await sup2.event("queues", where=lambda d: ids["bob"] not in {a["id"] for a in d["agents"]})
    assert held_b not in _seen(event)[1]
    code, data = await api("/api/agents", token=sup.token)
    assert ids["bob"] in {a["id"] for a in data["agents"]}
    assert (await sup.ok("monitor", session_id=held_b))["session"]["id"] == held_b
    frame = await sup2.command("whisper", session_id=held_b, text="还在吗")
    assert frame["error"]["code"] == "not_your_session"
