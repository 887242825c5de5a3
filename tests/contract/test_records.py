"""The record types (store/records.py) say what the stores really return: every backend's records
carry exactly the required keys of their TypedDict, and the desk's optional fields are declared.

The types are only checked statically (mypy); these tests keep them true at run time, so a field
added to a ``*_record`` function without its type (or the other way round) fails here.
"""

from __future__ import annotations

from typing import get_args

import pytest

from store.base import OPEN_SESSION_STATES, SESSION_STATES
from store.records import (
    OPEN_STATES,
    AuditEntry,
    CustomerRecord,
    InboundRecord,
    MessageRecord,
    NewSession,
    SessionFields,
    SessionRecord,
    SessionState,
    TeamRecord,
    UserRecord,
)

T0 = 1_700_000_000.0


def test_one_list_of_session_states():
    assert SESSION_STATES == get_args(SessionState) == ("queued", "offered", "assigned", "closed", "diverted", "bot")
    assert OPEN_SESSION_STATES == OPEN_STATES == ("queued", "offered", "assigned")
    assert set(OPEN_STATES) < set(SESSION_STATES)


def test_create_and_update_shapes_cover_the_record():
    # Every field of a stored session may be given when creating one, and every field but its
    # id may be changed.
    assert SessionRecord.__required_keys__ | SessionRecord.__optional_keys__ == (
        NewSession.__required_keys__ | NewSession.__optional_keys__)
    assert SessionFields.__required_keys__ == set()
    assert "id" not in SessionFields.__optional_keys__


@pytest.mark.gen_test
async def test_stored_records_have_exactly_the_typed_keys(store):
    _, inbound = await store.put_inbound("k1", "o1", {"Content": "hi"}, T0)
    assert set(inbound) == InboundRecord.__required_keys__
    assert set(await store.mark_inbound_processed("k1", "s1")) == InboundRecord.__required_keys__

    customer = await store.upsert_customer("o1", seen_at=T0)
    assert set(customer) == CustomerRecord.__required_keys__
    assert set(await store.get_customer("o1")) == CustomerRecord.__required_keys__

    session = await store.create_session({"openid": "o1"})
    assert set(session) == SessionRecord.__required_keys__
    handed = await store.update_session(session["id"], offered_to="a1", handover=None)
    assert set(handed) - SessionRecord.__required_keys__ == {"offered_to", "handover"}
    assert {"offered_to", "handover"} <= SessionRecord.__optional_keys__

    message = await store.add_message({"session_id": session["id"], "text": "hi"})
    assert set(message) == MessageRecord.__required_keys__
    assert isinstance(message["seq"], int)
    assert set(await store.get_message(message["id"])) == MessageRecord.__required_keys__

    user = await store.create_user({"username": "ann"})
    assert set(user) == UserRecord.__required_keys__
    assert set(await store.get_user(user["id"])) == UserRecord.__required_keys__

    team = await store.create_team({"name": "cards"})
    assert set(team) == TeamRecord.__required_keys__
    assert [set(t) for t in await store.list_teams()] == [TeamRecord.__required_keys__]

    entry = await store.add_audit({"action": "login", "actor_id": user["id"]})
    assert set(entry) == AuditEntry.__required_keys__
    assert [set(e) for e in await store.list_audit()] == [AuditEntry.__required_keys__]
