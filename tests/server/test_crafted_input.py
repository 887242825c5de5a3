"""Crafted input at each edge of the real app (login body, socket frame, signed webhook), fuzzed
with hypothesis: never a 500, never a traceback in the log, always a clear bad-input answer
logged as one warning line, and the server still serving others afterwards.

The issue's inputs are pinned as explicit examples: a login body of 100,000 ``[``, a socket frame
of 50,000 ``[``, a signed webhook with an element nested 300 deep, a 30-digit CreateTime.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import time
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

SETTINGS = settings(max_examples=60, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

# JSON values of any shape, including deep ones and numbers past the interpreter's digit limit.
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)
deep_text = st.builds(lambda opener, n: opener * n, st.sampled_from(["[", "{\"a\":", "[{\"b\":"]),
                      st.integers(min_value=1, max_value=12_000))
broken_text = st.one_of(
    deep_text,
    st.text(max_size=200),
    json_values.map(json.dumps).map(lambda s: s[: max(1, len(s) // 2)]),  # cut short
    st.integers(min_value=4_400, max_value=6_000).map(lambda n: "1" * n),  # over int's digit limit
)


def assert_no_traceback(caplog: pytest.LogCaptureFixture) -> None:
    bad = [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    assert not bad, [f"{r.name}: {r.getMessage()} {r.exc_info and r.exc_info[0]}" for r in bad]


def run(io_loop: Any, coro_fn: Any) -> Any:
    return io_loop.run_sync(coro_fn, timeout=30)


# -- login ---------------------------------------------------------------------------------------

def test_login_bodies_never_make_a_500(io_loop, api, login, caplog) -> None:
    caplog.set_level(logging.WARNING)

    @SETTINGS
    @given(body=st.one_of(
        broken_text.map(str.encode),
        st.binary(max_size=100),
        json_values.map(json.dumps).map(str.encode),
        st.fixed_dictionaries({"username": json_values, "password": json_values}).map(json.dumps).map(str.encode),
    ))
    @example(body=b"[" * 100_000)
    def check(body: bytes) -> None:
        status, data = run(io_loop, lambda: api("/api/auth/login", "POST", body,
                                                headers={"Content-Type": "application/json"}))
        assert status in (400, 401, 429), (status, data)
        assert set(data) == {"error"} and data["error"]["code"] != "internal"

    check()
    assert_no_traceback(caplog)
    assert run(io_loop, lambda: login("alice"))[0]


def test_a_deep_login_body_is_400_invalid_json_logged_in_one_line(io_loop, api, caplog) -> None:
    caplog.set_level(logging.WARNING)
    status, data = run(io_loop, lambda: api("/api/auth/login", "POST", b"[" * 100_000))
    assert (status, data["error"]["code"]) == (400, "invalid_json")
    warnings = [r for r in caplog.records if r.getMessage() == "invalid json body"]
    assert len(warnings) == 1 and warnings[0].levelno == logging.WARNING
    assert warnings[0].fields["reason"] == "nested too deeply"  # type: ignore[attr-defined]
    assert_no_traceback(caplog)


# -- socket frames -------------------------------------------------------------------------------

def test_socket_frames_never_break_the_socket(io_loop, console, caplog) -> None:
    caplog.set_level(logging.WARNING)
    agent = run(io_loop, lambda: console("alice"))

    @SETTINGS
    @given(frame=st.one_of(
        broken_text.filter(lambda s: len(s.encode()) < 60_000),
        json_values.map(json.dumps),
        st.fixed_dictionaries({"type": st.sampled_from(["ping", "presence", "send", "close", "accept", "nope"]),
                               "session_id": json_values, "status": json_values, "text": json_values,
                               }).map(json.dumps),
    ))
    @example(frame="[" * 50_000)
    def check(frame: str) -> None:
        async def exchange() -> dict[str, Any]:
            # A ping with a known id after each frame: whatever the frame got, the socket is alive.
            await agent.conn.write_message(frame)
            return await agent.command("ping")

        pong = run(io_loop, exchange)
        assert pong["ok"] or pong["error"]["code"] == "rate_limited", pong
        assert agent.closed is None

    check()
    results = [f for f in agent.frames if f.get("type") == "result"]
    assert all(r["ok"] or r["error"]["code"] != "internal" for r in results)
    assert_no_traceback(caplog)


def test_a_deep_socket_frame_gets_an_invalid_json_result(io_loop, console, caplog) -> None:
    caplog.set_level(logging.WARNING)
    agent = run(io_loop, lambda: console("alice"))

    async def exchange() -> dict[str, Any]:
        await agent.conn.write_message("[" * 50_000)
        return await agent._read()

    result = run(io_loop, exchange)
    assert result["type"] == "result" and result["ok"] is False
    assert result["error"]["code"] == "invalid_json"
    assert run(io_loop, lambda: agent.ok("ping")) is not None
    assert [r.levelno for r in caplog.records if r.getMessage() == "invalid json frame"] == [logging.WARNING]
    assert_no_traceback(caplog)


# -- signed webhooks -----------------------------------------------------------------------------

def signed_query(token: str, nonce: str) -> str:
    stamp = str(int(time.time()))
    signature = hashlib.sha1("".join(sorted((token, stamp, nonce))).encode()).hexdigest()
    return urlencode({"signature": signature, "timestamp": stamp, "nonce": nonce, "openid": "o"})


def nested(depth: int, leaf: str) -> str:
    return "<a>" * depth + leaf + "</a>" * depth


xml_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="<&]"),
                   max_size=30)


@st.composite
def webhook_bodies(draw: Any) -> str:
    """A text message whose fields and nesting the strategy chooses, up to ``<MsgId>`` (the test
    adds a MsgId of its own to each, so that no two examples share one)."""
    create_time = draw(st.one_of(st.integers(min_value=-10**40, max_value=10**40).map(str), xml_text))
    depth = draw(st.integers(min_value=0, max_value=400))
    extra_name = draw(st.sampled_from(["Scale", "FileTotalLen", "Location_X", "Extra", "Content"]))
    extra_value = draw(st.one_of(xml_text, st.integers(min_value=-10**40, max_value=10**40).map(str),
                                 st.sampled_from(["1e999", "nan", "-inf", "1" * 5000])))
    return (f"<xml><ToUserName>gh</ToUserName><FromUserName>o-fuzz</FromUserName>"
            f"<CreateTime>{create_time}</CreateTime><MsgType>text</MsgType><Content>{draw(xml_text)}</Content>"
            f"<{extra_name}>{extra_value}</{extra_name}>{nested(depth, 'x') if depth else ''}")


def test_signed_webhooks_never_make_a_500(io_loop, api, kefu, caplog) -> None:
    caplog.set_level(logging.WARNING)
    token = kefu.webhook.token
    serials = itertools.count(880_000)

    @SETTINGS
    @given(head=webhook_bodies())
    @example(head="<xml><ToUserName>gh</ToUserName><FromUserName>o-deep</FromUserName>"
                  f"<CreateTime>{int(time.time())}</CreateTime><MsgType>text</MsgType>"
                  f"<Content>{nested(300, 'x')}</Content>")
    @example(head="<xml><ToUserName>gh</ToUserName><FromUserName>o-time</FromUserName>"
                  f"<CreateTime>{'9' * 30}</CreateTime><MsgType>text</MsgType><Content>hi</Content>")
    def check(head: str) -> None:
        msg_id = str(next(serials))
        body = f"{head}<MsgId>{msg_id}</MsgId></xml>"
        query = signed_query(token, f"fuzz{msg_id}")
        status, answer = run(io_loop, lambda: api(f"/wechat?{query}", "POST", body.encode()))
        assert status in (200, 400), (status, answer)
        if status == 400:
            assert run(io_loop, lambda: kefu.store.get_inbound(msg_id)) is None
        else:
            assert answer == "success"

    check()
    run(io_loop, kefu.desk.drain)
    assert_no_traceback(caplog)
    assert run(io_loop, lambda: api("/healthz"))[0] == 200


@pytest.mark.parametrize(("body", "reason"), [
    (f"<xml><ToUserName>gh</ToUserName><FromUserName>o-deep</FromUserName><CreateTime>{int(time.time())}"
     f"</CreateTime><MsgType>text</MsgType><Content>{nested(300, 'x')}</Content><MsgId>880101</MsgId></xml>",
     "nested deeper"),
    (f"<xml><ToUserName>gh</ToUserName><FromUserName>o-time</FromUserName><CreateTime>{'9' * 30}</CreateTime>"
     "<MsgType>text</MsgType><Content>hi</Content><MsgId>880102</MsgId></xml>", "CreateTime is out of range"),
])
def test_the_issues_webhooks_are_refused_400_in_one_warning(io_loop, api, kefu, caplog, body, reason) -> None:
    caplog.set_level(logging.WARNING)
    query = signed_query(kefu.webhook.token, "issue")
    status, answer = run(io_loop, lambda: api(f"/wechat?{query}", "POST", body.encode()))
    assert status == 400 and reason in answer
    assert run(io_loop, lambda: kefu.store.get_inbound("880101")) is None
    assert run(io_loop, lambda: kefu.store.get_inbound("880102")) is None
    assert [r.levelno for r in caplog.records if r.getMessage() == "webhook rejected"] == [logging.WARNING]
    assert_no_traceback(caplog)
