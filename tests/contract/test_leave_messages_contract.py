"""The leave-message part of the store contract (留言), on every backend (see conftest.py):
only sessions with a ``leave_message``, oldest leave-message first, filtered by state and skill,
following updates (a leave-message assigned, closed)."""

from __future__ import annotations

import pytest

T0 = 1_700_000_000.0


def _lm(created_at: float) -> dict:
    return {"created_at": created_at, "due_at": created_at + 3600, "reason": "outside_hours"}


@pytest.mark.gen_test
async def test_leave_messages_oldest_first_by_state_and_skill(store):
    plain = await store.create_session({"openid": "o0", "skill": "general", "state": "diverted", "created_at": T0})
    newer = await store.create_session({"openid": "o1", "skill": "general", "state": "diverted",
                                        "created_at": T0 + 20, "leave_message": _lm(T0 + 20)})
    older = await store.create_session({"openid": "o2", "skill": "cards", "state": "diverted",
                                        "created_at": T0 + 30, "leave_message": _lm(T0 + 5)})
    live = await store.create_session({"openid": "o3", "skill": "general", "state": "queued", "created_at": T0})
    listed = await store.list_leave_messages()
    assert [s["id"] for s in listed] == [older["id"], newer["id"]]  # by the leave-message's age
    assert listed[0]["leave_message"] == _lm(T0 + 5)
    assert plain["id"] not in {s["id"] for s in listed} and live["id"] not in {s["id"] for s in listed}
    assert [s["id"] for s in await store.list_leave_messages(skill="general")] == [newer["id"]]
    assert [s["id"] for s in await store.list_leave_messages(states=["assigned"])] == []
    assert await store.list_leave_messages(states=[]) == []
    assert len(await store.list_leave_messages(limit=1)) == 1
    assert [s["id"] for s in await store.list_leave_messages(newest_first=True)] == [newer["id"], older["id"]]
    # It follows the session: assigned, then closed with an outcome.
    await store.update_session(newer["id"], state="assigned", agent_id="a1")
    assert [s["id"] for s in await store.list_leave_messages(states=["assigned"])] == [newer["id"]]
    assert [s["id"] for s in await store.list_leave_messages(states=["diverted", "queued", "offered"])] == [older["id"]]
    await store.update_session(newer["id"], state="closed", leave_message={**_lm(T0 + 20), "outcome": "answered"})
    closed = await store.list_leave_messages(states=["closed"])
    assert [s["leave_message"]["outcome"] for s in closed] == ["answered"]
    # A live session that becomes a leave-message later is listed from then on.
    await store.update_session(live["id"], state="diverted", leave_message=_lm(T0 + 1))
    assert [s["id"] for s in await store.list_leave_messages(states=["diverted"])] == [live["id"], older["id"]]
