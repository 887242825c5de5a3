"""The store contract: every test runs against every backend (see conftest.py)."""

from __future__ import annotations

import asyncio
import time

import pytest

from store import DuplicateError, NotFound
from store.base import SESSION_STATES

T0 = 1_700_000_000.0


# -- lifecycle ---------------------------------------------------------------------------------

@pytest.mark.gen_test
async def test_ping_and_flush(store):
    assert await store.ping() is True
    await store.flush()


# -- inbound -----------------------------------------------------------------------------------

@pytest.mark.gen_test
async def test_put_inbound_creates_once(store):
    msg = {"MsgType": "text", "Content": "你好", "MsgId": "1"}
    created, rec = await store.put_inbound("k1", "o1", msg, T0)
    assert created is True
    assert rec == {"key": "k1", "openid": "o1", "message": msg, "received_at": T0, "reply": None,
                   "session_id": None, "processed": False, "processed_at": None}
    created2, rec2 = await store.put_inbound("k1", "o1", {"other": True}, T0 + 5)
    assert created2 is False
    assert rec2 == rec
    assert await store.get_inbound("k1") == rec
    assert await store.get_inbound("nope") is None


@pytest.mark.gen_test
async def test_put_inbound_concurrent_same_key(store):
    results = await asyncio.gather(*[
        store.put_inbound("dup", "o1", {"n": i}, T0 + i) for i in range(3)])
    assert sorted(created for created, _ in results) == [False, False, True]
    records = [rec for _, rec in results]
    assert records[0] == records[1] == records[2]
    assert records[0]["message"] == {"n": 0}  # the first call queued wins


@pytest.mark.gen_test
async def test_inbound_result_processing_and_recovery(store):
    for i in range(4):
        await store.put_inbound(f"k{i}", "o1", {"n": i}, T0 + 10 - i)  # received out of order
    rec = await store.set_inbound_result("k1", "稍等", "s1")
    assert rec["reply"] == "稍等" and rec["session_id"] == "s1" and rec["processed"] is False
    assert [r["key"] for r in await store.unprocessed_inbound()] == ["k3", "k2", "k1", "k0"]
    rec = await store.mark_inbound_processed("k2", session_id="s2", processed_at=T0 + 20)
    assert rec["processed"] is True and rec["processed_at"] == T0 + 20 and rec["session_id"] == "s2"
    rec = await store.mark_inbound_processed("k1")
    assert rec["session_id"] == "s1" and rec["processed_at"] is not None
    assert [r["key"] for r in await store.unprocessed_inbound()] == ["k3", "k0"]
    assert [r["key"] for r in await store.unprocessed_inbound(limit=1)] == ["k3"]
    assert (await store.get_inbound("k2"))["processed"] is True
    with pytest.raises(NotFound):
        await store.set_inbound_result("missing", None, None)
    with pytest.raises(NotFound):
        await store.mark_inbound_processed("missing")


# -- customers ---------------------------------------------------------------------------------

@pytest.mark.gen_test
async def test_customers(store):
    assert await store.get_customer("o1") is None
    rec = await store.upsert_customer("o1", T0)
    assert rec == {"openid": "o1", "first_seen": T0, "last_seen": T0, "nickname": None, "avatar_url": None,
                   "profile": {}, "tags": [], "budget": {}, "last_skill": None}
    rec = await store.upsert_customer("o1", T0 + 10, nickname="小明")
    assert rec["first_seen"] == T0 and rec["last_seen"] == T0 + 10 and rec["nickname"] == "小明"
    rec = await store.upsert_customer("o1", T0 + 5)  # late, out-of-order message
    assert rec["last_seen"] == T0 + 10
    rec = await store.update_customer("o1", tags=["vip"], budget={"sent": 2}, last_skill="billing",
                                      custom="kept")
    assert rec["tags"] == ["vip"] and rec["budget"] == {"sent": 2} and rec["custom"] == "kept"
    assert await store.get_customer("o1") == rec
    with pytest.raises(NotFound):
        await store.update_customer("nobody", tags=[])
    with pytest.raises(ValueError):
        await store.update_customer("o1", openid="other")


