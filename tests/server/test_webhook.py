"""The WeChat webhook against the real app: verification, plain and safe mode, every bad input,
concurrent retries, and de-duplication that survives a restart."""

from __future__ import annotations

import asyncio
import hashlib
import time
from dataclasses import replace
from urllib.parse import urlencode

import pytest

from kefu_config import parse_config
from server import build_services
from wechat.crypto import MessageCipher, msg_signature
from wechat.messages import parse_inbound
from wechat.xmlsafe import parse_xml

AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"


@pytest.fixture
def kefu_config(tmp_path, http_port):
    config = parse_config(["--demo", "--port", str(http_port), "--store", f"sqlite:///{tmp_path / 'kefu.sqlite3'}",
                           "--wechat-aes-key", AES_KEY, "--wechat-max-skew", "300"], environ={})
    return replace(config, offer_timeout=20)


def sign(token: str, timestamp: str, nonce: str) -> str:
    return hashlib.sha1("".join(sorted((token, timestamp, nonce))).encode()).hexdigest()


def text_xml(openid: str, msg_id: str, content: str = "你好", create_time: int | None = None) -> str:
    return (f"<xml><ToUserName><![CDATA[gh_kefu]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
            f"<CreateTime>{create_time or int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
            f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId></xml>")


@pytest.fixture
def post(api, kefu):
    token = kefu.webhook.token

    async def do(body: str | bytes, timestamp: int | None = None, good_signature: bool = True,
                 safe: bool = False, **extra: str) -> tuple[int, str]:
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        nonce = "n" + str(time.perf_counter_ns())
        args = {"signature": sign(token, stamp, nonce) if good_signature else "0" * 40,
                "timestamp": stamp, "nonce": nonce, "openid": "o"}
        if safe:
            cipher = MessageCipher(token, AES_KEY, kefu.webhook.appid)
            encrypt = cipher.encrypt(body if isinstance(body, str) else body.decode())
            args.update(encrypt_type="aes", msg_signature=msg_signature(token, stamp, nonce, encrypt))
            body = f"<xml><ToUserName><![CDATA[gh_kefu]]></ToUserName><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
        args.update(extra)
        code, data = await api(f"/wechat?{urlencode(args)}", "POST", body.encode() if isinstance(body, str) else body)
        return code, data if isinstance(data, str) else str(data)

    return do


async def stored(kefu, key: str) -> dict | None:
    return await kefu.store.get_inbound(key)


async def customer_texts(store, openid: str) -> list[str]:
    """What the customer wrote, as the transcript has it (across sessions)."""
    return [m["text"] for m in await store.customer_messages(openid) if m["direction"] == "in"]


@pytest.mark.gen_test
async def test_url_verification(api, kefu) -> None:
    token = kefu.webhook.token
    query = urlencode({"signature": sign(token, "1410685589", "abc"), "timestamp": "1410685589",
                       "nonce": "abc", "echostr": "hello-echo"})
    assert await api(f"/wechat?{query}") == (200, "hello-echo")
    bad = urlencode({"signature": "x" * 40, "timestamp": "1410685589", "nonce": "abc", "echostr": "e"})
    code, _ = await api(f"/wechat?{bad}")
    assert code == 403


@pytest.mark.gen_test
async def test_plain_message_is_stored_before_the_answer(post, kefu) -> None:
    code, body = await post(text_xml("o-plain", "9001", "在吗"))
    assert (code, body) == (200, "success")
    record = await stored(kefu, "9001")
    assert record is not None
    assert record["message"]["content"] == "在吗"


@pytest.mark.gen_test
async def test_safe_mode_message_is_decrypted_and_stored(post, kefu) -> None:
    code, body = await post(text_xml("o-safe", "9002", "加密的消息"), safe=True)
    assert (code, body) == (200, "success")
    assert (await stored(kefu, "9002"))["message"]["content"] == "加密的消息"


@pytest.mark.gen_test
async def test_every_message_type_is_accepted(customer, kefu) -> None:
    await customer.subscribe("o-types")
    await customer.send_text("o-types", "文字")
    await customer.send_image("o-types")
    # (Not words self-service takes, such as 查余额: those are answered, not filed.)
    await customer.send_voice("o-types", media_id="v1", recognition="我要咨询贷款")
    await customer.send_location("o-types", 23.1, 113.3, label="广州")
    await customer.send_link("o-types", "标题", "描述", "https://example.com/a")
    await customer.click("o-types", "skill:loans")
    await customer.send("o-types", "miniprogrampage", Title="kept, not dropped")
    await kefu.desk.drain()
    # Nobody is logged in, so the first message was diverted to leave-message and the rest joined it.
    sessions = await kefu.store.customer_sessions("o-types")
    assert [s["state"] for s in sessions] == ["diverted"]
    messages = await kefu.store.session_messages(sessions[0]["id"])
    inbound = [m for m in messages if m["direction"] == "in"]
    assert [m["type"] for m in inbound] == ["text", "image", "voice", "location", "link", "miniprogrampage"]
    assert inbound[2]["media"]["recognition"] == "我要咨询贷款"
    assert inbound[3]["media"]["label"] == "广州"
    # The menu click chose the skill of the customer's next session.
    assert (await kefu.store.get_customer("o-types"))["last_skill"] == "loans"


BILLION_LAUGHS = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                  '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
                  '<xml><ToUserName>a</ToUserName><FromUserName>b</FromUserName><CreateTime>1</CreateTime>'
                  '<MsgType>text</MsgType><Content>&lol2;</Content><MsgId>77</MsgId></xml>')
