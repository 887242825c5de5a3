"""The supervisor wall's figures tell the truth: every agent is listed (logged-out ones as
offline, counted per queue), a quiet wall is still repainted so "updated at" moves, and a customer
waiting past the SLA target already counts against the live service level."""

from __future__ import annotations

import pytest


def by_name(wall):
    return {a["name"]: a for a in wall["agents"]}


@pytest.mark.gen_test(timeout=30)
async def test_agents_who_never_logged_in_are_listed_offline(console, api, login) -> None:
    supervisor = await console("super")
    wall = await supervisor.ok("subscribe_queues")
    agents = by_name(wall)
    assert {"Alice", "Bob", "Carol"} <= set(agents)
    assert {agents[n]["status"] for n in ("Alice", "Bob", "Carol")} == {"offline"}
    assert agents["Carol"]["capacity"] == 2 and agents["Carol"]["skills"] == {"loans": 4, "cards": 2}
    assert "Supervisor" not in agents and "QA" not in agents  # agents only
    queues = {q["skill"]: q for q in wall["queues"]}
    assert queues["general"]["agents"]["offline"] == 2  # Alice and Bob
    assert queues["cards"]["agents"]["offline"] == 2  # Bob and Carol

    alice = await console("alice")
    await alice.ok("presence", status="available")
    wall = await supervisor.event("queues", where=lambda d: by_name(d)["Alice"]["status"] == "available")
    assert by_name(wall)["Bob"]["status"] == "offline"
    assert {q["skill"]: q for q in wall["queues"]}["general"]["agents"] == {
        "available": 1, "busy": 0, "away": 0, "offline": 1}

    token, _ = await login("super")
    status, body = await api("/api/queues", token=token)
    assert status == 200 and {q["skill"]: q for q in body["queues"]}["general"]["agents"]["offline"] == 1
    status, body = await api("/api/agents", token=token)
    assert by_name(body)["Carol"]["status"] == "offline"


@pytest.mark.gen_test(timeout=30)
async def test_a_quiet_wall_is_repainted(kefu, console) -> None:
    kefu.desk.watchers.refresh_secs = 0.2
    supervisor = await console("super")
    first = await supervisor.ok("subscribe_queues")
    assert first["refresh_secs"] == 0.2
    # Nothing happens at all, and still the wall hears of it, with a later timestamp each time.
    one = await supervisor.event("queues")
    two = await supervisor.event("queues")
    assert first["ts"] <= one["ts"] < two["ts"]


@pytest.mark.gen_test(timeout=30)
async def test_a_customer_waiting_past_the_target_shows_in_the_live_service_level(kefu, console, customer) -> None:
    clock = {"now": kefu.desk.clock()}
    kefu.desk.clock = kefu.desk.routing.clock = lambda: clock["now"]
    alice = await console("alice")
    await alice.ok("presence", status="away")  # logged in, so the customer waits instead of being diverted
    supervisor = await console("super")
    await customer.send_text("o-waits", "有人吗")
    wall = await supervisor.ok("subscribe_queues")
    while not next(q for q in wall["queues"] if q["skill"] == "general")["waiting"]:
        wall = await supervisor.event("queues")
    general = next(q for q in wall["queues"] if q["skill"] == "general")
    assert general["service_level"] is None  # nobody judged yet: waited less than the target
    clock["now"] += general["sla_secs"] + 180  # 3.5 minutes against 30 s
    wall = await supervisor.ok("subscribe_queues")
    general = next(q for q in wall["queues"] if q["skill"] == "general")
    assert general["service_level"] == 0.0 and general["longest_wait_s"] > general["sla_secs"]