@pytest.mark.gen_test
async def test_customer_profile_is_kept_and_survives_later_messages(store):
    await store.upsert_customer("o-prof", T0, budget={"sent": 0})
    rec = await store.update_customer("o-prof", nickname="王小明", avatar_url="https://thirdwx.qlogo.cn/a/132",
                                      profile={"fetched_at": T0 + 1, "subscribed": True})
    assert (rec["nickname"], rec["avatar_url"], rec["profile"]["fetched_at"]) == (
        "王小明", "https://thirdwx.qlogo.cn/a/132", T0 + 1)
    # The customer's next message touches the record without losing what WeChat told us.
    rec = await store.upsert_customer("o-prof", T0 + 5, budget={"sent": 1})
    assert (rec["nickname"], rec["avatar_url"], rec["budget"]) == ("王小明", "https://thirdwx.qlogo.cn/a/132",
                                                                   {"sent": 1})
    session = await store.create_session({"openid": "o-prof", "skill": "general", "created_at": T0})
    message = {"session_id": session["id"], "openid": "o-prof", "direction": "in", "author": "customer",
               "type": "text", "text": "hi", "ts": T0 + 6}
    customer, _, _ = await store.file_customer_message("o-prof", T0 + 6, {"budget": {"sent": 0}}, session["id"],
                                                       None, message)
    assert customer["nickname"] == "王小明"
    assert (await store.get_customer("o-prof"))["avatar_url"] == "https://thirdwx.qlogo.cn/a/132"


@pytest.mark.gen_test
async def test_get_customers_reads_many_at_once(store):
    await store.upsert_customer("o-a", T0, nickname="A")
    await store.upsert_customer("o-b", T0, nickname="B")
    found = await store.get_customers(["o-a", "o-missing", "o-b", "o-a"])
    assert {k: v["nickname"] for k, v in found.items()} == {"o-a": "A", "o-b": "B"}
    assert await store.get_customers([]) == {}


# -- sessions ----------------------------------------------------------------------------------

@pytest.mark.gen_test
async def test_create_get_update_session(store):
    s = await store.create_session({"openid": "o1", "skill": "general", "created_at": T0})
    assert len(s["id"]) == 32
    assert s["state"] == "queued" and s["queued_at"] == T0 and s["agents"] == [] and s["transfers"] == []
    for key in ("agent_id", "offered_at", "accepted_at", "closed_at", "wrapup", "note",
                "close_reason", "last_customer_at"):
        assert s[key] is None
    assert s["priority"] == 0
    assert await store.get_session(s["id"]) == s
    s2 = await store.update_session(s["id"], state="assigned", agent_id="a1", agents=["a1"],
                                    accepted_at=T0 + 3)
    assert s2["state"] == "assigned" and s2["agent_id"] == "a1" and s2["openid"] == "o1"
    assert await store.get_session(s["id"]) == s2
    assert await store.get_session("missing") is None
    with pytest.raises(NotFound):
        await store.update_session("missing", state="closed")
    with pytest.raises(ValueError):
        await store.update_session(s["id"], state="bogus")
    with pytest.raises(ValueError):
        await store.update_session(s["id"], id="x")
    mine = await store.create_session({"id": "my-id", "openid": "o2"})
    assert mine["id"] == "my-id"
    with pytest.raises(DuplicateError):
        await store.create_session({"id": "my-id", "openid": "o3"})


@pytest.mark.gen_test
async def test_open_sessions(store):
    a = await store.create_session({"openid": "o1", "created_at": T0, "queued_at": T0 + 9})
    b = await store.create_session({"openid": "o2", "created_at": T0 + 1, "queued_at": T0 + 1})
    c = await store.create_session({"openid": "o3", "created_at": T0 + 2, "state": "assigned",
                                    "queued_at": T0 + 2})
    await store.create_session({"openid": "o1", "created_at": T0 - 50, "state": "closed"})
    await store.create_session({"openid": "o4", "created_at": T0 - 40, "state": "diverted"})
    assert [s["id"] for s in await store.list_open_sessions()] == [b["id"], c["id"], a["id"]]
    assert (await store.open_session_for_customer("o1"))["id"] == a["id"]
    assert await store.open_session_for_customer("o4") is None
    await store.update_session(a["id"], state="closed", closed_at=T0 + 30, close_reason="agent")
    assert await store.open_session_for_customer("o1") is None
    counts = await store.count_sessions_by_state()
    assert counts == {"queued": 1, "offered": 0, "assigned": 1, "closed": 2, "diverted": 1, "bot": 0}
    assert set(counts) == set(SESSION_STATES)


