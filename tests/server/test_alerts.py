"""Alerts end to end: thresholds set through the API (validated, audited), a skill's oldest wait and
an agent's absence cross them as the (injected) clock moves, supervisors of the team concerned hear
``alert`` and, on recovery, ``level: "ok"``; another team's supervisor hears neither; a supervisor
who connects during an alert finds it in the welcome and the wall."""

from __future__ import annotations

from typing import Any

import pytest

from tests.server.test_teams import _create_user, _token


async def audit(api: Any, token: str) -> list[dict[str, Any]]:
    entries = (await api("/api/audit?limit=100", token=token))[1]["entries"]
    return [e for e in entries if e["action"] == "setting_changed" and e.get("target") == "alerts"]


@pytest.mark.gen_test(timeout=40)
async def test_thresholds_are_validated_audited_and_kept(api, login) -> None:
    admin, _ = await login("admin")
    supervisor, _ = await login("super")
    status, body = await api("/api/settings/alerts", token=admin)
    assert status == 200 and body["oldest_wait_s"] is None and body["skills"] == {}  # off by default
    for bad, field in (({"oldest_wait_s": -5}, "oldest_wait_s"), ({"service_level_below": 90}, "service_level_below"),
                       ({"queue_length_above": "ten"}, "queue_length_above"), ({"noise": 1}, "noise"),
                       ({"skills": {"nope": {"oldest_wait_s": 5}}}, "skills.nope"), ("[]", "alerts")):
        status, answer = await api("/api/settings/alerts", "PUT", bad, token=admin)
        assert (status, answer["error"]["code"]) == (400, "bad_field"), bad
        assert answer["error"]["message"].startswith(f"{field}:"), answer
    assert await audit(api, admin) == []
    assert (await api("/api/settings/alerts", "PUT", {"oldest_wait_s": 60}, token=supervisor))[0] == 403
    status, body = await api("/api/settings/alerts", "PUT", {"oldest_wait_s": 60, "service_level_below": 0.8,
                                                            "queue_length_above": 5,
                                                            "skills": {"loans": {"oldest_wait_s": 30}}}, token=admin)
    assert status == 200 and body["oldest_wait_s"] == 60 and body["skills"]["loans"] == {"oldest_wait_s": 30}
    status, body = await api("/api/settings/alerts", "PUT", {"agent_away_s": 900}, token=admin)
    assert body["oldest_wait_s"] == 60 and body["agent_away_s"] == 900  # fields left out keep their value
    entries = await audit(api, admin)
    assert len(entries) == 2 and entries[0]["details"]["after"]["agent_away_s"] == 900


@pytest.mark.gen_test(timeout=60)
async def test_an_alert_fires_and_clears_for_the_team_concerned_only(kefu, api, login, console, customer) -> None:
    clock = {"now": kefu.desk.clock()}
    kefu.desk.clock = kefu.desk.routing.clock = lambda: clock["now"]
    kefu.desk.watchers.refresh_secs = 0.2  # the wall's repaint is the timer that re-checks the thresholds
    admin, _ = await login("admin")
    ids = {u["username"]: u["id"] for u in (await api("/api/users", token=admin))[1]["users"]}
    other = await _create_user(api, admin, "super2", ["supervisor"], name="Supervisor 2")
    for name, supervisor, member in (("Loans team", ids["super"], ids["alice"]), ("Cards team", other["id"], ids["bob"])):
        status, _ = await api("/api/teams", "POST", {"name": name, "supervisors": [supervisor], "members": [member]},
                              token=admin)
        assert status == 201
    status, _ = await api("/api/settings/alerts", "PUT", {"oldest_wait_s": 60, "agent_away_s": 600}, token=admin)
    assert status == 200

    alice = await console("alice")
    await alice.ok("presence", status="away")  # logged in: the customer waits instead of being diverted
    sup = await console("super")
    sup2 = await console("super2", token=await _token(api, "super2"))
    await sup.ok("subscribe_queues")
    await sup2.ok("subscribe_queues")
    await customer.click("o-alert", "skill:loans")
    await customer.send_text("o-alert", "我想问贷款")

    clock["now"] += 90  # the loans customer has waited 90 s against 60
    fired = await sup.event("alert", code="oldest_wait_too_long", skill="loans")
    assert fired["level"] == "warning" and fired["threshold"] == 60 and fired["value"] > 60
    wall = await sup.event("queues", where=lambda w: any(a["code"] == "oldest_wait_too_long" for a in w.get("alerts", ())))
    assert [a["skill"] for a in wall["alerts"]] == ["loans"]

    clock["now"] += 600  # and alice has been away for more than 10 minutes
    away = await sup.event("alert", code="agent_away_too_long")
    assert away["agent_id"] == ids["alice"] and away["level"] == "warning" and away["threshold"] == 600

    # Connecting now: the welcome carries the alerts that concern this supervisor.
    again = await console("super")
    assert {(a["code"], a["level"]) for a in again.welcome["alerts"]} == {("oldest_wait_too_long", "warning"),
                                                                        ("agent_away_too_long", "warning")}
    fresh2 = await console("super2", token=sup2.token)
    assert "alerts" not in fresh2.welcome
    assert (await fresh2.ok("subscribe_queues"))["alerts"] == []  # the wall is narrowed to the team too

    # Recovery: alice comes back and answers; the queue empties.
    await alice.ok("presence", status="available")
    back = await sup.event("alert", code="agent_away_too_long", level="ok")
    assert back["agent_id"] == ids["alice"]
    offer = await alice.event("offer")
    await alice.ok("accept", session_id=offer["session_id"])
    cleared = await sup.event("alert", code="oldest_wait_too_long", skill="loans", level="ok")
    assert cleared["threshold"] == 60
    wall = await sup.event("queues", where=lambda w: w.get("alerts") == [])
    assert wall["alerts"] == []

    # The other team's supervisor heard none of it (every frame sent before this result is read).
    await sup2.ok("subscribe_queues")
    assert [f for f in sup2.events if f["event"] == "alert"] == []
    assert not any(w["data"].get("alerts") for w in sup2.events if w["event"] == "queues")
