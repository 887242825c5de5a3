"""Satisfaction's session fields (desk/satisfaction.py) on every backend: the survey and the score
are kept on a closed session, filed with the answer in one call, and read back by each read path
the consoles use (get, customer history, search)."""

from __future__ import annotations

import pytest

T0 = 1_764_000_000.0


@pytest.mark.gen_test
async def test_survey_and_csat_are_kept_and_read_back(store):
    s = await store.create_session({"openid": "o-csat", "skill": "general", "created_at": T0})
    await store.update_session(s["id"], state="closed", agent_id="a1", closed_at=T0 + 60,
                               survey={"sent_at": T0 + 61, "agent_id": "a1"})
    csat = {"score": 4, "at": T0 + 90, "agent_id": "a1", "comment": "回复很快", "comment_at": T0 + 90}
    _customer, stored, message = await store.file_customer_message(
        "o-csat", T0 + 90, {}, s["id"], {"csat": csat},
        {"id": "m-csat", "session_id": s["id"], "openid": "o-csat", "direction": "in", "author": "customer",
         "type": "text", "text": "4 回复很快", "ts": T0 + 90, "status": "received"})
    assert stored["csat"] == csat and stored["survey"]["sent_at"] == T0 + 61 and stored["state"] == "closed"
    assert message is not None and message["text"] == "4 回复很快"
    assert (await store.get_session(s["id"]))["csat"] == csat
    assert (await store.customer_sessions("o-csat", limit=1))[0]["csat"]["score"] == 4
    total, page = await store.search_sessions(since=T0 - 1)
    assert total == 1 and page[0]["csat"] == csat
    assert [m["text"] for m in await store.session_messages(s["id"])] == ["4 回复很快"]
