"""Hand-overs end to end (issue 10, items 1-4): a customer is never stranded by one missed offer,
transfers to someone who cannot take them are refused up front, the receiving agent and the
customer are told what is happening, and a supervisor learns how a reassignment ended."""

from __future__ import annotations

import pytest

from desk.handover import CUSTOMER_NOTICE

from .test_desk_flows import api_replies, take


async def server_holder(kefu, session_id: str) -> tuple[str, str | None]:
    """(state, agent) of a session as the store and the routing engine both have it."""
    stored = await kefu.store.get_session(session_id)
    engine = kefu.desk.routing.engine.session(session_id)
    assert stored["agent_id"] == engine["agent"], (stored, engine)
    return stored["state"], stored["agent_id"]


@pytest.mark.kefu(offer_timeout=1)
@pytest.mark.gen_test(timeout=30)
async def test_the_only_agent_is_offered_the_session_again_after_letting_it_time_out(console, customer) -> None:
    alice = await console("alice")
    await alice.ok("presence", status="available")
    await customer.send_text("o-alone", "有人吗")
    offer = await alice.event("offer")
    revoked = await alice.event("offer_revoked", session_id=offer["session_id"])
    assert revoked["reason"] == "timeout"
    # Nobody else can take it: after the cool-down (the offer timeout) alice is asked again.
    again = await alice.event("offer", session_id=offer["session_id"])
    assert again["customer"]["openid"] == "o-alone"
    await alice.ok("accept", session_id=offer["session_id"])


@pytest.mark.gen_test(timeout=30)
async def test_a_direct_transfer_to_an_agent_who_cannot_take_it_is_refused_up_front(console, customer, kefu) -> None:
    alice = await console("alice")
    bob = await console("bob")
    await alice.ok("presence", status="available")
    session_id = await take(alice, customer, "o-refused")
    bob_id = bob.user["id"]

    supervisor = await console("super")
    for status, expected in (("away", "agent_away"), ("offline", "agent_offline")):
        await supervisor.ok("set_presence", agent_id=bob_id, status=status)
        refused = await alice.command("transfer", session_id=session_id, to_agent="bob", note="x")
        assert not refused["ok"]
        assert refused["error"]["code"] == expected, refused
        assert "Bob" in refused["error"]["message"]
        # Nothing changed: still alice's, nothing pending, nothing recorded, no event about it.
        assert await server_holder(kefu, session_id) == ("assigned", alice.user["id"])
        stored = await kefu.store.get_session(session_id)
        assert stored.get("handover") is None and stored["transfers"] == []
        assert not [e for e in alice.events if e["event"] in ("session_closed", "notice")]

    # Bob available but at capacity 2/2 (alice away meanwhile, so these customers go to bob).
    await alice.ok("presence", status="away")
    await bob.ok("presence", status="available")
    for n in range(2):
        await take(bob, customer, f"o-bob-{n}")
    refused = await alice.command("transfer", session_id=session_id, to_agent="bob")
    assert refused["error"]["code"] == "agent_busy"
    assert "2/2" in refused["error"]["message"]
    assert await server_holder(kefu, session_id) == ("assigned", alice.user["id"])


@pytest.mark.gen_test(timeout=30)
async def test_transfer_context_reaches_the_next_agent_and_the_customer(console, customer, kefu, platform) -> None:
    alice = await console("alice")
    bob = await console("bob")
    await alice.ok("presence", status="available")
    session_id = await take(alice, customer, "o-context", "信用卡年费")
    await bob.ok("presence", status="available")

    result = await alice.ok("transfer", session_id=session_id, to_agent="bob", note="客户问年费减免")
    assert result == {"status": "offered", "to_agent": bob.user["id"], "to_name": "Bob"}
    pending = await alice.event("session_updated", where=lambda d: d["session"]["id"] == session_id)
    assert pending["session"]["handover"]["status"] == "pending"
    offer = await bob.event("offer", session_id=session_id)
    assert offer["transfer_from"] == alice.user["id"]
    assert offer["transfer"]["kind"] == "transfer"
    assert (offer["transfer"]["from_name"], offer["transfer"]["note"]) == ("Alice", "客户问年费减免")
    # A reload shows the same offer with the same context.
    again = await console("bob")
    reloaded = next(o for o in again.welcome["offers"] if o["session_id"] == session_id)
    assert reloaded["transfer"]["note"] == "客户问年费减免"
    assert CUSTOMER_NOTICE not in api_replies(platform, "o-context")  # nothing happened yet

    await bob.ok("accept", session_id=session_id)
    told = await bob.event("message", session_id=session_id, where=lambda d: d["message"]["author"] == "system")
    assert told["message"]["text"] == CUSTOMER_NOTICE
    await bob.event("message_status", message_id=told["message"]["id"])
    assert api_replies(platform, "o-context")[-1] == CUSTOMER_NOTICE
    stored = await kefu.store.get_session(session_id)
    assert [t["to_agent"] for t in stored["transfers"]] == [bob.user["id"]]
    assert stored["transfers"][0]["accepted_by"] == bob.user["id"]
    assert stored.get("handover") is None


