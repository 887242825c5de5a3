"""QA (质检) end to end through the real app, the simulator and real sockets: rubrics and their
rules, scoring with the contract's total, who reads which reviews, the agent's answer, the
sampled work queue (clock moved past the survey window), averages, and the export of one
transcript (403 for a caller who may not read it, audited)."""

from __future__ import annotations

import csv
import datetime
import io
from typing import Any

import pytest
import tornado.httpclient
from openpyxl import load_workbook

CRITERIA = [{"key": "greeting", "label": "问候规范", "weight": 40, "max": 5},
            {"key": "accuracy", "label": "业务准确", "weight": 60, "max": 10}]
REPLY = "您好，退款三个工作日内到账"


async def _served_and_closed(console, customer, agent, openid: str, text: str, transfer_to=None) -> str:
    """A customer's session answered by ``agent`` (handed to ``transfer_to`` if given) and closed."""
    await customer.send_text(openid, text)
    offer = await agent.event("offer", where=lambda f: f["customer"]["openid"] == openid)
    sid = (await agent.ok("accept", session_id=offer["session_id"]))["session"]["id"]
    await agent.ok("send", session_id=sid, text=REPLY)
    closer = agent
    if transfer_to is not None:
        await transfer_to.ok("presence", status="available")
        await agent.ok("transfer", session_id=sid, to_agent=transfer_to.user["id"])
        await transfer_to.event("offer", session_id=sid)
        await transfer_to.ok("accept", session_id=sid)
        closer = transfer_to
    await closer.ok("close", session_id=sid, wrapup="resolved")
    return sid


def _field(body: Any) -> str:
    return body["error"]["field"] if isinstance(body, dict) and "error" in body else repr(body)


