"""desk/pipeline.py's stages with fakes: identify, choose the skill, file into the open session or a
left message, route a new session."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from desk.pipeline import InboundPipeline, InboundWork
from desk.settings import Settings
from desk.texts import SystemTexts
from tests.unit.fakes import MemorySessions
from tests.unit.test_lifecycle import Env
from wechat.messages import InboundMessage

ADMIN = {"id": "u-admin", "roles": ["admin"]}


class Profiles:
    def __init__(self) -> None:
        self.noticed: list[str] = []

    def notice(self, customer: dict) -> None:
        self.noticed.append(customer["openid"])


def text(content: str, openid: str = "o1", msg_id: str = "1") -> InboundMessage:
    return InboundMessage.from_dict({"openid": openid, "to_user": "gh", "create_time": 1, "msg_type": "text",
                                     "msg_id": msg_id, "content": content})


class PipelineEnv(Env):
    def __init__(self) -> None:
        super().__init__()
        self.profiles = Profiles()
        config = SimpleNamespace(default_skill="general", idle_timeout=600.0)
        self.texts = SystemTexts(Settings(self.store, self.clock), self.notify_text, self.notify_openid,
                                 self.skill_names, self.skill_labels)
        self.pipeline = InboundPipeline(self.store, self.routing, self.lifecycle, self.lifecycle.audience,  # type: ignore[arg-type]
                                        self.lifecycle.views, self.profiles, config, self.texts)

    async def notify_text(self, session: dict, text: str) -> None:
        self.notices.append((session["id"], text))

    async def notify_openid(self, openid: str, text: str) -> None:
        self.notices.append((openid, text))

    async def skill_names(self) -> list[str]:
        return ["general", "loans", "cards"]

    async def skill_labels(self) -> dict[str, str]:
        return {"general": "综合咨询", "loans": "贷款业务", "cards": "信用卡"}


@pytest.fixture
def env() -> PipelineEnv:
    return PipelineEnv()


def test_the_stages_run_in_the_designed_order(env):
    p = env.pipeline
    assert p.stages == [p.identify, p.bot, p.choose_skill, p.file_into_open_session, p.file_into_left_message,
                        p.route]


@pytest.mark.gen_test
async def test_choose_skill_keyword_rule_else_default(env):
    await env.texts.settings.update(ADMIN, "keyword_rules", [{"keyword": "贷款", "skill": "loans"}])
    work = InboundWork("k1", text("我想办贷款"), 100.0)
    await env.pipeline.identify(work)
    assert await env.pipeline.choose_skill(work) is None and work.skill == "loans"
    work = InboundWork("k2", text("你好"), 100.0)
    await env.pipeline.identify(work)
    await env.pipeline.choose_skill(work)
    assert work.skill == "general"


@pytest.mark.gen_test
async def test_the_menu_choice_wins_over_keywords(env):
    env.store.customers["o1"] = {"openid": "o1", "last_skill": "cards"}
    await env.texts.settings.update(ADMIN, "keyword_rules", [{"keyword": "贷款", "skill": "loans"}])
    work = InboundWork("k1", text("贷款"), 100.0)
    await env.pipeline.identify(work)
    await env.pipeline.choose_skill(work)
    assert work.skill == "cards"


@pytest.mark.gen_test
async def test_a_first_message_becomes_a_queued_session_routed(env):
    processed = await env.pipeline.process("k1", text("你好"), 100.0)
    session = env.store.sessions[processed.session_id]
    assert session["state"] == "queued" and session["skill"] == "general"
    assert env.routing.recorded == [f"request {processed.session_id}"]
    assert [m["text"] for m in env.store.messages] == ["你好"] and env.profiles.noticed == ["o1"]


@pytest.mark.gen_test
async def test_a_message_in_an_open_session_is_filed_and_relayed_to_the_engines_agent(env):
    sid = await env.session("assigned", agent_id="a1")
    env.routing.assigned["s1"] = "a1"
    processed = await env.pipeline.process("k2", text("还在吗"), 101.0)
    assert processed.session_id == sid and processed.marked
    assert [m["text"] for m in env.store.messages] == ["还在吗"]
    assert env.bus.events("a1")[:1] == ["message"] and "message" in env.bus.events("boss")


@pytest.mark.gen_test
async def test_while_offered_the_message_goes_to_monitors_only(env):
    await env.session("offered", offered_to="a1")
    await env.pipeline.process("k2", text("还在吗"), 101.0)
    assert env.bus.events("a1") == [] and env.bus.events("boss") == ["message"]


@pytest.mark.gen_test
async def test_right_after_a_diversion_messages_join_the_left_message(env):
    sid = await env.session("diverted")
    processed = await env.pipeline.process("k3", text("我留言"), 120.0)
    assert processed.session_id == sid and processed.marked and len(env.store.sessions) == 1


def test_memory_store_is_the_fake_in_use(env):
    assert isinstance(env.store, MemorySessions)
