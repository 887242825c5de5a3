"""The QA part of the store contract (质检), on every backend (see conftest.py): rubrics unique by
name, reviews filtered and paged, the totals by session the reports read, one work-queue item
per session (atomically), items by assignee, closed sessions by close time, and the transcript
search's CSAT and wrap-up filters."""

from __future__ import annotations

import asyncio

import pytest

from store import DuplicateError, NotFound
from store.qa_records import QAItemRecord, QAReviewRecord, QARubricRecord

T0 = 1_700_000_000.0
CRITERIA = [{"key": "greeting", "label": "问候", "weight": 40, "max": 5},
            {"key": "accuracy", "label": "准确", "weight": 60, "max": 10}]


def _review(session_id: str, agent_id: str, total: float, at: float, **fields):
    return {"session_id": session_id, "agent_id": agent_id, "rubric_id": "r1", "total": total,
            "created_at": at, **fields}


@pytest.mark.gen_test
async def test_rubrics_unique_by_name_listed_by_name_and_updated(store):
    rec = await store.create_qa_rubric({"name": "Phone 服务", "criteria": CRITERIA, "created_at": T0})
    assert set(rec) == QARubricRecord.__required_keys__
    assert (rec["version"], rec["active"], rec["pass_mark"]) == (1, True, 60.0)
    assert await store.get_qa_rubric(rec["id"]) == rec
    assert await store.get_qa_rubric("missing") is None
    with pytest.raises(DuplicateError):
        await store.create_qa_rubric({"name": " phone 服务 ", "criteria": CRITERIA})
    other = await store.create_qa_rubric({"name": "Chat", "criteria": CRITERIA})
    assert [r["name"] for r in await store.list_qa_rubrics()] == ["Chat", "Phone 服务"]
    changed = await store.update_qa_rubric(rec["id"], version=2, pass_mark=70)
    assert (changed["version"], changed["pass_mark"], changed["criteria"]) == (2, 70, CRITERIA)
    assert await store.get_qa_rubric(rec["id"]) == changed
    with pytest.raises(DuplicateError):
        await store.update_qa_rubric(other["id"], name="PHONE 服务")
    with pytest.raises(NotFound):
        await store.update_qa_rubric("missing", pass_mark=1)
    with pytest.raises(ValueError):
        await store.update_qa_rubric(rec["id"], id="x")


@pytest.mark.gen_test
async def test_reviews_filtered_paged_and_totals_by_session(store):
    a = await store.add_qa_review(_review("s1", "alice", 80, T0 + 1, scores={"greeting": 4}))
    assert set(a) == QAReviewRecord.__required_keys__
    assert (a["status"], a["response"], a["scores"]) == ("new", None, {"greeting": 4})
    await store.add_qa_review(_review("s1", "alice", 60.5, T0 + 2))
    await store.add_qa_review(_review("s2", "bob", 90, T0 + 3))
    await store.add_qa_review(_review("s3", "carol", 70, T0 + 4))
    total, page = await store.list_qa_reviews()
    assert total == 4 and [r["session_id"] for r in page] == ["s3", "s2", "s1", "s1"]  # newest first
    total, page = await store.list_qa_reviews(agent_id="alice")
    assert total == 2 and [r["total"] for r in page] == [60.5, 80]
    assert (await store.list_qa_reviews(session_id="s2"))[0] == 1
    assert (await store.list_qa_reviews(agent_ids=["bob", "carol"]))[0] == 2
    assert (await store.list_qa_reviews(agent_ids=[])) == (0, [])
    total, page = await store.list_qa_reviews(since=T0 + 2, until=T0 + 4)
    assert [r["session_id"] for r in page] == ["s2", "s1"]
    total, page = await store.list_qa_reviews(limit=2, offset=1)
    assert total == 4 and [r["session_id"] for r in page] == ["s2", "s1"]
    assert await store.qa_totals_by_session(["s1", "s2", "nope"]) == {"s1": [80.0, 60.5], "s2": [90.0]}
    assert await store.qa_totals_by_session([]) == {}
    disputed = await store.update_qa_review(a["id"], status="disputed",
                                            response={"note": "不同意", "at": T0 + 9, "by": "alice"})
    assert disputed["status"] == "disputed" and disputed["total"] == 80
    assert (await store.list_qa_reviews(status="disputed"))[1] == [disputed]
    with pytest.raises(ValueError):
        await store.update_qa_review(a["id"], status="lost")
    with pytest.raises(ValueError):
        await store.update_qa_review(a["id"], session_id="s9")
    with pytest.raises(NotFound):
        await store.update_qa_review("missing", status="new")


