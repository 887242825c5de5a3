"""Skills (queues) administered through the real app: ``PUT /api/skills/{name}`` applied live to the
routing engine (hours, strategy), every bad value refused with its field and no audit entry, the
priority rules, and a supervisor's ``move_session`` — real port, real sockets, the simulator."""

from __future__ import annotations

from typing import Any

import pytest

from desk.texts import DEFAULT_MESSAGES

from .test_desk_flows import api_replies


async def _setting_changes(api, admin: str) -> list[dict[str, Any]]:
    entries = (await api("/api/audit?limit=200", token=admin))[1]["entries"]
    return [e for e in entries if e["action"] == "setting_changed"]


@pytest.mark.gen_test(timeout=30)
async def test_closed_hours_divert_a_new_customer_with_the_out_of_hours_text(kefu, api, login, console,
                                                                           customer, platform) -> None:
    admin, _ = await login("admin")
    alice = await console("alice")  # has general: the diversion is for the hours, not for nobody there
    await alice.ok("presence", status="available")

    # Every weekday missing from weekly is closed: the queue is closed now, whatever the clock says.
    status, skill = await api("/api/skills/general", "PUT",
                              {"hours": {"timezone": "Asia/Shanghai", "weekly": {}, "holidays": ["2030-10-01"]}},
                              token=admin)
    assert status == 200, skill
    assert skill["hours"] == {"timezone": "Asia/Shanghai", "weekly": {}, "holidays": ["2030-10-01"], "workdays": []}
    assert skill["label"] == "综合咨询" and skill["strategy"] == "longest_idle"  # fields left out kept

    await customer.send_text("o-night", "晚上好")
    await kefu.desk.drain()
    [session] = await kefu.store.customer_sessions("o-night")
    assert (session["state"], session["close_reason"]) == ("diverted", "outside_hours")
    assert api_replies(platform, "o-night") == [DEFAULT_MESSAGES["out_of_hours"]]
    assert not [e for e in alice.events if e["event"] == "offer"]

    # Open again (hours null), no restart: the night's leave-message is offered to alice first
    # (nobody else waits; desk/leave_messages.py), then the next customer once she is free.
    assert (await api("/api/skills/general", "PUT", {"hours": None}, token=admin))[0] == 200
    left = await alice.event("offer")
    assert (left["customer"]["openid"], left["kind"]) == ("o-night", "leave_message")
    await alice.ok("accept", session_id=left["session_id"])
    await customer.send_text("o-morning", "早上好")
    await alice.ok("close", session_id=left["session_id"], wrapup="resolved")
    offer = await alice.event("offer", kind="session")
    assert offer["customer"]["openid"] == "o-morning"
    assert [e["details"]["version"] for e in await _setting_changes(api, admin)] == [2, 1]


@pytest.mark.gen_test(timeout=30)
async def test_a_changed_strategy_decides_the_next_offer(kefu, api, login, console, customer) -> None:
    admin, _ = await login("admin")
    bob = await console("bob")  # general 3
    alice = await console("alice")  # general 5
    await bob.ok("presence", status="available")  # bob has been idle longer than alice
    await alice.ok("presence", status="available")

    status, skill = await api("/api/skills/general", "PUT", {"strategy": "best_skill"}, token=admin)
    assert (status, skill["strategy"]) == (200, "best_skill")
    supervisor = await console("super")
    wall = await supervisor.ok("subscribe_queues")
    assert next(q for q in wall["queues"] if q["skill"] == "general")["strategy"] == "best_proficiency"
    await customer.send_text("o-s1", "一")
    offer = await alice.event("offer")  # the highest level, though bob waited longer
    assert offer["customer"]["openid"] == "o-s1"
    await alice.ok("accept", session_id=offer["session_id"])

    # Back to longest idle: bob, who has had no offer at all, is next (best skill would be alice, 1/3).
    assert (await api("/api/skills/general", "PUT", {"strategy": "longest_idle"}, token=admin))[0] == 200
    await customer.send_text("o-s2", "二")
    offer = await bob.event("offer")
    assert offer["customer"]["openid"] == "o-s2"
    assert not [e for e in alice.events if e["event"] == "offer" and e["data"]["session_id"] == offer["session_id"]]