@pytest.mark.gen_test(timeout=90)
async def test_rubric_review_answer_visibility_and_export(console, customer, api, login, kefu) -> None:
    alice = await console("alice")
    await alice.ok("presence", status="available")
    admin, _ = await login("admin")
    qa, qa_user = await login("qa")
    a_tok, a_user = await login("alice")
    b_tok, b_user = await login("bob")
    c_tok, _ = await login("carol")
    s_tok, _ = await login("super")
    s1 = await _served_and_closed(console, customer, alice, "o-qa-1", "我要投诉扣款")
    await customer.send_text("o-qa-open", "还在等")  # an open session: not reviewable yet
    open_offer = await alice.event("offer", where=lambda f: f["customer"]["openid"] == "o-qa-open")

    # Rubrics: weights that do not add up, a bad maximum, a stranger's role: refused, nothing kept.
    bad = {"name": "电话", "criteria": [{**CRITERIA[0], "weight": 30}, CRITERIA[1]]}
    status, body = await api("/api/qa/rubrics", "POST", bad, token=admin)
    assert (status, _field(body)) == (400, "criteria") and "add up to 100" in body["error"]["message"]
    status, body = await api("/api/qa/rubrics", "POST", {"name": "x", "criteria": [{**CRITERIA[0], "max": 0},
                                                                                  CRITERIA[1]]}, token=admin)
    assert (status, _field(body)) == (400, "criteria[0].max")
    status, body = await api("/api/qa/rubrics", "POST", {"name": "x", "criteria": [{**CRITERIA[0], "weight": -40},
                                                                                  CRITERIA[1]]}, token=admin)
    assert (status, _field(body)) == (400, "criteria[0].weight")
    assert (await api("/api/qa/rubrics", "POST", {"name": "x", "criteria": CRITERIA}, token=qa))[0] == 403
    assert (await api("/api/qa/rubrics", token=admin))[1] == {"rubrics": []}
    status, rubric = await api("/api/qa/rubrics", "POST", {"name": "电话服务", "criteria": CRITERIA, "pass_mark": 70},
                               token=admin)
    assert status == 201 and (rubric["version"], rubric["pass_mark"]) == (1, 70)

    # Scoring: a score above the maximum, a missing or unknown criterion, an open session: 400.
    review = {"session_id": s1, "rubric_id": rubric["id"], "scores": {"greeting": 4, "accuracy": 7},
              "comment": "开场规范，解释清楚"}
    for scores, field in (({"greeting": 6, "accuracy": 7}, "scores.greeting"), ({"greeting": 4}, "scores.accuracy"),
                          ({"greeting": 4, "accuracy": 7, "tone": 1}, "scores.tone"),
                          ({"greeting": True, "accuracy": 7}, "scores.greeting")):
        status, body = await api("/api/qa/reviews", "POST", {**review, "scores": scores}, token=qa)
        assert (status, _field(body)) == (400, field), scores
    status, body = await api("/api/qa/reviews", "POST", {**review, "session_id": open_offer["session_id"]}, token=qa)
    assert (status, _field(body)) == (400, "session_id")
    assert (await api("/api/qa/reviews", "POST", review, token=a_tok))[0] == 403
    assert (await api("/api/qa/reviews", token=c_tok))[1]["reviews"] == []  # nothing stored by the refusals

    status, made = await api("/api/qa/reviews", "POST", review, token=qa)
    # Σ weight·value/max ÷ Σ weight × 100 = (40·4/5 + 60·7/10) ÷ 100 × 100 = 32 + 42
    assert status == 201 and made["total"] == pytest.approx(74.0) and made["passed"] is True
    assert (made["agent_id"], made["status"], made["reviewer_id"]) == (a_user["id"], "new", qa_user["id"])
    assert await kefu.store.qa_totals_by_session([s1, "nope"]) == {s1: [pytest.approx(74.0)]}
    # The reports' qa_avg reads these totals (the reports feature's own definitions).
    day = datetime.datetime.fromtimestamp(kefu.desk.clock(), tz=datetime.UTC).date()
    status, report = await api(f"/api/reports?from={day - datetime.timedelta(days=1)}&to={day + datetime.timedelta(days=2)}"
                               "&by=agent", token=s_tok)
    assert status == 200, report
    alice_row = next(r for r in report["rows"] if r["key"] in (a_user["id"], a_user["username"], "Alice"))
    assert alice_row["qa_avg"] == pytest.approx(74.0)

    # Who reads: the agent their own only, another agent nothing of it, QA and supervisors all.
    status, mine = await api("/api/qa/reviews", token=a_tok)
    assert status == 200 and [r["id"] for r in mine["reviews"]] == [made["id"]]
    assert mine["reviews"][0]["reviewer_name"] == "QA"
    assert (await api(f"/api/qa/reviews?agent={b_user['id']}", token=a_tok))[0] == 403
    assert (await api("/api/qa/reviews", token=b_tok))[1] == {"total": 0, "reviews": []}
    assert (await api(f"/api/qa/reviews?agent={a_user['id']}", token=b_tok))[0] == 403
    assert (await api(f"/api/qa/reviews/{made['id']}", token=b_tok))[0] == 404
    assert (await api(f"/api/qa/reviews?session_id={s1}", token=s_tok))[1]["total"] == 1

    # The agent answers once; a dispute needs a note; nobody else answers for them.
    path = f"/api/qa/reviews/{made['id']}/respond"
    status, body = await api(path, "POST", {"action": "dispute"}, token=a_tok)
    assert (status, _field(body)) == (400, "note")
    assert (await api(path, "POST", {"action": "acknowledge"}, token=b_tok))[0] == 404
    status, acked = await api(path, "POST", {"action": "acknowledge", "note": "收到，会注意"}, token=a_tok)
    assert status == 200 and acked["status"] == "acknowledged" and acked["response"]["note"] == "收到，会注意"
    assert (await api(path, "POST", {"action": "dispute", "note": "again"}, token=a_tok))[0] == 409

    # A rubric change is a new version; the past review keeps its criteria and total.
    status, v2 = await api(f"/api/qa/rubrics/{rubric['id']}", "PATCH", {"criteria": [
        {**CRITERIA[0], "weight": 50}, {**CRITERIA[1], "weight": 50}]}, token=admin)
    assert status == 200 and v2["version"] == 2
    status, again = await api(f"/api/qa/reviews/{made['id']}", token=qa)
    assert again["total"] == pytest.approx(74.0) and again["criteria"] == CRITERIA and again["rubric_version"] == 1
    actions = {e["action"] for e in (await api("/api/audit?limit=200", token=admin))[1]["entries"]}
    assert {"qa.rubric_create", "qa.rubric_update", "qa.review_create", "qa.review_acknowledge"} <= actions

    # Export: who may read the transcript may export it; anyone else 403; audited.
    assert (await api(f"/api/sessions/{s1}/export", token=c_tok))[0] == 403
    assert (await api(f"/api/sessions/{s1}/export?format=pdf", token=qa))[0] == 400
    status, text = await api(f"/api/sessions/{s1}/export?tz=Asia/Shanghai", token=a_tok)
    assert status == 200 and "我要投诉扣款" in text and REPLY in text and "+08:00" in text and f"session: {s1}" in text
    status, table = await api(f"/api/sessions/{s1}/export?format=csv", token=s_tok)
    rows = list(csv.reader(io.StringIO(table.lstrip("\ufeff"))))
    assert status == 200 and rows[0] == ["seq", "time", "author", "name", "type", "text"]
    assert [r[5] for r in rows[1:]][:2] == ["我要投诉扣款", REPLY] and rows[2][3] == "Alice"
    response = await tornado.httpclient.AsyncHTTPClient().fetch(
        f"http://127.0.0.1:{kefu.config.port}/api/sessions/{s1}/export?format=xlsx",
        headers={"Authorization": f"Bearer {qa}"})
    assert response.headers["Content-Disposition"] == f'attachment; filename="transcript-{s1}.xlsx"'
    sheet = load_workbook(io.BytesIO(response.body)).active
    assert REPLY in [c.value for row in sheet.iter_rows() for c in row]
    exports = (await api(f"/api/audit?action=session.export&session_id={s1}", token=admin))[1]["entries"]
    assert sorted(e["details"]["format"] for e in exports) == ["csv", "txt", "xlsx"]