@pytest.mark.gen_test
async def test_customer_sessions_newest_first(store):
    ids = [(await store.create_session({"openid": "o1", "created_at": T0 + i}))["id"] for i in range(5)]
    await store.create_session({"openid": "o2", "created_at": T0})
    assert [s["id"] for s in await store.customer_sessions("o1")] == ids[::-1]
    assert [s["id"] for s in await store.customer_sessions("o1", limit=2)] == ids[::-1][:2]
    assert await store.customer_sessions("nobody") == []


async def _search_fixture(store):
    """Five sessions with messages; returns their ids in creation order."""
    specs = [
        ("o1", "a1", "billing", "我想退款，订单号 12345"),
        ("o1", "a2", "general", "How do I RESET my password?"),
        ("o2", "a1", "general", "快递什么时候到"),
        ("o3", None, "billing", "invoice 100% paid_in_full"),
        ("o2", "a3", "tech", "退款进度怎么样了"),
    ]
    ids = []
    for i, (openid, agent, skill, text) in enumerate(specs):
        s = await store.create_session({"openid": openid, "skill": skill, "created_at": T0 + i * 100,
                                        "agent_id": agent, "agents": [agent] if agent else []})
        await store.add_message({"session_id": s["id"], "openid": openid, "text": text, "ts": T0 + i})
        await store.add_message({"session_id": s["id"], "openid": openid, "direction": "out",
                                 "author": "agent", "author_id": agent, "text": "好的", "ts": T0 + i + 1})
        ids.append(s["id"])
    # a2 hands session 1 over to a3: a2 stays findable through `agents`
    await store.update_session(ids[1], agent_id="a3", agents=["a2", "a3"])
    return ids


@pytest.mark.gen_test
async def test_search_sessions_by_each_criterion(store):
    ids = await _search_fixture(store)

    async def found(**kw):
        total, page = await store.search_sessions(**kw)
        assert total == len(page)
        return [s["id"] for s in page]

    assert await found() == ids[::-1]
    assert await found(openid="o1") == [ids[1], ids[0]]
    assert await found(agent_id="a1") == [ids[2], ids[0]]
    assert await found(agent_id="a2") == [ids[1]]
    assert await found(agent_id="a3") == [ids[4], ids[1]]
    assert await found(skill="billing") == [ids[3], ids[0]]
    assert await found(since=T0 + 100, until=T0 + 300) == [ids[2], ids[1]]
    assert await found(since=T0 + 400) == [ids[4]]
    assert await found(until=T0 + 1) == [ids[0]]
    assert await found(text="退款") == [ids[4], ids[0]]  # two characters: substring scan
    assert await found(text="订单号") == [ids[0]]  # three or more: index
    assert await found(text="reset my") == [ids[1]]  # case-insensitive
    assert await found(text="100%") == [ids[3]]  # LIKE wildcards are literal
    assert await found(text="paid_in") == [ids[3]]
    assert await found(text="d_i") == [ids[3]]
    assert await found(text="xyz") == []
    assert await found(text="好的") == ids[::-1]
    assert await found(openid="o2", text="退款", agent_id="a3", skill="tech") == [ids[4]]
    assert await found(openid="o2", skill="billing") == []


@pytest.mark.gen_test
async def test_search_sessions_by_a_set_of_agents(store):
    held_by_a = await store.create_session({"openid": "o1", "agent_id": "a", "agents": ["a"], "created_at": T0})
    passed_on = await store.create_session({"openid": "o2", "agent_id": "c", "agents": ["b", "c"],
                                            "created_at": T0 + 1})
    await store.create_session({"openid": "o3", "agent_id": "d", "agents": ["d"], "created_at": T0 + 2})
    await store.create_session({"openid": "o4", "created_at": T0 + 3})  # queued: held by nobody
    total, page = await store.search_sessions(agent_ids={"a", "b"})
    assert total == 2 and [s["id"] for s in page] == [passed_on["id"], held_by_a["id"]]
    total, page = await store.search_sessions(agent_ids={"a", "b"}, openid="o2")
    assert total == 1 and page[0]["id"] == passed_on["id"]
    assert await store.search_sessions(agent_ids=set()) == (0, [])
    assert (await store.search_sessions(agent_ids={"a"}, agent_id="d"))[0] == 0


