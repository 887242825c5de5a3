"""A customer's message that arrives while the session is offered reaches the agent who accepts.

The race (issue 11): the message's transcript write was started only after it had been relayed to
nobody (the session was not assigned yet); an accept in between read the transcript before that
write committed, so the agent's console missed the message until a reload. The store here holds
the transcript write until the accept has written the assignment, which forces that order.
"""

from __future__ import annotations

import asyncio

import pytest


@pytest.mark.gen_test(timeout=30)
async def test_a_message_written_while_the_offer_is_open_is_in_the_accepted_bundle(kefu, console, customer) -> None:
    alice = await console("alice")
    await alice.ok("presence", status="available")
    await customer.send_text("o-race", "第一条")
    offer = await alice.event("offer")
    session_id = offer["session_id"]

    store = kefu.store
    file_message, update_session = store.file_customer_message, store.update_session
    entered, assigned_written = asyncio.Event(), asyncio.Event()

    async def held_file_message(*args, **kwargs):
        entered.set()
        await assigned_written.wait()  # the transcript write commits only after the accept wrote
        return await file_message(*args, **kwargs)

    async def watched_update_session(sid, /, **fields):
        out = await update_session(sid, **fields)
        if sid == session_id and fields.get("state") == "assigned":
            assigned_written.set()
        return out

    store.file_customer_message = held_file_message
    store.update_session = watched_update_session
    try:
        await customer.send_text("o-race", "在等待时发的第二条")
        await entered.wait()
        accepted = await alice.ok("accept", session_id=session_id)
    finally:
        store.file_customer_message, store.update_session = file_message, update_session
    assert [m["text"] for m in accepted["messages"]] == ["第一条", "在等待时发的第二条"]
    event = await alice.event("session_assigned")
    assert [m["text"] for m in event["messages"]] == ["第一条", "在等待时发的第二条"]
