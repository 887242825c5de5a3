"""desk/qa on a real SQLite store with a clock the test moves: rubric rules, the contract's total,
the sampler's rules (a stable per-session sample, CSAT, transfers, the survey wait, no agent),
auto-assignment to the least-loaded QA user, and a supervisor's scope over reviews."""

from __future__ import annotations

import pytest

from desk.access import AccessPolicy
from desk.errors import Forbidden, ValidationError
from desk.qa import QualityAssurance
from desk.qa.rubrics import score_total, validate_rubric
from desk.qa.work_queue import CSAT_WAIT_SECS, in_sample, reasons_for
from desk.settings import Settings
from desk.teams import Teams
from store.sqlite import SQLiteStore

T0 = 1_800_000_000.0
CRITERIA = [{"key": "a", "label": "A", "weight": 25, "max": 4}, {"key": "b", "label": "B", "weight": 75, "max": 10}]
ADMIN = {"id": "adm", "roles": ["admin"]}


@pytest.fixture
def store(io_loop, tmp_path):
    s = SQLiteStore(str(tmp_path / "kefu.sqlite3"))
    io_loop.run_sync(s.open)
    yield s
    io_loop.run_sync(s.close)


def _qa(store, clock):
    teams = Teams(store, lambda: clock["now"])
    return QualityAssurance(store, Settings(store, lambda: clock["now"]), AccessPolicy(store, lambda: clock["now"], teams),
                            teams, lambda: clock["now"]), teams


def test_rubric_rules_name_the_field():
    for body, field in (({"name": "x", "criteria": []}, "criteria"),
                        ({"name": "x", "criteria": [{**CRITERIA[0], "weight": 0}, CRITERIA[1]]}, "criteria[0].weight"),
                        ({"name": "x", "criteria": [CRITERIA[0], {**CRITERIA[1], "key": "a"}]}, "criteria[1].key"),
                        ({"name": "x", "criteria": [CRITERIA[0], {**CRITERIA[1], "max": "10"}]}, "criteria[1].max"),
                        ({"name": "x", "criteria": [CRITERIA[0], {**CRITERIA[1], "extra": 1}]}, "criteria[1].extra"),
                        ({"name": "x", "criteria": [CRITERIA[0], {**CRITERIA[1], "weight": 70}]}, "criteria"),
                        ({"name": "x", "criteria": CRITERIA, "pass_mark": 101}, "pass_mark"),
                        ({"name": " ", "criteria": CRITERIA}, "name")):
        with pytest.raises(ValidationError) as exc:
            validate_rubric(body, partial=False)
        assert exc.value.field == field, body
    # 33.3 + 33.3 + 33.4 is 100 for people, if not exactly for floats.
    thirds = [{"key": k, "label": k, "weight": w, "max": 5} for k, w in (("x", 33.3), ("y", 33.3), ("z", 33.4))]
    assert validate_rubric({"name": "thirds", "criteria": thirds}, partial=False)["pass_mark"] == 60.0
    # (25·3/4 + 75·5/10) ÷ 100 × 100 = 18.75 + 37.5
    assert score_total(CRITERIA, {"a": 3, "b": 5}) == pytest.approx(56.25)


def test_the_sample_is_stable_and_about_the_share_asked_for():
    ids = [f"s{n:05d}" for n in range(4000)]
    picked = [i for i in ids if in_sample(i, 10)]
    assert 300 < len(picked) < 500  # about 10 %
    assert picked == [i for i in ids if in_sample(i, 10)]  # the same every time
    assert not any(in_sample(i, 0) for i in ids) and all(in_sample(i, 100) for i in ids)
    rules = {"percent": 0, "csat_at_most": 2, "every_transfer": True}
    base = {"id": "s1", "agent_id": "a1", "transfers": []}
    assert reasons_for({**base, "csat": {"score": 2}}, rules) == ["csat"]  # type: ignore[arg-type]
    assert reasons_for({**base, "csat": {"score": 3}}, rules) == []  # type: ignore[arg-type]
    assert reasons_for({**base, "transfers": [{"from": "a0"}]}, rules) == ["transfer"]  # type: ignore[arg-type]
    assert reasons_for({**base, "agent_id": None, "csat": {"score": 1}}, rules) == []  # type: ignore[arg-type]
    assert reasons_for({**base, "csat": {"score": 1}}, {**rules, "csat_at_most": None}) == []  # type: ignore[arg-type]