EXTERNAL_ENTITY = ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
                   '<xml><ToUserName>a</ToUserName><FromUserName>b</FromUserName><CreateTime>1</CreateTime>'
                   '<MsgType>text</MsgType><Content>&xxe;</Content><MsgId>78</MsgId></xml>')


@pytest.mark.gen_test
@pytest.mark.parametrize(("case", "expected"), [
    ("bad_signature", 403), ("stale_timestamp", 403), ("too_large", 413), ("malformed", 400),
    ("billion_laughs", 400), ("external_entity", 400), ("missing_fields", 400), ("bad_msg_signature", 403),
    ("wrong_root", 400),
])
async def test_bad_input_is_rejected_and_nothing_is_stored(post, kefu, api, case, expected) -> None:
    good = text_xml("o-bad", "555")
    if case == "bad_signature":
        result = await post(good, good_signature=False)
    elif case == "stale_timestamp":
        result = await post(good, timestamp=int(time.time()) - 3600)
    elif case == "too_large":
        result = await post(good.replace("你好", "x" * (256 * 1024 + 1)))
    elif case == "malformed":
        result = await post("<xml><ToUserName>a</ToUserName")
    elif case == "billion_laughs":
        result = await post(BILLION_LAUGHS)
    elif case == "external_entity":
        result = await post(EXTERNAL_ENTITY)
    elif case == "missing_fields":
        result = await post("<xml><ToUserName>a</ToUserName><MsgType>text</MsgType><MsgId>555</MsgId></xml>")
    elif case == "wrong_root":
        result = await post(good.replace("<xml>", "<root>").replace("</xml>", "</root>"))
    else:
        result = await post(good, safe=True, msg_signature="0" * 40)
    assert result[0] == expected, result
    for key in ("555", "77", "78"):
        assert await stored(kefu, key) is None
    assert await kefu.store.get_customer("o-bad") is None
    # The server still answers.
    assert (await api("/healthz"))[0] == 200


@pytest.mark.gen_test
async def test_three_concurrent_retries_store_one_message_and_get_one_answer(post, kefu) -> None:
    xml = text_xml("o-retry", "42424242", "重试")
    answers = await asyncio.gather(post(xml), post(xml), post(xml))
    assert answers == [(200, "success")] * 3
    await kefu.desk.drain()
    assert await customer_texts(kefu.store, "o-retry") == ["重试"]


@pytest.mark.gen_test
async def test_events_are_deduplicated_by_sender_time_and_event(post, kefu) -> None:
    event = ("<xml><ToUserName>gh</ToUserName><FromUserName>o-ev</FromUserName><CreateTime>1700000000</CreateTime>"
             "<MsgType>event</MsgType><Event>CLICK</Event><EventKey>skill:cards</EventKey></xml>")
    assert await post(event) == (200, "success")
    assert await post(event) == (200, "success")
    await kefu.desk.drain()
    assert await stored(kefu, "o-ev|1700000000|CLICK|skill:cards") is not None
    assert (await kefu.store.get_customer("o-ev"))["last_skill"] == "cards"
    # Another menu item tapped within the same second is another event, not a retry.
    assert await post(event.replace("skill:cards", "skill:loans")) == (200, "success")
    await kefu.desk.drain()
    assert await stored(kefu, "o-ev|1700000000|CLICK|skill:loans") is not None
    assert (await kefu.store.get_customer("o-ev"))["last_skill"] == "loans"


@pytest.mark.gen_test(timeout=30)
async def test_deduplication_survives_a_restart(post, kefu, kefu_config) -> None:
    xml = text_xml("o-restart", "31337", "重启前")
    assert await post(xml) == (200, "success")
    await kefu.desk.drain()
    # A second process on the same store (the first one stopped) sees the message as a duplicate.
    await kefu.desk.stop()
    await kefu.store.close()
    second = await build_services(kefu_config)
    try:
        answer = await second.desk.ingest(parse_inbound(xml))
        assert answer == "success"
        await second.desk.drain()
        assert await customer_texts(second.store, "o-restart") == ["重启前"]
    finally:
        await second.desk.stop()
        await second.store.close()
    # Let the fixture's teardown close a store that is open again.
    kefu.store = await _reopen(kefu_config)


async def _reopen(config):
    from store import open_store

    store = open_store(config.store)
    await store.open()
    return store


@pytest.mark.gen_test
async def test_encrypted_passive_reply_round_trip(kefu) -> None:
    # Safe mode replies are encrypted with the account's key and signed.
    cipher = MessageCipher(kefu.webhook.token, AES_KEY, kefu.webhook.appid)
    envelope = cipher.encrypt_message("<xml><Content><![CDATA[x]]></Content></xml>", "nonce", 1700000000)
    _, fields = parse_xml(envelope)
    assert cipher.decrypt_message(envelope, fields["MsgSignature"], fields["TimeStamp"], fields["Nonce"]) \
        == "<xml><Content><![CDATA[x]]></Content></xml>"
