"""Attacks from outside, against the real app: webhook replay and modes, parallel password
guesses, tokens that outlive a password change or a disable, the Server header, an over-large
webhook body and a socket upgrade without Origin. Each: a clear error, nothing stored, the
server still serving others. (Crafted input at each edge is fuzzed in test_crafted_input.py.)"""

from __future__ import annotations

import asyncio
import collections
import hashlib
import json
import time
from urllib.parse import urlencode

import pytest
import tornado.httpclient
import tornado.websocket

from wechat.crypto import MessageCipher, msg_signature

AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"


def sign(token: str, timestamp: str, nonce: str) -> str:
    return hashlib.sha1("".join(sorted((token, timestamp, nonce))).encode()).hexdigest()


def text_xml(openid: str, msg_id: str, content: str = "你好") -> str:
    return (f"<xml><ToUserName><![CDATA[gh_kefu]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
            f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
            f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId></xml>")


@pytest.fixture
def post(api, kefu):
    """POST a signed webhook; ``nonce``/``timestamp`` fixed to replay a signed pair."""
    token = kefu.webhook.token

    async def do(xml: str, nonce: str | None = None, timestamp: str | None = None,
                 safe: bool = False) -> tuple[int, str]:
        stamp = timestamp or str(int(time.time()))
        nonce = nonce or "n" + str(time.perf_counter_ns())
        args = {"signature": sign(token, stamp, nonce), "timestamp": stamp, "nonce": nonce, "openid": "o"}
        body = xml
        if safe:
            cipher = MessageCipher(token, AES_KEY, kefu.webhook.appid)
            encrypt = cipher.encrypt(xml)
            args.update(encrypt_type="aes", msg_signature=msg_signature(token, stamp, nonce, encrypt))
            body = f"<xml><ToUserName><![CDATA[gh_kefu]]></ToUserName><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
        code, data = await api(f"/wechat?{urlencode(args)}", "POST", body.encode())
        return code, str(data)

    return do


async def inbound_texts(kefu, openid: str) -> list[str]:
    await kefu.desk.drain()
    return [m["text"] for m in await kefu.store.customer_messages(openid) if m["direction"] == "in"]


# -- 10. webhook replay and --wechat-mode ------------------------------------------------------------

@pytest.mark.gen_test
async def test_a_signed_pair_reused_with_another_body_is_403_and_nothing_is_stored(post, kefu, api) -> None:
    stamp, nonce = str(int(time.time())), "stolen-nonce"
    assert await post(text_xml("o-victim", "7001", "真的"), nonce=nonce, timestamp=stamp) == (200, "success")
    code, reason = await post(text_xml("o-forger", "7002", "假的"), nonce=nonce, timestamp=stamp)
    assert code == 403 and "already used" in reason
    assert await kefu.store.get_inbound("7002") is None
    assert await kefu.store.get_customer("o-forger") is None
    assert await inbound_texts(kefu, "o-victim") == ["真的"]
    # Others are still served: a fresh pair goes through.
    assert await post(text_xml("o-other", "7003", "别人")) == (200, "success")
    assert (await api("/healthz"))[0] == 200


@pytest.mark.gen_test
async def test_the_same_pair_with_the_same_body_is_a_retry_accepted_once(post, kefu) -> None:
    stamp, nonce = str(int(time.time())), "retry-nonce"
    xml = text_xml("o-retry2", "7101", "重试一次")
    answers = await asyncio.gather(*(post(xml, nonce=nonce, timestamp=stamp) for _ in range(3)))
    assert answers == [(200, "success")] * 3
    assert await post(xml, nonce=nonce, timestamp=stamp) == (200, "success")
    assert await inbound_texts(kefu, "o-retry2") == ["重试一次"]


@pytest.mark.gen_test
@pytest.mark.kefu(wechat_aes_key=AES_KEY)
async def test_compatible_mode_binds_an_encrypted_messages_pair_too(post, kefu) -> None:
    # The pair of an encrypted message cannot carry a forged plain body in compatible mode.
    assert kefu.config.webhook_mode == "compatible"
    stamp, nonce = str(int(time.time())), "safe-nonce"
    xml = text_xml("o-enc", "7201", "加密")
    assert await post(xml, nonce=nonce, timestamp=stamp, safe=True) == (200, "success")
    assert (await post(text_xml("o-enc-forger", "7202", "伪造"), nonce=nonce, timestamp=stamp))[0] == 403
    assert await kefu.store.get_inbound("7202") is None
    # WeChat's retry of the encrypted message (encrypted afresh) is still a retry.
    assert await post(xml, nonce=nonce, timestamp=stamp, safe=True) == (200, "success")
    assert await inbound_texts(kefu, "o-enc") == ["加密"]


@pytest.mark.gen_test
@pytest.mark.kefu(wechat_aes_key=AES_KEY, wechat_mode="safe")
async def test_safe_mode_refuses_a_plain_message_403(post, kefu) -> None:
    code, reason = await post(text_xml("o-plain-in-safe", "7301", "明文"))
    assert code == 403 and "safe mode" in reason
    assert await kefu.store.get_inbound("7301") is None
    assert await kefu.store.get_customer("o-plain-in-safe") is None
    assert await post(text_xml("o-safe-ok", "7302", "密文"), safe=True) == (200, "success")
    assert await inbound_texts(kefu, "o-safe-ok") == ["密文"]


@pytest.mark.gen_test
@pytest.mark.kefu(wechat_aes_key=AES_KEY, wechat_mode="plain")
async def test_plain_mode_refuses_an_encrypted_message_400(post, kefu) -> None:
    code, reason = await post(text_xml("o-enc-in-plain", "7401"), safe=True)
    assert code == 400 and "plain mode" in reason
    assert await kefu.store.get_inbound("7401") is None


# -- 11. parallel password guesses ---------------------------------------------------------------

@pytest.mark.gen_test(timeout=60)
async def test_parallel_guesses_are_throttled_exactly_like_sequential_ones(kefu, base_url, login) -> None:
    # One instant for the whole test: the throttle's waits never run out while it runs.
    frozen = time.time()
    kefu.accounts._clock = lambda: frozen
    client = tornado.httpclient.AsyncHTTPClient(force_instance=True, max_clients=50)

    async def guess(username: str, password: str) -> int:
        response = await client.fetch(f"{base_url}/api/auth/login", method="POST", raise_error=False,
                                      body=json.dumps({"username": username, "password": password}))
        return response.code

    try:
        sequential = [await guess("carol", f"wrong{i}") for i in range(5)]
        parallel = await asyncio.gather(*(guess("alice", f"wrong{i}") for i in range(40)))
    finally:
        client.close()
    assert sequential == [401, 401, 401, 429, 429]
    assert collections.Counter(parallel) == {401: 3, 429: 37}
    # Another user is unaffected.
    token, _ = await login("bob")
    assert token


# -- 14. tokens end with a password change and with a disable -------------------------------------

@pytest.mark.gen_test
async def test_a_token_from_the_same_second_ends_with_a_password_change(kefu, api, login) -> None:
    frozen = float(int(time.time()))  # everything below happens within one second
    kefu.accounts._clock = lambda: frozen
    admin, _ = await login("admin")
    token, user = await login("alice")
    assert (await api("/api/me", token=token))[0] == 200
    code, _ = await api(f"/api/users/{user['id']}", "PATCH", {"password": "a-new-password"}, token=admin)
    assert code == 200
    code, data = await api("/api/me", token=token)
    assert (code, data["error"]["message"]) == (401, "token revoked")
    status, fresh = await api("/api/auth/login", "POST", {"username": "alice", "password": "a-new-password"})
    assert status == 200
    assert (await api("/api/me", token=fresh["token"]))[0] == 200


@pytest.mark.gen_test
async def test_disabling_ends_tokens_and_sockets_and_re_enabling_revives_none(kefu, api, login, console) -> None:
    admin, _ = await login("admin")
    bob = await console("bob")
    old_token = bob.token
    code, _ = await api(f"/api/users/{bob.user['id']}", "PATCH", {"disabled": True}, token=admin)
    assert code == 200
    while await asyncio.wait_for(bob.conn.read_message(), 10) is not None:
        pass  # events sent before the close
    assert bob.conn.close_code == 4010
    code, _ = await api(f"/api/users/{bob.user['id']}", "PATCH", {"disabled": False}, token=admin)
    assert code == 200
    code, data = await api("/api/me", token=old_token)
    assert (code, data["error"]["message"]) == (401, "token revoked")
    token, _ = await login("bob")
    assert (await api("/api/me", token=token))[0] == 200


# -- 16. Server header, over-large webhook, socket without Origin ---------------------------------

@pytest.mark.gen_test
async def test_no_answer_names_tornado_in_its_server_header(http_server, base_url, http_port) -> None:
    client = tornado.httpclient.AsyncHTTPClient()
    for path in ("/healthz", "/api/me", "/no/such/page", "/", "/wechat", "/static/no-such.js"):
        response = await client.fetch(base_url + path, raise_error=False)
        assert response.headers.get("Server") == "Kefu", (path, response.headers.get("Server"))
    with pytest.raises(tornado.httpclient.HTTPClientError) as refused:
        await tornado.websocket.websocket_connect(f"ws://127.0.0.1:{http_port}/ws")
    assert refused.value.response.headers.get("Server") == "Kefu"


@pytest.mark.gen_test(timeout=60)
async def test_a_10_mb_webhook_is_413_and_nothing_is_stored(kefu, base_url, api) -> None:
    token = kefu.webhook.token
    stamp, nonce = str(int(time.time())), "big"
    query = urlencode({"signature": sign(token, stamp, nonce), "timestamp": stamp, "nonce": nonce})
    body = text_xml("o-huge", "7501", "x" * (10 * 1024 * 1024)).encode()
    client = tornado.httpclient.AsyncHTTPClient()
    response = await client.fetch(f"{base_url}/wechat?{query}", method="POST", body=body, raise_error=False,
                                  request_timeout=60)
    assert response.code == 413
    assert b"256" in response.body  # says what the limit is

    # The same without a Content-Length (chunked): cut off once the limit is passed.
    async def produce(write) -> None:
        for _ in range(40):
            await write(b"x" * (64 * 1024))

    chunked = await client.fetch(f"{base_url}/wechat?{query}", method="POST", body_producer=produce,
                                 raise_error=False, request_timeout=60)
    assert chunked.code == 413
    assert await kefu.store.get_inbound("7501") is None
    assert (await api("/healthz"))[0] == 200


@pytest.mark.gen_test
async def test_a_socket_upgrade_without_origin_is_refused_403(http_server, http_port, login) -> None:
    with pytest.raises(tornado.httpclient.HTTPClientError) as refused:
        await tornado.websocket.websocket_connect(f"ws://127.0.0.1:{http_port}/ws")
    assert refused.value.code == 403
    # A browser's upgrade, with its own origin, still opens.
    token, _ = await login("alice")
    conn = await tornado.websocket.websocket_connect(tornado.httpclient.HTTPRequest(
        f"ws://127.0.0.1:{http_port}/ws", headers={"Origin": f"http://127.0.0.1:{http_port}"}))
    await conn.write_message(json.dumps({"type": "hello", "token": token, "resume": None}))
    assert json.loads(await conn.read_message())["type"] == "welcome"
    conn.close()


@pytest.mark.gen_test
@pytest.mark.kefu(allow_no_origin=True)
async def test_allow_no_origin_lets_a_non_browser_client_in(http_server, http_port, login) -> None:
    token, _ = await login("alice")
    conn = await tornado.websocket.websocket_connect(f"ws://127.0.0.1:{http_port}/ws")
    await conn.write_message(json.dumps({"type": "hello", "token": token, "resume": None}))
    assert json.loads(await conn.read_message())["type"] == "welcome"
    conn.close()
    # A foreign origin is still refused.
    with pytest.raises(tornado.httpclient.HTTPClientError) as refused:
        await tornado.websocket.websocket_connect(tornado.httpclient.HTTPRequest(
            f"ws://127.0.0.1:{http_port}/ws", headers={"Origin": "https://evil.example"}))
    assert refused.value.code == 403