@pytest.mark.gen_test
async def test_the_sampler_waits_for_the_survey_and_shares_the_work(store):
    clock = {"now": T0}
    qa, _ = _qa(store, clock)
    await store.create_user({"id": "q2", "username": "qa2", "roles": ["qa"]})
    await store.create_user({"id": "q1", "username": "qa1", "roles": ["qa"]})
    await store.create_user({"id": "q3", "username": "qa3", "roles": ["qa"], "disabled": True})
    await qa.queue.settings.update(ADMIN, "qa_sampling", {"percent": 100, "csat_at_most": None})
    for n in range(5):
        s = await store.create_session({"id": f"s{n}", "openid": f"o{n}", "created_at": T0 - 100})
        await store.update_session(s["id"], state="closed", agent_id="alice", closed_at=T0 + n)
    await store.create_session({"id": "bot", "openid": "ob", "state": "closed", "closed_at": T0})  # no agent
    assert await qa.queue.sample() == 0  # closed just now: the survey answer may still come
    clock["now"] = T0 + CSAT_WAIT_SECS + 2.5  # s0, s1, s2 are old enough
    assert await qa.queue.sample() == 3
    clock["now"] = T0 + CSAT_WAIT_SECS + 10
    assert await qa.queue.sample() == 2
    assert await qa.queue.sample() == 0
    total, items = await store.list_qa_items()
    assert total == 5 and [i["session_id"] for i in items] == ["s0", "s1", "s2", "s3", "s4"]
    # Round the enabled QA users, fewest open items first, ties by username: qa1, qa2, qa1 …
    assert [i["assignee_id"] for i in items] == ["q1", "q2", "q1", "q2", "q1"]
    assert all(i["reasons"] == ["sample"] for i in items)


@pytest.mark.gen_test
async def test_a_supervisor_reads_the_reviews_of_their_team_only(store):
    clock = {"now": T0}
    qa, teams = _qa(store, clock)
    rubric = await qa.rubrics.create(ADMIN, {"name": "R", "criteria": CRITERIA})
    for sid, agent in (("s1", "alice"), ("s2", "bob")):
        await store.create_session({"id": sid, "openid": f"o-{sid}", "state": "closed", "agent_id": agent,
                                    "agents": [agent], "closed_at": T0})
        await qa.reviews.create({"id": "q", "roles": ["qa"]}, {"session_id": sid, "rubric_id": rubric["id"],
                                                               "scores": {"a": 4, "b": 10}})
    for uid, role in (("sup", "supervisor"), ("alice", "agent"), ("bob", "agent")):
        await store.create_user({"id": uid, "username": uid, "roles": [role]})
    await teams.create(ADMIN, {"name": "T", "supervisors": ["sup"], "members": ["alice"]})
    sup = {"id": "sup", "roles": ["supervisor"]}
    seen = await qa.reviews.search(sup)
    assert [r["agent_id"] for r in seen["reviews"]] == ["alice"]
    with pytest.raises(Forbidden):
        await qa.reviews.search(sup, agent="bob")
    averages = await qa.reviews.averages(sup, None, None)
    assert [(a["agent_id"], a["average"]) for a in averages["agents"]] == [("alice", 100.0)]
    assert [(t["name"], t["reviews"]) for t in averages["teams"]] == [("T", 1)]
    with pytest.raises(Forbidden):
        await qa.reviews.create(sup, {"session_id": "s1", "rubric_id": rubric["id"], "scores": {"a": 1, "b": 1}})