BAD_VALUES = [
    ({"hours": {"weekly": {"mon": [["09:00", "25:00"]]}}}, "hours.weekly.mon"),
    ({"hours": {"weekly": {"mon": [["18:00", "09:00"]]}}}, "hours.weekly.mon"),
    ({"hours": {"weekly": {"funday": [["09:00", "18:00"]]}}}, "hours.weekly.funday"),
    ({"hours": {"timezone": "Mars/Olympus"}}, "hours.timezone"),
    ({"hours": {"timezone": "America"}}, "hours.timezone"),  # a directory of the zone database
    ({"hours": {"timezone": "a" * 300}}, "hours.timezone"),  # too long for a file name
    ({"hours": {"holidays": ["2026-02-30"]}}, "hours.holidays"),
    ({"hours": {"workdays": ["next monday"]}}, "hours.workdays"),
    ({"strategy": "fastest"}, "strategy"),
    ({"mode": "robot"}, "mode"),
    ({"sla_secs": -5}, "sla_secs"),
    ({"sla_target": 120}, "sla_target"),
    ({"offer_timeout_s": 0}, "offer_timeout_s"),
    ({"max_wait_s": -1}, "max_wait_s"),
    ({"overflow": {"to": "general", "after_s": 30}}, "overflow.to"),  # to itself
    ({"overflow": {"to": "nowhere", "after_s": 30}}, "overflow.to"),
    ({"overflow": {"to": "cards", "after_s": -1}}, "overflow.after_s"),
    ({"overflow": {"to": "loans", "after_s": 30}}, "overflow.to"),  # loans -> general already: a loop
    ({"labels": {"fr": "Général"}}, "labels.fr"),
    ({"colour": "red"}, "colour"),
    ({"name": "other"}, "name"),
]


@pytest.mark.gen_test(timeout=60)
async def test_bad_values_are_refused_with_the_field_named_and_nothing_changed(kefu, api, login) -> None:
    admin, _ = await login("admin")
    assert (await api("/api/skills/loans", "PUT", {"overflow": {"to": "general", "after_s": 60}}, token=admin))[0] == 200
    before = await api("/api/skills", token=admin)
    changes = await _setting_changes(api, admin)
    for body, field in BAD_VALUES:
        status, answer = await api("/api/skills/general", "PUT", body, token=admin)
        assert status == 400, (body, answer)
        assert (answer["error"]["code"], answer["error"]["field"]) == ("bad_field", field), body
        assert answer["error"]["message"].startswith(field + ":"), answer
    status, answer = await api("/api/skills/bad%20name", "PUT", {"label": "x"}, token=admin)
    assert (status, answer["error"]["field"]) == (400, "name")
    status, answer = await api("/api/skills/general", "PUT", "[1]", token=admin)
    assert (status, answer["error"]["code"]) == (400, "invalid_json")
    assert await api("/api/skills", token=admin) == before
    assert await _setting_changes(api, admin) == changes
    assert kefu.desk.routing.engine.queue_config("general").strategy == "longest_idle"


@pytest.mark.gen_test(timeout=30)
async def test_only_admins_change_skills_and_a_new_skill_is_a_queue_at_once(kefu, api, login, console) -> None:
    admin, _ = await login("admin")
    agent, _ = await login("alice")
    supervisor, _ = await login("super")
    for token in (agent, supervisor):
        status, body = await api("/api/skills/general", "PUT", {"sla_secs": 10}, token=token)
        assert (status, body["error"]["code"]) == (403, "forbidden")
    assert (await api("/api/skills", token=agent))[0] == 200  # everyone reads the catalogue

    wall_socket = await console("super")
    await wall_socket.ok("subscribe_queues")
    status, skill = await api("/api/skills/wealth", "PUT", {
        "labels": {"zh-CN": "理财", "en": "Wealth"}, "strategy": "round_robin", "sla_secs": 20, "sla_target": 90,
        "offer_timeout_s": 15, "max_wait_s": 300, "overflow": {"to": "general", "after_s": 120}, "mode": "bot_first",
        "hours": {"timezone": "Europe/London", "weekly": {"mon": [["09:00", "12:00"], ["13:00", "17:30"]]},
                  "holidays": ["2026-12-25"], "workdays": ["2026-12-27"]}}, token=admin)
    assert status == 200, skill
    assert (skill["label"], skill["labels"]["en"], skill["mode"]) == ("理财", "Wealth", "bot_first")
    names = [s["name"] for s in (await api("/api/skills", token=agent))[1]["skills"]]
    assert names[-1] == "wealth"
    cfg = kefu.desk.routing.engine.queue_config("wealth")
    assert (cfg.strategy, cfg.sla_secs, cfg.offer_timeout_secs, cfg.max_wait_secs) == ("round_robin", 20, 15, 300)
    assert (cfg.overflow_skills, cfg.overflow_after_secs) == (("general",), 120)
    assert cfg.business_hours.tz == "Europe/London"
    assert cfg.business_hours.weekly == ((0, "09:00", "12:00"), (0, "13:00", "17:30"))
    assert cfg.business_hours.makeup_workdays == ("2026-12-27",)
    queues = await wall_socket.event("queues", where=lambda d: any(q["skill"] == "wealth" for q in d["queues"]))
    assert next(q for q in queues["queues"] if q["skill"] == "wealth")["sla_secs"] == 20
    status, meta = await api("/api/settings/skills?meta=1", token=admin)
    assert meta["version"] == 1 and meta["updated_by"]


