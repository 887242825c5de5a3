"""The satisfaction feature with fakes: which closes are surveyed, the reply budget, and what the
answer stage takes (and leaves to the rest of the pipeline)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from desk.followers import Followers
from desk.pipeline import InboundWork
from desk.satisfaction import SURVEY_ANSWER_SECS, Satisfaction
from tests.unit.fakes import MemorySessions
from wechat.budget import ReplyBudget
from wechat.messages import InboundMessage

NOW = 1_800_000_000.0


class Parts(SimpleNamespace):
    pass


def build(survey: str = "请打分") -> tuple[Satisfaction, MemorySessions, dict[str, list[Any]]]:
    store = MemorySessions()
    seen: dict[str, list[Any]] = {"replies": [], "told": [], "published": []}

    async def text(key: str, session: Any = None) -> str:
        return survey if key == "survey" else ""

    async def reply(session: Any, text: str, author: str, user: Any) -> dict[str, Any]:
        seen["replies"].append(text)
        return {}

    async def tell(session: Any, key: str) -> None:
        seen["told"].append(key)

    async def publish(user_ids: list[str], event: str, data: dict[str, Any]) -> None:
        seen["published"].append((user_ids, event, data))

    async def list_users() -> list[dict[str, Any]]:
        return []

    store.list_users = list_users  # type: ignore[attr-defined]
    parts = Parts(store=store, clock=lambda: NOW, lifecycle=SimpleNamespace(followers=Followers()),
                  wall=SimpleNamespace(decorations=[]), texts=SimpleNamespace(text=text, tell=tell),
                  replies=SimpleNamespace(reply=reply), audience=SimpleNamespace(publish=publish),
                  access=SimpleNamespace(scope=lambda u: None), watchers=SimpleNamespace(queues_changed=lambda: None))
    return Satisfaction(parts), store, seen  # type: ignore[arg-type]


async def served(store: MemorySessions, openid: str = "o1", budget: dict[str, Any] | None = None) -> dict[str, Any]:
    fresh = ReplyBudget.from_dict(None)
    fresh.on_customer_message(NOW - 30)
    await store.upsert_customer(openid, seen_at=NOW - 30, budget=budget if budget is not None else fresh.to_dict())
    session = await store.create_session({"openid": openid, "skill": "general", "state": "assigned",
                                          "created_at": NOW - 100})
    return await store.update_session(session["id"], state="closed", agent_id="a1", accepted_at=NOW - 90,
                                      closed_at=NOW)


def work(openid: str, text: str, now: float = NOW + 10, key: str = "k1") -> Any:
    message = InboundMessage(to_user="gh", openid=openid, create_time=int(now), msg_type="text", msg_id=key,
                             content=text)
    return InboundWork(key, message, now)


@pytest.mark.gen_test
async def test_only_served_sessions_closed_by_the_agent_or_idle_are_surveyed() -> None:
    feature, store, seen = build()
    session = await served(store)
    await feature.session_closed(session, "customer_left")  # not a surveyed close
    bot = await store.update_session(session["id"], agent_id=None)
    await feature.session_closed(bot, "closed")  # no agent served it
    assert seen["replies"] == [] and (await store.get_session(session["id"])).get("survey") is None
    served_again = await store.update_session(session["id"], agent_id="a1")
    await feature.session_closed(served_again, "idle")
    assert seen["replies"] == ["请打分"]
    assert (await store.get_session(session["id"]))["survey"] == {"sent_at": NOW, "agent_id": "a1"}


@pytest.mark.gen_test
async def test_no_reply_left_means_no_survey_and_a_later_digit_is_a_normal_message() -> None:
    feature, store, seen = build()
    used = ReplyBudget.from_dict(None)
    used.on_customer_message(NOW - 30)
    for _ in range(5):
        used.record_send(NOW - 20)
    session = await served(store, budget=used.to_dict())
    await feature.session_closed(session, "closed")
    assert seen["replies"] == [] and (await store.get_session(session["id"])).get("survey") is None
    assert await feature.answer_stage(work("o1", "5")) is None


@pytest.mark.gen_test
async def test_survey_off_sends_nothing() -> None:
    feature, store, seen = build(survey="")
    session = await served(store)
    await feature.session_closed(session, "closed")
    assert seen["replies"] == []


@pytest.mark.gen_test
async def test_the_answer_stage_takes_a_score_then_one_comment_then_nothing() -> None:
    feature, store, seen = build()
    session = await served(store)
    await feature.session_closed(session, "closed")
    assert await feature.answer_stage(work("o1", "我还想问", key="q")) is None  # not an answer: passed on
    done = await feature.answer_stage(work("o1", "满意", key="a"))
    assert done is not None and done.session_id == session["id"] and done.marked
    assert seen["told"] == ["survey_thanks"]
    assert (await store.get_session(session["id"]))["csat"] == {"score": 4, "at": NOW + 10, "agent_id": "a1"}
    comment = await feature.answer_stage(work("o1", "很耐心", now=NOW + 40, key="c"))
    assert comment is not None
    assert (await store.get_session(session["id"]))["csat"]["comment"] == "很耐心"
    assert await feature.answer_stage(work("o1", "3", now=NOW + 50, key="d")) is None  # answered: a normal message
    assert [e for _, e, _ in seen["published"]] == ["csat", "csat"]
    assert feature.tally.figures()["general"]["hour"] == {"avg": 4.0, "count": 1}


@pytest.mark.gen_test
async def test_an_expired_survey_takes_nothing() -> None:
    feature, store, _seen = build()
    await feature.session_closed(await served(store), "closed")
    assert await feature.answer_stage(work("o1", "5", now=NOW + SURVEY_ANSWER_SECS + 1)) is None