@pytest.mark.gen_test(timeout=30)
async def test_a_declined_transfer_tells_the_agent_who_declined_and_counts_nothing(console, customer, kefu) -> None:
    alice = await console("alice")
    bob = await console("bob")
    await alice.ok("presence", status="available")
    session_id = await take(alice, customer, "o-declined")
    await bob.ok("presence", status="available")
    await alice.ok("transfer", session_id=session_id, to_agent="bob")
    await bob.event("offer", session_id=session_id)
    await bob.ok("reject", session_id=session_id)
    notice = await alice.event("notice", code="transfer_returned")
    assert (notice["outcome"], notice["name"]) == ("declined", "Bob")
    assert "Bob declined" in notice["text"]
    assert await server_holder(kefu, session_id) == ("assigned", alice.user["id"])
    stored = await kefu.store.get_session(session_id)
    assert stored["transfers"] == [] and stored.get("handover") is None


@pytest.mark.gen_test(timeout=30)
async def test_supervisor_assigns_a_waiting_session_and_hears_the_outcome(console, customer, kefu) -> None:
    alice = await console("alice")
    bob = await console("bob")
    supervisor = await console("super")
    await alice.ok("presence", status="available")
    await customer.send_text("o-assign", "你好")
    offer = await alice.event("offer")
    session_id = offer["session_id"]
    await bob.ok("presence", status="available")

    # Offered to alice; the supervisor gives it to bob instead.
    result = await supervisor.ok("reassign", session_id=session_id, to_agent="bob")
    assert (result["status"], result["kind"]) == ("offered", "assign")
    revoked = await alice.event("offer_revoked", session_id=session_id)
    assert revoked["reason"] == "reassigned"
    to_bob = await bob.event("offer", session_id=session_id)
    assert (to_bob["transfer"]["kind"], to_bob["transfer"]["by_name"]) == ("assign", "Supervisor")
    await bob.ok("reject", session_id=session_id)
    outcome = await supervisor.event("reassign_result", session_id=session_id)
    assert (outcome["outcome"], outcome["to_name"]) == ("declined", "Bob")

    # Back in routing: alice is offered it again; the supervisor assigns it to bob again, who accepts.
    await alice.event("offer", session_id=session_id)
    await supervisor.ok("reassign", session_id=session_id, to_agent="bob")
    await bob.event("offer", session_id=session_id)
    await bob.ok("accept", session_id=session_id)
    outcome = await supervisor.event("reassign_result", session_id=session_id, outcome="accepted")
    assert outcome["kind"] == "assign"
    assert await server_holder(kefu, session_id) == ("assigned", bob.user["id"])
    assert (await kefu.store.get_session(session_id))["transfers"] == []  # an assignment is not a transfer


@pytest.mark.kefu(offer_timeout=1)
@pytest.mark.gen_test(timeout=30)
async def test_supervisor_reassigns_an_assigned_session_and_the_agent_is_not_told_of_a_failure(
        console, customer, kefu) -> None:
    alice = await console("alice")
    bob = await console("bob")
    supervisor = await console("super")
    await alice.ok("presence", status="available")
    session_id = await take(alice, customer, "o-reassign")
    await bob.ok("presence", status="available")

    result = await supervisor.ok("reassign", session_id=session_id, to_agent="bob")
    assert result["kind"] == "reassign"
    # The result arrives before any outcome: the outcome comes when bob answers (here: he does not).
    assert not [e for e in supervisor.events if e["event"] == "reassign_result"]
    offer = await bob.event("offer", session_id=session_id)
    assert offer["transfer"]["kind"] == "reassign"
    outcome = await supervisor.event("reassign_result", session_id=session_id)
    assert outcome["outcome"] == "timed_out"
    assert await server_holder(kefu, session_id) == ("assigned", alice.user["id"])
    assert not [e for e in alice.events if e["event"] in ("notice", "session_closed")]

    # Refused up front: bob is away.
    await bob.ok("presence", status="away")
    refused = await supervisor.command("reassign", session_id=session_id, to_agent="bob")
    assert refused["error"]["code"] == "agent_away"

    await bob.ok("presence", status="available")
    await supervisor.ok("reassign", session_id=session_id, to_agent="bob")
    await bob.event("offer", session_id=session_id)
    await bob.ok("accept", session_id=session_id)
    assert (await alice.event("session_closed", session_id=session_id))["reason"] == "reassigned"
    assert (await supervisor.event("reassign_result", session_id=session_id))["outcome"] == "accepted"
    assert not [e for e in alice.events if e["event"] == "notice"]
    stored = await kefu.store.get_session(session_id)
    assert [(t["kind"], t["to_agent"]) for t in stored["transfers"]] == [("reassign", bob.user["id"])]
    # The explanation is current (the accepted transfer) and structured for the console's language.
    explained = await supervisor.ok("explain", session_id=session_id)
    assert explained["explanation"]["summary_code"] == {
        "code": "accepted_transfer", "params": {"agent": bob.user["id"], "session": session_id}}
    assert bob.user["id"] in explained["text"]