@pytest.mark.gen_test(timeout=90)
async def test_the_sampled_work_queue_assignment_and_averages(console, customer, api, login, kefu) -> None:
    alice, bob = await console("alice"), await console("bob")
    await alice.ok("presence", status="available")
    admin, _ = await login("admin")
    qa, qa_user = await login("qa")
    s_tok, _ = await login("super")
    a_tok, a_user = await login("alice")
    status, body = await api("/api/settings/qa_sampling", "PUT", {"percent": 101}, token=admin)
    assert (status, _field(body)) == (400, "percent")
    status, body = await api("/api/settings/qa_sampling", "PUT", {"percent": 0, "csat_at_most": 2,
                                                                  "every_transfer": True, "auto_assign": True},
                             token=admin)
    assert status == 200 and body["percent"] == 0
    unhappy = await _served_and_closed(console, customer, alice, "o-qa-low", "太慢了")
    await alice.ok("presence", status="away")  # the next customer goes to bob
    await bob.ok("presence", status="available")
    moved = await _served_and_closed(console, customer, bob, "o-qa-move", "转一下", transfer_to=alice)
    await bob.ok("presence", status="away")
    plain = await _served_and_closed(console, customer, alice, "o-qa-fine", "谢谢")
    # The survey feature writes session.csat; here the store stands in for the customer's answer.
    await kefu.store.update_session(unhappy, csat={"score": 1, "at": kefu.desk.clock()})  # type: ignore[call-arg]
    await kefu.store.update_session(plain, csat={"score": 5, "at": kefu.desk.clock()})  # type: ignore[call-arg]

    # Inside the survey window nothing is sampled yet (the answer may still come).
    assert (await api("/api/qa/queue/sample", "POST", {}, token=qa))[1] == {"added": 0}
    start = kefu.desk.clock()
    kefu.desk.clock = lambda: start + 12 * 60
    assert (await api("/api/qa/queue/sample", "POST", {}, token=qa))[1] == {"added": 2}
    assert (await api("/api/qa/queue/sample", "POST", {}, token=qa))[1] == {"added": 0}  # idempotent
    status, queue = await api("/api/qa/queue", token=qa)
    assert status == 200 and queue["view"] == "mine" and queue["sampling"]["csat_at_most"] == 2
    by_session = {i["session_id"]: i for i in queue["items"]}
    assert set(by_session) == {unhappy, moved}
    assert by_session[unhappy]["reasons"] == ["csat"] and by_session[moved]["reasons"] == ["transfer"]
    assert {i["assignee_id"] for i in queue["items"]} == {qa_user["id"]}  # the only QA user
    assert by_session[moved]["agent_name"] == "Alice" and by_session[unhappy]["csat"]["score"] == 1
    assert (await api("/api/qa/queue", token=a_tok))[0] == 403

    # Assignment: QA hands an item back, the pool shows it, QA claims it again; a bad assignee is 400.
    item = by_session[unhappy]
    status, back = await api(f"/api/qa/queue/{item['id']}", "PATCH", {"assignee_id": None}, token=qa)
    assert status == 200 and back["assignee_id"] is None
    assert [i["id"] for i in (await api("/api/qa/queue?view=unassigned", token=qa))[1]["items"]] == [item["id"]]
    status, body = await api(f"/api/qa/queue/{item['id']}", "PATCH", {"assignee_id": a_user["id"]}, token=s_tok)
    assert (status, _field(body)) == (400, "assignee_id")
    assert (await api(f"/api/qa/queue/{item['id']}", "PATCH", {"assignee_id": qa_user["id"]}, token=qa))[0] == 200

    # Reviewing the item's session closes the item; averages per agent from the totals.
    status, rubric = await api("/api/qa/rubrics", "POST", {"name": "标准", "criteria": CRITERIA}, token=admin)
    for sid, scores in ((unhappy, {"greeting": 5, "accuracy": 10}), (moved, {"greeting": 0, "accuracy": 5})):
        status, _ = await api("/api/qa/reviews", "POST", {"session_id": sid, "rubric_id": rubric["id"],
                                                          "scores": scores}, token=qa)
        assert status == 201
    assert {i["status"] for i in (await api("/api/qa/queue?view=all", token=qa))[1]["items"]} == {"done"}
    status, averages = await api("/api/qa/averages", token=s_tok)
    assert status == 200
    alice_row = next(r for r in averages["agents"] if r["agent_id"] == a_user["id"])
    # 100 and (0 + 60·5/10) = 30: mean 65, one of two passes the default mark of 60
    assert (alice_row["reviews"], alice_row["average"], alice_row["passed"]) == (2, pytest.approx(65.0), 1)
    assert averages["overall"]["reviews"] == 2