@pytest.mark.gen_test
async def test_has_served_knows_every_agent_who_held_a_customer(store):
    first = await store.create_session({"openid": "o1", "skill": "s", "created_at": T0})
    await store.update_session(first["id"], state="assigned", agent_id="a1", agents=["a1"])
    # a1 transfers to a2; the session is closed later: both served o1, for good
    await store.update_session(first["id"], agent_id="a2", agents=["a1", "a2"])
    await store.update_session(first["id"], state="closed")
    # a session recorded with a current agent only (no `agents` list) counts too
    await store.create_session({"openid": "o2", "skill": "s", "state": "assigned", "agent_id": "a3",
                                "created_at": T0 + 1})
    await store.create_session({"openid": "o3", "skill": "s", "created_at": T0 + 2})  # still queued

    assert await store.has_served("a1", "o1") is True
    assert await store.has_served("a2", "o1") is True
    assert await store.has_served("a3", "o2") is True
    assert await store.has_served("a3", "o1") is False
    assert await store.has_served("a1", "o2") is False
    assert await store.has_served("a1", "o3") is False  # nobody held it yet
    assert await store.has_served("a1", "nobody") is False
    assert await store.has_served("", "o1") is False


@pytest.mark.gen_test
async def test_search_sessions_paging(store):
    ids = [(await store.create_session({"openid": "o1", "skill": "s", "created_at": T0 + i}))["id"]
           for i in range(7)]
    newest_first = ids[::-1]
    total, page = await store.search_sessions(openid="o1", limit=3, offset=0)
    assert total == 7 and [s["id"] for s in page] == newest_first[:3]
    total, page = await store.search_sessions(openid="o1", limit=3, offset=3)
    assert total == 7 and [s["id"] for s in page] == newest_first[3:6]
    total, page = await store.search_sessions(openid="o1", limit=3, offset=6)
    assert total == 7 and [s["id"] for s in page] == newest_first[6:]
    total, page = await store.search_sessions(openid="o1", limit=3, offset=9)
    assert total == 7 and page == []


# -- messages ----------------------------------------------------------------------------------

@pytest.mark.gen_test
async def test_messages_seq_and_order(store):
    s = await store.create_session({"openid": "o1"})
    m1 = await store.add_message({"session_id": s["id"], "openid": "o1", "text": "hi", "ts": T0})
    assert m1 == {"id": m1["id"], "session_id": s["id"], "openid": "o1", "seq": 1, "direction": "in",
                  "author": "customer", "author_id": None, "type": "text", "text": "hi", "media": None,
                  "ts": T0, "status": "received", "error": None, "client_id": None}
    out = await asyncio.gather(*[
        store.add_message({"session_id": s["id"], "openid": "o1", "direction": "out", "author": "agent",
                           "author_id": "a1", "text": f"r{i}", "ts": T0 + 1 + i, "status": "pending"})
        for i in range(10)])
    assert sorted(m["seq"] for m in out) == list(range(2, 12))
    other = await store.add_message({"session_id": "s-other", "openid": "o1", "type": "image",
                                     "media": {"media_id": "M1"}, "ts": T0 + 100})
    assert other["seq"] == 1
    msgs = await store.session_messages(s["id"])
    assert [m["seq"] for m in msgs] == list(range(1, 12))
    assert [m["text"] for m in msgs] == ["hi"] + [f"r{i}" for i in range(10)]
    assert [m["seq"] for m in await store.session_messages(s["id"], after_seq=9)] == [10, 11]
    assert await store.get_message(m1["id"]) == m1
    assert await store.get_message("missing") is None

    upd = await store.update_message(out[0]["id"], status="failed", error="45015 reply window over")
    assert upd["status"] == "failed" and upd["error"] == "45015 reply window over"
    assert upd["seq"] == out[0]["seq"]
    assert await store.get_message(out[0]["id"]) == upd
    with pytest.raises(NotFound):
        await store.update_message("missing", status="sent")
    with pytest.raises(ValueError):
        await store.update_message(m1["id"], seq=99)

    recent = await store.customer_messages("o1", limit=3)
    assert [m["text"] for m in recent] == ["r8", "r9", None]  # oldest first within the last 3
    assert len(await store.customer_messages("o1")) == 12
    with pytest.raises(ValueError):
        await store.add_message({"text": "no session"})
    with pytest.raises(DuplicateError):
        await store.add_message({"id": m1["id"], "session_id": s["id"], "text": "again"})


