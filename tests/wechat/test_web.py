"""The /simulator page, its JSON API and its live WebSocket, mounted next to a webhook."""

from __future__ import annotations

import json

import pytest
import tornado.web
import tornado.websocket
from tornado.httpclient import AsyncHTTPClient, HTTPClientError

from tests.wechat.webhook_stub import Webhook
from wechat.client import WeChatClient
from wechat.sim.api import platform_routes
from wechat.sim.customers import WebhookSender
from wechat.sim.web import simulator_routes


@pytest.fixture
def state(wechat_platform):
    return {"cipher": wechat_platform.cipher}


@pytest.fixture
def sender(wechat_platform, http_port):
    return WebhookSender(wechat_platform, f"http://127.0.0.1:{http_port}/wechat", safe_mode=True)


@pytest.fixture
def app(state, wechat_platform, sender):
    routes = [("/wechat", Webhook, {"state": state})]
    routes += platform_routes(wechat_platform)
    routes += simulator_routes(
        wechat_platform, sender, menu=[("skill:general", "综合"), ("skill:x", "<b>X</b>")]
    )
    return tornado.web.Application(routes)


async def post_json(base_url, path, body):
    return await AsyncHTTPClient().fetch(
        base_url + path,
        method="POST",
        body=json.dumps(body),
        headers={"Content-Type": "application/json"},
        raise_error=False,
    )


@pytest.mark.gen_test
async def test_page_renders_escaped(http_server, base_url):
    resp = await AsyncHTTPClient().fetch(base_url + "/simulator")
    page = resp.body.decode()
    assert "微信客户模拟器" in page and "/simulator/static/simulator.js" in page
    assert "<b>X</b>" not in page  # config JSON is escaped for HTML
    assert "skill:general" in page
    for asset in ("simulator.js", "simulator.css"):
        assert (await AsyncHTTPClient().fetch(f"{base_url}/simulator/static/{asset}")).code == 200


@pytest.mark.gen_test
async def test_send_replies_and_live_socket(http_server, base_url, http_port, wechat_platform):
    ws = await tornado.websocket.websocket_connect(f"ws://127.0.0.1:{http_port}/simulator/ws")
    assert json.loads(await ws.read_message())["kind"] == "hello"

    resp = await post_json(
        base_url, "/simulator/api/send", {"openid": "o_web", "type": "text", "text": "你好"}
    )
    assert resp.code == 200
    body = json.loads(resp.body)
    assert body["replies"][0]["text"] == "收到：你好]]>"
    assert json.loads(await ws.read_message())["kind"] == "customer"
    assert json.loads(await ws.read_message())["kind"] == "passive"

    # an agent's API message shows up live too
    client = WeChatClient(
        wechat_platform.appid, wechat_platform.secret, api_base=base_url, clock=wechat_platform.clock
    )
    await client.send_text("o_web", "客服来了")
    pushed = json.loads(await ws.read_message())
    assert pushed["kind"] == "api" and pushed["text"] == "客服来了"

    for payload in (
        {"type": "click", "key": "skill:loans"},
        {"type": "image"},
        {"type": "subscribe"},
        {"type": "location", "label": "上海"},
        {"type": "voice", "recognition": "查询"},
    ):
        resp = await post_json(base_url, "/simulator/api/send", {"openid": "o_web", **payload})
        assert resp.code == 200, resp.body
    image = json.loads(await ws.read_message())  # the click
    image = json.loads(await ws.read_message())
    assert image["msgtype"] == "image"
    media = await AsyncHTTPClient().fetch(f"{base_url}/simulator/media/{image['media_id']}")
    assert media.headers["Content-Type"] == "image/png" and media.body.startswith(b"\x89PNG")

    resp = await AsyncHTTPClient().fetch(base_url + "/simulator/api/replies?openid=o_web")
    data = json.loads(resp.body)
    assert [r["kind"] for r in data["replies"]] == ["passive", "api"]
    assert len(data["timeline"]) == 8
    ws.close()


@pytest.mark.gen_test
async def test_send_rejects_bad_input(http_server, base_url):
    assert (await post_json(base_url, "/simulator/api/send", {"type": "text", "text": "x"})).code == 400
    assert (await post_json(base_url, "/simulator/api/send", {"openid": "o", "type": "text"})).code == 400
    assert (await post_json(base_url, "/simulator/api/send", {"openid": "o", "type": "rocket"})).code == 400
    assert (await post_json(base_url, "/simulator/api/send", [1])).code == 400
    with pytest.raises(HTTPClientError) as info:
        await AsyncHTTPClient().fetch(base_url + "/simulator/api/send", method="POST", body="openid=o")
    assert info.value.code == 415


@pytest.mark.gen_test
async def test_webhook_failure_is_502(http_server, base_url, wechat_platform):
    wechat_platform.token = "wrong"
    resp = await post_json(base_url, "/simulator/api/send", {"openid": "o", "type": "text", "text": "x"})
    assert resp.code == 502
    assert json.loads(resp.body)["error"]["code"] == "webhook_failed"


@pytest.mark.gen_test
async def test_the_page_names_its_customers_and_serves_their_avatars(http_server, base_url, wechat_platform):
    wechat_platform.avatar_base_url = f"{base_url}/simulator/avatar/"
    resp = await post_json(base_url, "/simulator/api/send", {"openid": "o_page", "nickname": "张三", "text": "你好"})
    assert resp.code == 200
    client = WeChatClient(wechat_platform.appid, wechat_platform.secret, api_base=base_url, clock=wechat_platform.clock)
    info = await client.user_info("o_page")
    assert info["nickname"] == "张三"
    picture = await AsyncHTTPClient().fetch(info["headimgurl"])
    assert picture.headers["Content-Type"] == "image/png" and picture.body.startswith(b"\x89PNG")
    missing = await AsyncHTTPClient().fetch(f"{base_url}/simulator/avatar/o_nobody", raise_error=False)
    assert missing.code == 404
    bad = await post_json(base_url, "/simulator/api/send", {"openid": "o_page", "nickname": "x" * 100, "text": "a"})
    assert bad.code == 400 and wechat_platform.customers["o_page"].nickname == "张三"


@pytest.mark.gen_test
async def test_an_unsupported_method_is_405_on_every_simulator_route(http_server, base_url):
    # OPTIONS once reached a handler attribute named ``options`` that held its route settings:
    # a dict called as a method, so a 500.
    for path in ("/simulator", "/simulator/api/send", "/simulator/api/replies", "/simulator/media/m1",
                 "/simulator/avatar/a1"):
        resp = await AsyncHTTPClient().fetch(base_url + path, method="OPTIONS", raise_error=False)
        assert resp.code == 405, path