@pytest.mark.kefu(offer_timeout=7)
@pytest.mark.gen_test(timeout=30)
async def test_configured_values_win_over_the_desk_defaults_when_a_session_arrives(kefu, api, login, console,
                                                                                customer) -> None:
    admin, _ = await login("admin")
    alice = await console("alice")
    await alice.ok("presence", status="available")
    assert (await api("/api/skills/general", "PUT", {"offer_timeout_s": 45, "strategy": "least_occupied"},
                      token=admin))[0] == 200
    await customer.send_text("o-win", "你好")
    offer = await alice.event("offer")
    assert offer["expires_in"] > 40  # not the desk's 7 s: queuing a session did not reconfigure the queue
    cfg = kefu.desk.routing.engine.queue_config("general")
    assert (cfg.offer_timeout_secs, cfg.strategy) == (45, "least_occupied")


@pytest.mark.gen_test(timeout=30)
async def test_priority_rules_order_the_queue_and_are_validated(kefu, api, login, console, customer) -> None:
    admin, _ = await login("admin")
    alice = await console("alice")
    await alice.ok("presence", status="away")  # logged in (no diversion) but taking nothing: they queue
    status, body = await api("/api/settings/priority_rules", "PUT", [{"tag": "vip", "priority": 1000}], token=admin)
    assert (status, body["error"]["field"]) == (400, "priority_rules[0].priority")
    status, body = await api("/api/settings/priority_rules", "PUT", [{"tag": "", "priority": 3}], token=admin)
    assert (status, body["error"]["field"]) == (400, "priority_rules[0].tag")
    agent, _ = await login("alice")
    assert (await api("/api/settings/priority_rules", "PUT", [], token=agent))[0] == 403
    assert await api("/api/settings/priority_rules", token=admin) == (200, [{"tag": "vip", "priority": 10}])
    assert await api("/api/settings/priority_rules", "PUT", [{"tag": "gold", "priority": 30}, {"tag": "vip",
                                                                                                 "priority": 10}],
                     token=admin) == (200, [{"tag": "gold", "priority": 30}, {"tag": "vip", "priority": 10}])

    await customer.send_text("o-plain", "先到")
    await kefu.store.upsert_customer("o-gold", seen_at=1.0, tags=["Gold", "vip"])
    await customer.send_text("o-gold", "后到")
    await kefu.desk.drain()
    sessions = {s["openid"]: s for s in (await api("/api/sessions?limit=10", token=admin))[1]["sessions"]}
    assert (sessions["o-gold"]["priority"], sessions["o-plain"]["priority"]) == (30, 0)
    order = kefu.desk.routing.engine.waiting_sessions("general")
    assert [w["session_id"] for w in order] == [sessions["o-gold"]["id"], sessions["o-plain"]["id"]]


@pytest.mark.gen_test(timeout=30)
async def test_a_supervisor_moves_a_waiting_session_to_another_skill(kefu, api, login, console, customer) -> None:
    admin, _ = await login("admin")
    alice = await console("alice")  # general, loans
    await alice.ok("presence", status="available")
    await customer.send_text("o-move", "我的信用卡")
    offer = await alice.event("offer")
    session_id = offer["session_id"]

    refused = await alice.command("move_session", session_id=session_id, to_skill="cards")
    assert (refused["ok"], refused["error"]["code"]) == (False, "forbidden")
    supervisor = await console("super")
    nowhere = await supervisor.command("move_session", session_id=session_id, to_skill="nowhere")
    assert (nowhere["ok"], nowhere["error"]["code"]) == (False, "invalid_state")
    nobody = await supervisor.command("move_session", session_id=session_id, to_skill="cards")
    assert (nobody["ok"], nobody["error"]["code"]) == (False, "no_agents")  # bob is not in yet
    bob = await console("bob")  # general, cards
    assert (await api("/api/skills/cards", "PUT", {"hours": {"weekly": {}}}, token=admin))[0] == 200
    closed = await supervisor.command("move_session", session_id=session_id, to_skill="cards")
    assert (closed["ok"], closed["error"]["code"]) == (False, "queue_closed")
    assert (await kefu.store.get_session(session_id))["skill"] == "general"  # refused: nothing changed
    assert kefu.desk.routing.engine.session(session_id)["state"] == "offered"

    assert (await api("/api/skills/cards", "PUT", {"hours": None}, token=admin))[0] == 200
    await bob.ok("presence", status="available")
    result = await supervisor.ok("move_session", session_id=session_id, to_skill="cards")
    assert result == {"session_id": session_id, "skill": "cards", "from_skill": "general"}
    revoked = await alice.event("offer_revoked", session_id=session_id)
    assert revoked["reason"] == "skill_changed"
    moved = await bob.event("offer", session_id=session_id)
    assert moved["skill"] == "cards"
    assert (await kefu.store.get_session(session_id))["skill"] == "cards"
    again = await supervisor.command("move_session", session_id=session_id, to_skill="cards")
    assert (again["ok"], again["error"]["code"]) == (False, "invalid_state")
    entries = (await api(f"/api/audit?session_id={session_id}", token=admin))[1]["entries"]
    moves = [e for e in entries if e["action"] == "move_session"]
    assert [(e["target"], e["details"]) for e in moves] == [("cards", {"from_skill": "general", "to_skill": "cards"})]
