"""The async API client against the simulated WeChat platform on a real port."""

from __future__ import annotations

import asyncio
import json

import pytest
from tornado.httpclient import AsyncHTTPClient

from tests.wechat.conftest import APPID
from wechat.client import WeChatClient
from wechat.errors import (
    InvalidTokenError,
    ReplyQuotaError,
    WeChatAPIError,
    WeChatBusyError,
    WeChatUnreachableError,
    WindowClosedError,
)


@pytest.mark.gen_test
async def test_token_single_flight(wechat_client, wechat_platform):
    wechat_platform.customer_wrote("o1")
    results = await asyncio.gather(*(wechat_client.access_token() for _ in range(10)))
    assert len(set(results)) == 1
    assert wechat_platform.calls["stable_token"] == 1
    await asyncio.gather(*(wechat_client.send_text("o1", f"m{i}") for i in range(3)))
    assert wechat_platform.calls["stable_token"] == 1
    assert wechat_client.token_fetches == 1


@pytest.mark.gen_test
async def test_ten_concurrent_sends_one_token_request(wechat_client, wechat_platform):
    for i in range(10):
        wechat_platform.customer_wrote(f"o{i}")
    await asyncio.gather(*(wechat_client.send_text(f"o{i}", "你好") for i in range(10)))
    assert wechat_platform.calls["stable_token"] == 1
    assert wechat_platform.calls["custom_send"] == 10


@pytest.mark.gen_test
async def test_classic_token_endpoint(wechat_sim, wechat_platform, wechat_clock):
    client = WeChatClient(
        APPID, "sim-secret", api_base=wechat_sim.api_base, use_stable_token=False, clock=wechat_clock
    )
    wechat_platform.customer_wrote("o1")
    await client.send_text("o1", "hi")
    assert wechat_platform.calls["token"] == 1 and wechat_platform.calls["stable_token"] == 0


@pytest.mark.gen_test
async def test_token_cached_until_five_minutes_before_expiry(wechat_client, wechat_platform, wechat_clock):
    first = await wechat_client.access_token()
    wechat_clock.advance(7200 - 301)
    assert await wechat_client.access_token() == first
    wechat_clock.advance(2)
    await wechat_client.access_token()
    assert wechat_platform.calls["stable_token"] == 2


@pytest.mark.gen_test
async def test_refresh_on_40001_and_retry(wechat_client, wechat_platform):
    wechat_platform.customer_wrote("o1")
    await wechat_client.send_text("o1", "one")
    wechat_platform.expire_tokens()
    await wechat_client.send_text("o1", "two")
    assert wechat_platform.calls["stable_token"] == 2
    assert [r["text"] for r in wechat_platform.replies["o1"]] == ["one", "two"]


@pytest.mark.gen_test
async def test_40001_twice_gives_up(wechat_client, wechat_platform, monkeypatch):
    wechat_platform.customer_wrote("o1")
    real = wechat_platform.issue_stable_token

    def issue_then_expire(*args, **kwargs):
        data = real(*args, **kwargs)
        wechat_platform.expire_tokens()
        return data

    monkeypatch.setattr(wechat_platform, "issue_stable_token", issue_then_expire)
    with pytest.raises(InvalidTokenError) as info:
        await wechat_client.send_text("o1", "x")
    assert info.value.code == 40001


@pytest.mark.gen_test
async def test_wrong_secret(wechat_sim):
    client = WeChatClient(APPID, "wrong", api_base=wechat_sim.api_base)
    with pytest.raises(WeChatAPIError) as info:
        await client.send_text("o1", "x")
    assert info.value.code == 40125
    assert "AppSecret" in info.value.human


@pytest.mark.gen_test
async def test_window_closed_maps_to_human_error(wechat_client, wechat_platform, wechat_clock):
    with pytest.raises(WindowClosedError) as info:
        await wechat_client.send_text("never_wrote", "x")
    assert info.value.code == 45015
    assert "48-hour" in info.value.human
    wechat_platform.customer_wrote("o1")
    wechat_clock.advance(48 * 3600)
    with pytest.raises(WindowClosedError):
        await wechat_client.send_text("o1", "late")


@pytest.mark.gen_test
async def test_quota_45047(wechat_client, wechat_platform):
    wechat_platform.customer_wrote("o1")
    for i in range(5):
        await wechat_client.send_text("o1", str(i))
    with pytest.raises(ReplyQuotaError) as info:
        await wechat_client.send_text("o1", "sixth")
    assert info.value.code == 45047 and info.value.human
    wechat_platform.customer_wrote("o1", "again")
    await wechat_client.send_text("o1", "after reset")


@pytest.mark.gen_test
async def test_busy_retried_then_success(wechat_client, wechat_platform):
    wechat_platform.customer_wrote("o1")
    await wechat_client.access_token()
    wechat_platform.make_busy(2)
    await wechat_client.send_text("o1", "through")
    assert wechat_platform.calls["custom_send"] == 3
    assert wechat_platform.replies["o1"][-1]["text"] == "through"


@pytest.mark.gen_test
async def test_busy_three_times_gives_up(wechat_client, wechat_platform):
    wechat_platform.customer_wrote("o1")
    await wechat_client.access_token()
    wechat_platform.make_busy(3)
    with pytest.raises(WeChatBusyError):
        await wechat_client.send_text("o1", "x")
    assert wechat_platform.calls["custom_send"] == 3