def _reopened(store, tmp_path):
    """A second store on the same data, as a restarted process would open it."""
    from store.mongo import MongoStore
    from store.sqlite import SQLiteStore

    if isinstance(store, SQLiteStore):
        return SQLiteStore(str(tmp_path / "kefu.sqlite3"))
    assert isinstance(store, MongoStore)
    return MongoStore(url=store.url, db_name=store.db_name) if store.url else MongoStore(db=store.db)


@pytest.mark.gen_test
async def test_a_client_id_is_unique_per_session_and_author_and_survives_a_restart(store, tmp_path):
    s = await store.create_session({"openid": "o1"})
    reply = {"session_id": s["id"], "openid": "o1", "direction": "out", "author": "agent", "author_id": "a1",
             "text": "您好", "ts": T0, "status": "pending", "client_id": "tab1-7"}
    first = await store.add_message(reply)
    assert first["client_id"] == "tab1-7" and first["seq"] == 1
    assert await store.get_client_message(s["id"], "a1", "tab1-7") == first
    # The same client id again, also concurrently: refused, and no seq is used up.
    results = await asyncio.gather(*[store.add_message({**reply, "text": "again"}) for _ in range(3)],
                                   return_exceptions=True)
    assert all(isinstance(r, DuplicateError) for r in results), results
    # Another author or another session may use the same client id.
    other_author = await store.add_message({**reply, "author_id": "a2"})
    s2 = await store.create_session({"openid": "o2"})
    other_session = await store.add_message({**reply, "session_id": s2["id"], "openid": "o2"})
    assert len({first["id"], other_author["id"], other_session["id"]}) == 3
    assert [m["seq"] for m in await store.session_messages(s["id"])] == [1, 2]
    assert await store.get_client_message(s["id"], "a3", "tab1-7") is None
    with pytest.raises(ValueError):
        await store.update_message(first["id"], client_id="other")
    with pytest.raises(ValueError):
        await store.add_message({**reply, "id": "chosen", "client_id": "tab1-8"})
    await store.update_message(first["id"], status="sent")

    again = _reopened(store, tmp_path)
    if again is not store:
        await store.close()
        await again.open()
    try:
        found = await again.get_client_message(s["id"], "a1", "tab1-7")
        assert found == {**first, "status": "sent"}
        with pytest.raises(DuplicateError):
            await again.add_message(reply)
        assert len(await again.session_messages(s["id"])) == 2
    finally:
        if again is not store:
            await again.close()
            await store.open()  # the fixture closes it (and drops a real database) afterwards


@pytest.mark.gen_test
async def test_message_text_update_is_searchable(store):
    s = await store.create_session({"openid": "o1"})
    m = await store.add_message({"session_id": s["id"], "openid": "o1", "text": "before"})
    await store.update_message(m["id"], text="after edit")
    assert (await store.search_sessions(text="after edit"))[0] == 1
    assert (await store.search_sessions(text="before"))[0] == 0


# -- users -------------------------------------------------------------------------------------

@pytest.mark.gen_test
async def test_users(store):
    u = await store.create_user({"username": "Alice", "password_hash": "h", "roles": ["agent"],
                                 "skills": [{"name": "billing", "level": 3}], "max_sessions": 4})
    assert u == {"id": u["id"], "username": "Alice", "name": "Alice", "password_hash": "h",
                 "roles": ["agent"], "skills": [{"name": "billing", "level": 3}], "max_sessions": 4,
                 "disabled": False, "created_at": u["created_at"]}
    assert abs(u["created_at"] - time.time()) < 60
    assert await store.get_user(u["id"]) == u
    assert await store.get_user_by_username("alice") == u
    assert await store.get_user_by_username("ALICE") == u
    assert await store.get_user_by_username("bob") is None
    assert await store.get_user("missing") is None
    with pytest.raises(DuplicateError):
        await store.create_user({"username": "aLiCe"})
    b = await store.create_user({"username": "bob", "name": "Bob B", "roles": ["supervisor"]})
    await store.create_user({"username": "Carol"})
    assert [x["username"] for x in await store.list_users()] == ["Alice", "bob", "Carol"]
    b2 = await store.update_user(b["id"], disabled=True, max_sessions=1)
    assert b2["disabled"] is True and b2["max_sessions"] == 1 and b2["name"] == "Bob B"
    with pytest.raises(DuplicateError):
        await store.update_user(b["id"], username="ALICE")
    assert (await store.get_user(b["id"]))["username"] == "bob"
    b3 = await store.update_user(b["id"], username="Robert")
    assert await store.get_user_by_username("robert") == b3
    assert await store.get_user_by_username("bob") is None
    assert (await store.create_user({"username": "Bob"}))["username"] == "Bob"  # name freed
    with pytest.raises(NotFound):
        await store.update_user("missing", name="x")
    with pytest.raises(ValueError):
        await store.create_user({"name": "no username"})


