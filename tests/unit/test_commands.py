"""The command registry: roles, and the schemas' checks of values (not only types)."""

from __future__ import annotations

import pytest

from desk.commands import CommandRegistry, Str, UnknownCommand, command
from desk.desk import command_names
from desk.errors import BadRequest, Forbidden

AGENT = {"id": "u1", "roles": ["agent"]}
BOSS = {"id": "u2", "roles": ["supervisor"]}


class Feature:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict]] = []

    @command("presence", roles=frozenset({"agent"}), status=Str(choices=("available", "away")))
    async def presence(self, user: dict, **values: object) -> dict:
        self.calls.append(("presence", values))
        return {}

    @command("say", text=Str(strip=True, max_chars=5, too_long="text is too long"),
             client_id=Str(required=False, max_chars=4, printable=True))
    async def say(self, user: dict, **values: object) -> dict:
        self.calls.append(("say", values))
        return dict(values)

    @command("move", one_of=("to_agent", "to_skill"), to_agent=Str(required=False), to_skill=Str(required=False))
    async def move(self, user: dict, **values: object) -> dict:
        return dict(values)

    @command("watch", with_connection=True, session_id=Str())
    async def watch(self, user: dict, **values: object) -> dict:
        return dict(values)


@pytest.fixture
def feature() -> Feature:
    return Feature()


@pytest.fixture
def registry(feature: Feature) -> CommandRegistry:
    return CommandRegistry.of([feature])


@pytest.mark.gen_test
async def test_values_outside_the_choices_are_refused_and_nothing_runs(registry, feature):
    with pytest.raises(BadRequest, match='"available" or "away"'):
        await registry.dispatch(AGENT, "presence", {"status": "asleep"}, "c1")
    with pytest.raises(BadRequest, match="must be a string"):
        await registry.dispatch(AGENT, "presence", {"status": 1}, "c1")
    assert feature.calls == []
    await registry.dispatch(AGENT, "presence", {"status": "away"}, "c1")
    assert feature.calls == [("presence", {"status": "away"})]


@pytest.mark.gen_test
async def test_roles_are_checked_before_values(registry):
    with pytest.raises(Forbidden, match="needs the role agent"):
        await registry.dispatch(BOSS, "presence", {"status": "asleep"}, "c1")


@pytest.mark.gen_test
async def test_text_is_stripped_bounded_and_not_empty(registry):
    assert (await registry.dispatch(AGENT, "say", {"text": "  hi  "}, "c1"))["text"] == "hi"
    with pytest.raises(BadRequest, match="text must not be empty"):
        await registry.dispatch(AGENT, "say", {"text": "   "}, "c1")
    with pytest.raises(BadRequest, match="text is required"):
        await registry.dispatch(AGENT, "say", {}, "c1")
    with pytest.raises(BadRequest, match="text is too long"):
        await registry.dispatch(AGENT, "say", {"text": "123456"}, "c1")


@pytest.mark.gen_test
async def test_an_optional_id_must_be_short_and_printable(registry):
    assert (await registry.dispatch(AGENT, "say", {"text": "x", "client_id": "ab"}, "c1"))["client_id"] == "ab"
    for bad in ("", "a\nb", "abcde"):
        with pytest.raises(BadRequest, match="client_id"):
            await registry.dispatch(AGENT, "say", {"text": "x", "client_id": bad}, "c1")


@pytest.mark.gen_test
async def test_exactly_one_of(registry):
    assert await registry.dispatch(AGENT, "move", {"to_skill": "loans"}, "c1") == {"to_agent": None,
                                                                                  "to_skill": "loans"}
    for fields in ({}, {"to_agent": "bob", "to_skill": "loans"}, {"to_agent": ""}):
        with pytest.raises(BadRequest, match="one of them"):
            await registry.dispatch(AGENT, "move", fields, "c1")


@pytest.mark.gen_test
async def test_the_connection_key_goes_only_where_asked_and_unknown_names_are_refused(registry):
    assert await registry.dispatch(AGENT, "watch", {"session_id": "s1"}, "c9") == {"session_id": "s1",
                                                                                  "conn_key": "c9"}
    with pytest.raises(UnknownCommand):
        await registry.dispatch(AGENT, "nope", {}, "c1")


def test_a_name_registered_twice_is_an_error(feature):
    registry = CommandRegistry.of([feature])
    with pytest.raises(ValueError):
        registry.register(Feature())


def test_the_desk_features_register_every_documented_command():
    assert command_names() == {"presence", "accept", "reject", "send", "transfer", "close", "subscribe_queues",
                               "unsubscribe_queues", "monitor", "unmonitor", "whisper", "barge", "reassign",
                               "set_presence", "explain", "move_session",
                               # leave-messages (desk/leave_messages.py)
                               "assign_leave_message", "close_leave_message", "leave_message_alternatives",
                               "send_leave_message_template"}