@pytest.mark.gen_test
async def test_message_types_and_typing(wechat_client, wechat_platform):
    wechat_platform.customer_wrote("o1")
    wechat_platform.customer_wrote("o2")
    media_id = await wechat_client.upload_media("image", "a.png", b"\x89PNG fake")
    assert await wechat_client.download_media(media_id) == b"\x89PNG fake"
    await wechat_client.send_image("o1", media_id)
    await wechat_client.send_voice("o1", media_id)
    await wechat_client.send_video("o1", media_id, media_id, "标题", "描述")
    await wechat_client.send_news(
        "o1", [{"title": "T", "description": "D", "url": "http://u", "picurl": "http://p"}]
    )
    await wechat_client.send_msgmenu(
        "o2", "请选择", [("101", "满意"), {"id": "102", "content": "不满意"}], "谢谢"
    )
    await wechat_client.typing("o2", True)
    await wechat_client.typing("o2", False)
    kinds = [r["msgtype"] for r in wechat_platform.replies["o1"]]
    assert kinds == ["image", "voice", "video", "news"]
    menu = wechat_platform.replies["o2"][0]["payload"]
    assert menu["list"][1] == {"id": "102", "content": "不满意"} and menu["head_content"] == "请选择"
    with pytest.raises(WeChatAPIError) as info:
        await wechat_client.download_media("nope")
    assert info.value.code == 40007


@pytest.mark.gen_test
async def test_chinese_sent_as_utf8_not_escapes(wechat_sim, wechat_platform, wechat_clock):
    seen = []
    http = AsyncHTTPClient(force_instance=True)
    real_fetch = http.fetch

    async def spy(request, **kwargs):
        seen.append(request.body)
        return await real_fetch(request, **kwargs)

    client = WeChatClient(
        APPID, "sim-secret", api_base=wechat_sim.api_base, http_client=http, clock=wechat_clock
    )
    http.fetch = spy
    wechat_platform.customer_wrote("o1")
    await client.send_text("o1", "您好")
    assert "您好".encode() in seen[-1]
    assert json.loads(seen[-1])["text"]["content"] == "您好"


@pytest.mark.gen_test
async def test_unreachable():
    client = WeChatClient(APPID, "s", api_base="http://127.0.0.1:9", request_timeout_secs=2)
    with pytest.raises(WeChatUnreachableError) as info:
        await client.send_text("o1", "x")
    assert info.value.human


# -- user info (cgi-bin/user/info) -----------------------------------------------------------------

@pytest.mark.gen_test
async def test_user_info_answers_like_wechat(wechat_client, wechat_platform):
    wechat_platform.avatar_base_url = "http://sim.example/avatar/"
    wechat_platform.customer("o-named", nickname="陈小红")
    wechat_platform.customer_wrote("o-named")
    info = await wechat_client.user_info("o-named")
    assert (info["subscribe"], info["openid"], info["nickname"]) == (1, "o-named", "陈小红")
    assert info["headimgurl"] == "http://sim.example/avatar/o-named"
    # WeChat's other fields are there, with WeChat's types.
    assert isinstance(info["subscribe_time"], int) and info["tagid_list"] == [] and info["remark"] == ""
    assert wechat_platform.calls["user_info"] == 1


@pytest.mark.gen_test
async def test_user_info_of_a_customer_nobody_named_still_has_a_nickname(wechat_client, wechat_platform):
    wechat_platform.customer_wrote("o-anon")
    info = await wechat_client.user_info("o-anon")
    assert info["nickname"]
    assert wechat_platform.avatar_png("o-anon").startswith(b"\x89PNG")


@pytest.mark.gen_test
async def test_user_info_unknown_openid_is_40003(wechat_client, wechat_platform):
    with pytest.raises(WeChatAPIError) as caught:
        await wechat_client.user_info("o-never-wrote")
    assert caught.value.code == 40003
    assert "openid" in caught.value.human
    assert wechat_platform.avatar_png("o-never-wrote") is None


@pytest.mark.gen_test
async def test_user_info_after_unfollow_has_no_profile(wechat_client, wechat_platform):
    wechat_platform.customer_wrote("o-gone")
    wechat_platform.customers["o-gone"].subscribed = False
    assert await wechat_client.user_info("o-gone") == {"subscribe": 0, "openid": "o-gone", "tagid_list": []}


@pytest.mark.gen_test
async def test_user_info_refreshes_an_expired_token(wechat_client, wechat_platform):
    wechat_platform.customer_wrote("o1")
    await wechat_client.user_info("o1")
    wechat_platform.expire_tokens()  # 40001 on the next call: refreshed once and retried
    assert (await wechat_client.user_info("o1"))["openid"] == "o1"
    assert wechat_platform.calls["stable_token"] == 2 and wechat_platform.calls["user_info"] == 3


@pytest.mark.gen_test
async def test_user_info_injected_errors(wechat_client, wechat_platform):
    wechat_platform.customer_wrote("o1")
    wechat_platform.fail_calls("user_info", 45009)
    with pytest.raises(WeChatAPIError) as caught:
        await wechat_client.user_info("o1")
    assert caught.value.code == 45009
    assert (await wechat_client.user_info("o1"))["subscribe"] == 1