@pytest.mark.gen_test
async def test_concurrent_duplicate_usernames(store):
    names = ["dana", "DANA", "Dana", "dAnA"]
    results = await asyncio.gather(*[store.create_user({"username": n}) for n in names],
                                   return_exceptions=True)
    assert sum(isinstance(r, dict) for r in results) == 1
    assert sum(isinstance(r, DuplicateError) for r in results) == 3


# -- teams -------------------------------------------------------------------------------------

@pytest.mark.gen_test
async def test_teams(store):
    a = await store.create_team({"name": "Cards", "supervisors": ["s1"], "members": ["u1", "u2"]})
    assert a == {"id": a["id"], "name": "Cards", "supervisors": ["s1"], "members": ["u1", "u2"],
                 "created_at": a["created_at"], "updated_at": None}
    assert abs(a["created_at"] - time.time()) < 60
    assert await store.get_team(a["id"]) == a
    assert await store.get_team("missing") is None
    with pytest.raises(DuplicateError):  # names are unique whatever their case and spaces
        await store.create_team({"name": " cARDS "})
    b = await store.create_team({"name": "accounts"})
    assert b["supervisors"] == [] and b["members"] == []
    assert [t["name"] for t in await store.list_teams()] == ["accounts", "Cards"]
    b2 = await store.update_team(b["id"], members=["u3"], updated_at=T0)
    assert b2 == {**b, "members": ["u3"], "updated_at": T0}
    assert await store.get_team(b["id"]) == b2
    with pytest.raises(DuplicateError):
        await store.update_team(b["id"], name="cards")
    assert (await store.get_team(b["id"]))["name"] == "accounts"
    await store.update_team(b["id"], name="Loans")
    assert (await store.create_team({"name": "Accounts"}))["name"] == "Accounts"  # name freed
    with pytest.raises(NotFound):
        await store.update_team("missing", name="x")
    with pytest.raises(ValueError):
        await store.update_team(a["id"], id="other")
    with pytest.raises(ValueError):
        await store.create_team({"members": []})
    await store.delete_team(a["id"])
    assert await store.get_team(a["id"]) is None
    with pytest.raises(NotFound):
        await store.delete_team(a["id"])
    assert [t["name"] for t in await store.list_teams()] == ["Accounts", "Loans"]
    assert (await store.create_team({"name": "cards"}))["name"] == "cards"  # a deleted name is free


# -- revoked tokens ----------------------------------------------------------------------------

@pytest.mark.gen_test
async def test_revoked_tokens(store):
    now = time.time()  # future expiries: MongoDB's TTL index may drop expired revocations itself
    assert await store.is_token_revoked("j1") is False
    await store.revoke_token("j1", now + 3600)
    await store.revoke_token("j1", now + 3600)  # idempotent
    await store.revoke_token("j2", now + 10)
    assert await store.is_token_revoked("j1") is True
    assert await store.is_token_revoked("j2") is True
    assert await store.purge_revoked_tokens(now=now + 100) == 1
    assert await store.is_token_revoked("j2") is False
    assert await store.is_token_revoked("j1") is True


# -- audit -------------------------------------------------------------------------------------

