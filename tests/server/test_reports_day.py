"""A scripted day through the simulator and the real app, then the report (运营报表): every figure
equals the one worked out by hand here, by skill, agent and hour, as JSON and CSV, on SQLite (the
app's store) and on MongoDB (mongomock filled with the same records); a restart changes nothing.
Also the agents' state times and occupancy, and the answers to bad questions.

The clock is the desk's, moved by the test (the engine, the inbound log and the desk read it), so
every wait and handle time is exact. Surveys (CSAT, desk/satisfaction.py, on in --demo): S1's
customer answers 5 and S5's 2; S2's does not answer.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import sqlite3
import zoneinfo

import pytest

from desk.reports import Reports
from kefu_config import parse_config
from server import build_services
from store.mongo import MongoStore
from tests.contract.async_mongomock import mongomock_database

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
DAY = "2026-03-02"  # a Monday


def at(hhmmss: str) -> float:
    h, m, s = (int(x) for x in hhmmss.split(":"))
    return dt.datetime(2026, 3, 2, h, m, s, tzinfo=SHANGHAI).timestamp()


class Clock:
    def __init__(self, kefu) -> None:
        self.now = at("09:00:00")
        desk = kefu.desk
        desk.clock = desk.routing.clock = desk.inbound._clock = self

    def __call__(self) -> float:
        return self.now

    def set(self, hhmmss: str) -> None:
        assert at(hhmmss) >= self.now
        self.now = at(hhmmss)


async def _offered(agent, customer, kefu, openid: str, text: str) -> str:
    await customer.send_text(openid, text)
    offer = await agent.event("offer", where=lambda d: d["customer"]["openid"] == openid)
    return offer["session_id"]


async def _answer_survey(kefu, customer, clock, openid: str, hhmmss: str, score: str) -> None:
    clock.set(hhmmss)
    await kefu.desk.replies.drain()  # the survey has gone out
    await customer.send_text(openid, score)
    await kefu.desk.inbound.drain()


async def _play_the_day(kefu, console, customer) -> dict[str, str]:
    """The day; returns the session ids by name."""
    clock = Clock(kefu)
    alice = await console("alice")
    bob = await console("bob")
    await alice.ok("presence", status="available")
    await bob.ok("presence", status="away")
    ids: dict[str, str] = {}

    # S1 09:00:00, answered within the SLA (30 s): wait 10, first reply 5, handled 120.
    ids["s1"] = await _offered(alice, customer, kefu, "o-s1", "信用卡年费")
    clock.set("09:00:10")
    await alice.ok("accept", session_id=ids["s1"])
    clock.set("09:00:15")
    await alice.ok("send", session_id=ids["s1"], text="您好，我来帮您")
    clock.set("09:02:10")
    await alice.ok("close", session_id=ids["s1"], wrapup="resolved")
    await _answer_survey(kefu, customer, clock, "o-s1", "09:02:30", "5")

    # S2 09:10:00, answered after the SLA: alice is away, the customer waits 50 s; reply 20, handled 300.
    clock.set("09:10:00")
    await alice.ok("presence", status="away")
    await customer.send_text("o-s2", "转账问题")
    await kefu.desk.inbound.drain()
    clock.set("09:10:45")
    await alice.ok("presence", status="available")
    ids["s2"] = (await alice.event("offer", where=lambda d: d["customer"]["openid"] == "o-s2"))["session_id"]
    clock.set("09:10:50")
    await alice.ok("accept", session_id=ids["s2"])
    clock.set("09:11:10")
    await alice.ok("send", session_id=ids["s2"], text="请稍等")
    clock.set("09:15:50")
    await alice.ok("close", session_id=ids["s2"], wrapup="resolved")

    # S3 10:00:00 abandoned within the SLA (10 s), S4 10:20:00 abandoned after it (60 s).
    clock.set("10:00:00")
    await alice.ok("presence", status="away")
    await customer.send_text("o-s3", "在吗")
    await kefu.desk.inbound.drain()
    clock.set("10:00:10")
    await customer.unsubscribe("o-s3")
    await kefu.desk.inbound.drain()
    clock.set("10:20:00")
    await customer.send_text("o-s4", "人呢")
    await kefu.desk.inbound.drain()
    clock.set("10:21:00")
    await customer.unsubscribe("o-s4")
    await kefu.desk.inbound.drain()

    # S5 11:00:00 answered by alice (wait 5, reply 3), transferred to bob, closed by bob: handled 300.
    clock.set("11:00:00")
    await alice.ok("presence", status="available")
    ids["s5"] = await _offered(alice, customer, kefu, "o-s5", "贷款利率")
    clock.set("11:00:05")
    await alice.ok("accept", session_id=ids["s5"])
    clock.set("11:00:08")
    await alice.ok("send", session_id=ids["s5"], text="这个要转给同事")
    clock.set("11:01:00")
    await bob.ok("presence", status="available")
    await alice.ok("transfer", session_id=ids["s5"], to_agent="bob")
    await bob.event("offer", session_id=ids["s5"])
    clock.set("11:01:10")
    await bob.ok("accept", session_id=ids["s5"])
    await alice.event("session_closed", session_id=ids["s5"])
    clock.set("11:02:00")
    await bob.ok("send", session_id=ids["s5"], text="利率是……")
    clock.set("11:05:05")
    await bob.ok("close", session_id=ids["s5"], wrapup="resolved")
    await _answer_survey(kefu, customer, clock, "o-s5", "11:05:20", "2")

    clock.set("11:10:00")
    await alice.ok("presence", status="away")
    await bob.ok("presence", status="away")
    clock.set("12:00:00")
    await kefu.store.flush()
    return ids


# The figures worked out by hand from the script above (SLA 30 s for general, the default).
def expected(alice_id: str) -> dict[str, dict]:
    def csat(*scores: int) -> dict:
        if not scores:
            return {"csat_avg": None, "csat_count": 0, "qa_avg": None}
        return {"csat_avg": round(sum(scores) / len(scores), 2), "csat_count": len(scores), "qa_avg": None}

    asa, frt = round((10 + 50 + 5) / 3, 2), round((5 + 20 + 3) / 3, 2)
    return {
        "skill": {"general": {"key": "general", "offered": 5, "answered": 3, "abandoned": 2,
                              "service_level": 0.5,  # S1, S5 in time ÷ (3 answered + S4 abandoned late)
                              "asa_s": asa, "aht_s": (120 + 300 + 300) / 3, "frt_s": frt, "transfers": 1,
                              **csat(5, 2)}},
        "hour": {"09:00": {"key": "09:00", "offered": 2, "answered": 2, "abandoned": 0, "service_level": 0.5,
                           "asa_s": 30.0, "aht_s": 210.0, "frt_s": 12.5, "transfers": 0, **csat(5)},
                 "10:00": {"key": "10:00", "offered": 2, "answered": 0, "abandoned": 2, "service_level": 0.0,
                           "asa_s": None, "aht_s": None, "frt_s": None, "transfers": 0, **csat()},
                 "11:00": {"key": "11:00", "offered": 1, "answered": 1, "abandoned": 0, "service_level": 1.0,
                           "asa_s": 5.0, "aht_s": 300.0, "frt_s": 3.0, "transfers": 1, **csat(2)}},
        # By the agent who answered first: alice took S1, S2 and S5 (S5 then went to bob).
        "agent": {alice_id: {"key": alice_id, "offered": 3, "answered": 3, "abandoned": 0, "service_level": 0.6667,
                             "asa_s": asa, "aht_s": 240.0, "frt_s": frt, "transfers": 1, **csat(5, 2)},
                  None: {"key": None, "offered": 2, "answered": 0, "abandoned": 2, "service_level": 0.0,
                         "asa_s": None, "aht_s": None, "frt_s": None, "transfers": 0, **csat()}},
    }


def _rows(rows) -> dict:
    return {r["key"]: {k: v for k, v in r.items() if k != "label"} for r in rows}


def _day_report(store, kefu, by) -> list:
    reports = Reports(store, kefu.desk.skills, kefu.desk.teams, kefu.desk.access, kefu.desk.clock)
    return reports.report({"id": "admin", "roles": ["admin"]}, DAY, "2026-03-03", by)


async def _mongo_copy(sqlite_path: str) -> MongoStore:
    """A mongomock store holding the same users, sessions, messages and agent-state log as the
    app's file (copied as stored: the report's input, not its output)."""
    mongo = MongoStore(db=mongomock_database("kefu_reports_day"))
    await mongo.open()
    conn = sqlite3.connect(sqlite_path)
    try:
        for (doc,) in conn.execute("SELECT doc FROM users"):
            await mongo.create_user(json.loads(doc))
        for (doc,) in conn.execute("SELECT doc FROM sessions"):
            await mongo.create_session(json.loads(doc))
        for (doc,) in conn.execute("SELECT doc FROM messages ORDER BY session_id, seq"):
            await mongo.add_message(json.loads(doc))
        for agent_id, state, start, end in conn.execute(
                "SELECT agent_id, state, start_at, end_at FROM agent_states ORDER BY start_at, n"):
            doc = {"agent_id": agent_id, "state": state, "start_at": start, "end_at": end}
            await mongo.db.agent_states.insert_one({**doc, "open": True} if end is None else doc)
    finally:
        conn.close()
    return mongo


@pytest.mark.gen_test(timeout=60)
async def test_a_scripted_day_reported_by_skill_agent_and_hour_on_both_stores(kefu, kefu_config, console,
                                                                              customer, api, login) -> None:
    ids = await _play_the_day(kefu, console, customer)
    token, _ = await login("super")
    alice_id = (await kefu.store.get_user_by_username("alice"))["id"]
    bob_id = (await kefu.store.get_user_by_username("bob"))["id"]
    want = expected(alice_id)
    answers = {}
    for by, rows in want.items():
        status, body = await api(f"/api/reports?from={DAY}&to=2026-03-03&by={by}", token=token)
        assert status == 200, body
        assert _rows(body["rows"]) == rows, by
        answers[by] = body["rows"]
    assert [r["label"] for r in answers["agent"]] == ["Alice", None]
    # A day: the one row for the day; a date-time range with an offset selects by queued_at.
    status, body = await api(f"/api/reports?from={DAY}&to=2026-03-03&by=day", token=token)
    assert [(r["key"], r["offered"]) for r in body["rows"]] == [(DAY, 5)]
    status, body = await api("/api/reports?by=skill&from=2026-03-02T10:00:00%2B08:00&to=2026-03-02T02:20:00Z",
                             token=token)
    assert [(r["offered"], r["abandoned"], r["service_level"]) for r in body["rows"]] == [(1, 1, None)]  # S3 only: nothing judged

    # The CSV has the contract's header and the same numbers.
    status, text = await api(f"/api/reports?from={DAY}&to=2026-03-03&by=hour&format=csv", token=token)
    assert status == 200
    table = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert table[0] == ["key", "offered", "answered", "abandoned", "service_level", "asa_s", "aht_s", "frt_s",
                        "transfers", "csat_avg", "csat_count", "qa_avg"]
    for line in table[1:]:
        hour = want["hour"][line[0]]
        assert line == ["" if hour[f] is None else str(hour[f]) for f in table[0]]

    # The agents' state times: worked out from the script (seconds), now = 12:00.
    status, body = await api(f"/api/reports/agents?from={DAY}&to=2026-03-03", token=token)
    states = {r["agent_id"]: r for r in body["rows"]}
    assert {k: states[alice_id][k] for k in ("available_s", "busy_s", "away_s", "wrapup_s", "offline_s")} == {
        "available_s": 10 + 470 + 5 + 2650 + 5 + 530, "busy_s": 120 + 300 + 65, "away_s": 45 + 3600 + 3000,
        "wrapup_s": 0.0, "offline_s": 0.0}
    assert states[alice_id]["occupancy"] == round(485 / (3670 + 485), 4)
    assert {k: states[bob_id][k] for k in ("available_s", "busy_s", "away_s")} == {
        "available_s": 10 + 295, "busy_s": 235, "away_s": 7260 + 3000}
    assert states[bob_id]["name"] == "Bob"

    # MongoDB: the same records in a mongomock store give the same rows.
    mongo = await _mongo_copy(kefu_config.store.removeprefix("sqlite:///"))
    for by, rows in answers.items():
        assert await _day_report(mongo, kefu, by) == rows, by
    assert await mongo.agent_state_totals(at("00:00:00"), at("23:59:59") + 1, kefu.desk.clock()) == \
        await kefu.store.agent_state_totals(at("00:00:00"), at("23:59:59") + 1, kefu.desk.clock())
    await mongo.close()
    assert {ids["s1"], ids["s2"], ids["s5"]} <= {sid for sid, _ in await kefu.store.report_session_keys(
        at("00:00:00"), at("23:59:59"), "skill")}

    # A restart changes nothing: the same file, a new process (its start-up sees alice and bob
    # gone and starts their disconnect grace: no state changes within the day).
    day = (at("00:00:00"), at("23:59:59") + 1)
    states_before = await kefu.store.agent_state_totals(*day, now=at("12:00:00"))
    await kefu.desk.drain()
    await kefu.desk.stop()
    await kefu.store.close()
    again = await build_services(parse_config(["--demo", "--store", kefu_config.store], environ={}))
    try:
        for by, rows in answers.items():
            assert await _day_report(again.store, again, by) == rows, by
        assert await again.store.agent_state_totals(*day, now=at("12:00:00")) == states_before
        assert states_before[alice_id]["busy"] == 485.0
    finally:
        await again.desk.stop()
        await again.store.close()
    await kefu.store.open()  # the fixture closes it at the end


@pytest.mark.gen_test(timeout=30)
async def test_bad_questions_get_400_naming_the_field_and_agents_403(api, login) -> None:
    token, _ = await login("admin")
    for query, field in [("from=2026-03-02&to=2026-03-01&by=skill", "to"),
                         ("from=2026-03-02&to=2026-03-02&by=skill", "to"),
                         ("from=2025-01-01&to=2026-03-01&by=skill", "to"),
                         ("from=yesterday&to=2026-03-01&by=skill", "from"),
                         ("from=2026-03-01T08:00:00&to=2026-03-02&by=skill", "from"),
                         ("to=2026-03-02&by=skill", "from"),
                         ("from=2026-03-01&to=2026-03-02&by=week", "by"),
                         ("from=2026-03-01&to=2026-03-02&by=skill&tz=Mars/Base", "tz"),
                         ("from=2026-03-01&to=2026-03-02&by=skill&format=pdf", "format")]:
        status, body = await api(f"/api/reports?{query}", token=token)
        assert status == 400 and body["error"]["code"] == "bad_field", (query, body)
        assert body["error"]["field"] == field, (query, body)
    status, body = await api("/api/reports/agents?from=2026-03-02&to=2025-03-01", token=token)
    assert status == 400 and body["error"]["field"] == "to"
    # A year is fine (366 days: a leap year's), and so is an XLSX of it.
    status, body = await api("/api/reports?from=2024-01-01&to=2025-01-01&by=day", token=token)
    assert status == 200 and body == {"rows": []}
    for username in ("alice", "qa"):
        other, _ = await login(username)
        for path in ("/api/reports?from=2026-03-01&to=2026-03-02&by=skill",
                     "/api/reports/agents?from=2026-03-01&to=2026-03-02"):
            status, body = await api(path, token=other)
            assert status == 403 and body["error"]["code"] == "forbidden", (username, path)


@pytest.mark.gen_test(timeout=30)
async def test_a_team_supervisor_sees_their_team_only(api, login, console) -> None:
    admin, _ = await login("admin")
    supervisor, super_user = await login("super")
    bob = await console("bob")
    alice = await console("alice")
    await alice.ok("presence", status="available")
    await bob.ok("presence", status="available")
    status, team = await api("/api/teams", "POST", {"name": "信用卡组", "supervisors": [super_user["id"]],
                                                    "members": [bob.user["id"]]}, token=admin)
    assert status == 201, team
    today = dt.datetime.now(SHANGHAI).date()
    query = f"from={today}&to={today + dt.timedelta(days=1)}"
    status, body = await api(f"/api/reports/agents?{query}", token=supervisor)
    assert status == 200 and {r["agent_id"] for r in body["rows"]} == {bob.user["id"]}
    status, body = await api(f"/api/reports/agents?{query}", token=admin)
    assert {alice.user["id"], bob.user["id"]} <= {r["agent_id"] for r in body["rows"]}
    status, body = await api(f"/api/reports?{query}&by=team", token=admin)
    assert status == 200 and body == {"rows": []}  # nobody was served today