@pytest.mark.gen_test
async def test_one_work_queue_item_per_session_atomically(store):
    results = await asyncio.gather(*[store.add_qa_item({"session_id": "s1", "agent_id": "alice",
                                                        "closed_at": T0, "reasons": [r]})
                                     for r in ("sample", "csat", "transfer")], return_exceptions=True)
    assert sum(isinstance(r, dict) for r in results) == 1
    assert sum(isinstance(r, DuplicateError) for r in results) == 2
    item = await store.qa_item_for_session("s1")
    assert item is not None and set(item) == QAItemRecord.__required_keys__
    assert (item["status"], item["assignee_id"]) == ("open", None)
    assert await store.qa_item_for_session("s2") is None


@pytest.mark.gen_test
async def test_work_queue_items_by_assignee_status_and_agent(store):
    ids = {}
    for n, (sid, agent) in enumerate([("s1", "alice"), ("s2", "bob"), ("s3", "alice"), ("s4", "carol")]):
        ids[sid] = (await store.add_qa_item({"session_id": sid, "agent_id": agent,
                                             "closed_at": T0 + 10 - n, "reasons": ["sample"]}))["id"]
    await store.update_qa_item(ids["s1"], assignee_id="qa1")
    await store.update_qa_item(ids["s2"], assignee_id="qa1", status="done", review_id="rv", done_at=T0 + 20)
    total, page = await store.list_qa_items()
    assert total == 4 and [i["session_id"] for i in page] == ["s4", "s3", "s2", "s1"]  # oldest close first
    assert [i["session_id"] for i in (await store.list_qa_items(assignee_id="qa1"))[1]] == ["s2", "s1"]
    assert [i["session_id"] for i in (await store.list_qa_items(assignee_id="qa1", status="open"))[1]] == ["s1"]
    assert [i["session_id"] for i in (await store.list_qa_items(unassigned=True))[1]] == ["s4", "s3"]
    assert [i["session_id"] for i in (await store.list_qa_items(agent_ids=["alice"]))[1]] == ["s3", "s1"]
    assert await store.list_qa_items(agent_ids=[]) == (0, [])
    assert (await store.list_qa_items(limit=1, offset=1))[1][0]["session_id"] == "s3"
    done = await store.get_qa_item(ids["s2"])
    assert done is not None and (done["status"], done["review_id"]) == ("done", "rv")
    with pytest.raises(ValueError):
        await store.update_qa_item(ids["s1"], status="lost")
    with pytest.raises(NotFound):
        await store.update_qa_item("missing", status="done")


@pytest.mark.gen_test
async def test_closed_sessions_by_close_time_and_search_by_csat_and_wrapup(store):
    made = []
    for n in range(4):
        s = await store.create_session({"openid": f"o{n}", "skill": "general", "created_at": T0 + n})
        made.append(s["id"])
    await store.update_session(made[0], state="closed", closed_at=T0 + 300, wrapup="resolved",
                               csat={"score": 1, "at": T0 + 310})  # type: ignore[typeddict-unknown-key]
    await store.update_session(made[1], state="closed", closed_at=T0 + 100, wrapup="callback",
                               csat={"score": 5, "at": T0 + 110})  # type: ignore[typeddict-unknown-key]
    await store.update_session(made[2], state="closed", closed_at=T0 + 200, wrapup="resolved")
    closed = await store.closed_sessions(T0 + 100, T0 + 300)
    assert [s["id"] for s in closed] == [made[1], made[2]]  # [since, until), by closed_at
    assert [s["id"] for s in await store.closed_sessions(T0, T0 + 1000, limit=1)] == [made[1]]
    total, page = await store.search_sessions(csat_max=2)
    assert total == 1 and page[0]["id"] == made[0]
    total, page = await store.search_sessions(csat_min=3, csat_max=5)
    assert [s["id"] for s in page] == [made[1]]
    total, page = await store.search_sessions(wrapup="resolved")
    assert [s["id"] for s in page] == [made[2], made[0]]
    assert (await store.search_sessions(wrapup="resolved", csat_max=2))[0] == 1