@pytest.mark.gen_test
async def test_audit(store):
    for i in range(6):
        await store.add_audit({"ts": T0 + i, "actor_id": f"a{i % 2}", "action": "close",
                               "session_id": f"s{i % 3}", "target": None, "details": {"i": i}})
    tied = await store.add_audit({"ts": T0 + 5, "actor_id": "a9", "action": "login"})
    assert tied["details"] == {} and tied["session_id"] is None and len(tied["id"]) == 32
    entries = await store.list_audit()
    assert [e["details"].get("i") for e in entries] == [None, 5, 4, 3, 2, 1, 0]  # ties: last first
    assert [e["details"]["i"] for e in await store.list_audit(limit=2, offset=2)] == [4, 3]
    assert [e["details"]["i"] for e in await store.list_audit(actor_id="a0")] == [4, 2, 0]
    assert [e["details"]["i"] for e in await store.list_audit(session_id="s1")] == [4, 1]
    assert [e["details"]["i"] for e in await store.list_audit(actor_id="a1", session_id="s1")] == [1]


@pytest.mark.gen_test
async def test_audit_filters_by_action_target_and_time(store):
    """The audit page's filters: action, target, ``since <= ts < until``, with the others."""
    for i in range(6):
        await store.add_audit({"ts": T0 + i, "actor_id": f"a{i % 2}",
                               "action": "setting_changed" if i % 3 else "menu_published",
                               "target": "menu" if i < 3 else "skills", "details": {"i": i}})
    await store.add_audit({"ts": T0 + 2, "actor_id": "a0", "action": "monitor", "session_id": "s9",
                           "details": {"i": 9}})

    async def found(**filters):
        return [e["details"]["i"] for e in await store.list_audit(**filters)]

    assert await found(action="menu_published") == [3, 0]
    assert await found(target="menu") == [2, 1, 0]
    assert await found(action="setting_changed", target="skills") == [5, 4]
    assert await found(since=T0 + 2, until=T0 + 4) == [3, 9, 2]  # until is exclusive
    assert await found(since=T0 + 2, until=T0 + 4, actor_id="a0") == [9, 2]
    assert await found(since=T0 + 2, session_id="s9") == [9]
    assert await found(until=T0 + 1) == [0]
    assert await found(action="setting_changed", limit=1, offset=1) == [4]
    assert await found(action="no-such-action") == []


# -- routing event log -------------------------------------------------------------------------

@pytest.mark.gen_test
async def test_routing_event_log_and_snapshot(store):
    assert await store.routing_events() == []
    assert await store.load_routing_snapshot() is None
    batch = [{"type": "agent_available", "agent": "a1"}, {"type": "enqueue", "session": "s1"}]
    seqs = await store.append_routing_events(batch)
    assert "seq" not in batch[0]
    more = await asyncio.gather(*[store.append_routing_events([{"type": "tick", "i": i}])
                                  for i in range(5)])
    all_seqs = seqs + [s for group in more for s in group]
    assert all_seqs == sorted(all_seqs) and len(set(all_seqs)) == 7
    events = await store.routing_events()
    assert [e["seq"] for e in events] == all_seqs
    assert events[0] == {"type": "agent_available", "agent": "a1", "seq": seqs[0]}
    assert [e.get("i") for e in events[2:]] == [0, 1, 2, 3, 4]
    assert [e["seq"] for e in await store.routing_events(after_seq=seqs[1])] == all_seqs[2:]
    assert await store.append_routing_events([]) == []

    await store.save_routing_snapshot(seqs[1], {"queues": {"general": ["s1"]}})
    await store.save_routing_snapshot(all_seqs[4], {"queues": {"general": []}, "n": 5})
    assert await store.load_routing_snapshot() == (all_seqs[4], {"queues": {"general": []}, "n": 5})
    assert await store.prune_routing_events(all_seqs[4]) == 5
    assert [e["seq"] for e in await store.routing_events()] == all_seqs[5:]
    later = await store.append_routing_events([{"type": "after-prune"}])
    assert later[0] > all_seqs[-1]


# -- settings ----------------------------------------------------------------------------------

@pytest.mark.gen_test
async def test_settings(store):
    assert await store.get_setting("canned") is None
    assert await store.get_setting("canned", []) == []
    await store.set_setting("canned", [{"title": "hi", "text": "您好"}])
    assert await store.get_setting("canned") == [{"title": "hi", "text": "您好"}]
    await store.set_setting("canned", {"replaced": True})
    assert await store.get_setting("canned") == {"replaced": True}
    await store.set_setting("hours", None)
    assert await store.get_setting("hours", "default") is None


@pytest.mark.gen_test
async def test_file_customer_message_updates_all_three_once(store):
    await store.upsert_customer("o-file", seen_at=T0, nickname="张三")
    session = await store.create_session({"openid": "o-file", "skill": "general", "created_at": T0})
    message = {"id": "in-file-1", "session_id": session["id"], "openid": "o-file", "text": "第一条", "ts": T0 + 5}
    customer, touched, stored = await store.file_customer_message(
        "o-file", T0 + 5, {"budget": {"sent": 0}}, session["id"], {"last_customer_at": T0 + 5}, message)
    assert (customer["nickname"], customer["budget"], customer["last_seen"]) == ("张三", {"sent": 0}, T0 + 5)
    assert touched["last_customer_at"] == T0 + 5
    assert (stored["seq"], stored["text"]) == (1, "第一条")
    # Filed again (processing repeated after a crash): the message is not doubled.
    _, _, again = await store.file_customer_message(
        "o-file", T0 + 5, {}, session["id"], {"last_customer_at": T0 + 5}, message)
    assert again is None
    assert [m["text"] for m in await store.session_messages(session["id"])] == ["第一条"]
    assert (await store.get_customer("o-file"))["budget"] == {"sent": 0}
    assert (await store.get_session(session["id"]))["last_customer_at"] == T0 + 5
    with pytest.raises(NotFound):
        await store.file_customer_message("o-file", T0, {}, "no-such-session", {"last_customer_at": T0},
                                          {"session_id": "no-such-session", "text": "x"})


@pytest.mark.gen_test
async def test_file_customer_message_into_a_session_it_leaves_alone_and_marks_the_inbound(store):
    session = await store.create_session({"openid": "o-left", "skill": "general", "state": "diverted",
                                          "created_at": T0})
    created, _ = await store.put_inbound("k-left-1", "o-left", {"content": "还在吗"}, T0 + 9)
    assert created
    message = {"id": "in-left-1", "session_id": session["id"], "openid": "o-left", "text": "还在吗", "ts": T0 + 9}
    customer, same, stored = await store.file_customer_message(
        "o-left", T0 + 9, {}, session["id"], None, message, inbound_key="k-left-1")
    assert customer["last_seen"] == T0 + 9
    assert same == await store.get_session(session["id"]) and same["state"] == "diverted"
    assert stored["seq"] == 1
    inbound = await store.get_inbound("k-left-1")
    assert (inbound["processed"], inbound["session_id"]) == (True, session["id"])
    assert [r["key"] for r in await store.unprocessed_inbound()] == []
    # A session that does not exist: no message is filed and the inbound stays unprocessed.
    await store.put_inbound("k-left-2", "o-nobody", {"content": "x"}, T0 + 10)
    with pytest.raises(NotFound):
        await store.file_customer_message("o-nobody", T0 + 10, {}, "no-such-session", None,
                                          {"session_id": "no-such-session", "text": "x"}, inbound_key="k-left-2")
    assert [r["key"] for r in await store.unprocessed_inbound()] == ["k-left-2"]


@pytest.mark.gen_test
async def test_latest_customer_session_follows_creates_and_updates(store):
    assert await store.customer_sessions("o-latest", limit=1) == []
    first = await store.create_session({"openid": "o-latest", "state": "diverted", "created_at": T0})
    assert await store.customer_sessions("o-latest", limit=1) == [first]
    changed = await store.update_session(first["id"], note="回电")
    assert await store.customer_sessions("o-latest", limit=1) == [changed]
    # A lookup racing a create never leaves the older session as "latest".
    _, second = await asyncio.gather(store.customer_sessions("o-latest", limit=1),
                                     store.create_session({"openid": "o-latest", "created_at": T0 + 60}))
    assert await store.customer_sessions("o-latest", limit=1) == [second]
    # A session stored with an earlier time (recovery) does not become the latest.
    await store.create_session({"openid": "o-latest", "created_at": T0 + 30})
    assert [s["id"] for s in await store.customer_sessions("o-latest", limit=1)] == [second["id"]]
    assert [s["id"] for s in await store.customer_sessions("o-latest")][0] == second["id"]
    assert len(await store.customer_sessions("o-latest")) == 3
