"""Customers get their WeChat nickname and avatar: fetched through the user-info API of the
simulator in the background when they first write, stored on the customer, carried by every
event that shows a customer, and pushed to open consoles when the name comes after the offer."""

from __future__ import annotations

import pytest
import tornado.httpclient


@pytest.mark.gen_test(timeout=30)
async def test_a_name_that_comes_after_the_offer_reaches_the_open_consoles(console, customer, platform, api,
                                                                           login) -> None:
    platform.customer("o-late-name", nickname="陈小红")
    release = platform.hold("user_info")  # WeChat is slow to say who the customer is
    supervisor = await console("super")
    await supervisor.ok("subscribe_queues")
    alice = await console("alice")
    await alice.ok("presence", status="available")

    # Neither the webhook's answer nor the routing waits for the user-info call.
    assert await customer.send_text("o-late-name", "你好") == "success"
    offer = await alice.event("offer")
    assert offer["customer"] == {"openid": "o-late-name", "nickname": None, "avatar_url": None, "tags": []}

    release()
    update = await alice.event("customer_updated")
    assert update["session_id"] == offer["session_id"]
    assert update["customer"]["openid"] == "o-late-name" and update["customer"]["nickname"] == "陈小红"
    avatar_url = update["customer"]["avatar_url"]
    assert avatar_url and avatar_url.endswith("/simulator/avatar/o-late-name")
    wall_update = await supervisor.event("customer_updated")
    assert wall_update["customer"]["nickname"] == "陈小红"

    # From now on every view of the customer has the name: the session, the wall, the record.
    accepted = await alice.ok("accept", session_id=offer["session_id"])
    assert accepted["session"]["customer"]["nickname"] == "陈小红"
    assert accepted["session"]["customer"]["avatar_url"] == avatar_url
    wall = await supervisor.ok("subscribe_queues")
    row = next(s for s in wall["sessions"] if s["id"] == offer["session_id"])
    assert (row["customer"]["nickname"], row["customer"]["avatar_url"]) == ("陈小红", avatar_url)
    token, _ = await login("super")
    status, record = await api("/api/customers/o-late-name", token=token)
    assert status == 200 and (record["nickname"], record["avatar_url"]) == ("陈小红", avatar_url)
    assert record["profile"]["subscribed"] is True

    # The avatar is a picture the console can show.
    picture = await tornado.httpclient.AsyncHTTPClient().fetch(avatar_url)
    assert picture.headers["Content-Type"] == "image/png" and picture.body.startswith(b"\x89PNG")

    # Known now: the customer's next messages ask WeChat nothing more.
    await customer.send_text("o-late-name", "还在吗")
    await alice.event("message", where=lambda d: d["message"]["text"] == "还在吗")
    assert platform.calls["user_info"] == 1


@pytest.mark.gen_test(timeout=30)
async def test_a_failed_fetch_is_tried_again_later(kefu, console, customer, platform) -> None:
    kefu.desk.profiles.retry_delays_secs = (0.05,)
    platform.customer("o-retry", nickname="李雷")
    platform.fail_calls("user_info", 45009)  # api freq out of limit: passes
    supervisor = await console("super")
    await supervisor.ok("subscribe_queues")
    await customer.send_text("o-retry", "你好")
    update = await supervisor.event("customer_updated", where=lambda d: d["customer"]["openid"] == "o-retry")
    assert update["customer"]["nickname"] == "李雷"
    assert platform.calls["user_info"] == 2


@pytest.mark.gen_test(timeout=30)
async def test_a_name_known_before_the_offer_comes_with_it(console, customer, platform) -> None:
    platform.customer("o-early", nickname="韩梅梅")
    supervisor = await console("super")
    await supervisor.ok("subscribe_queues")
    alice = await console("alice")
    await alice.ok("presence", status="away")
    # Nobody can take the session yet: the name arrives while the customer waits.
    await customer.send_text("o-early", "你好")
    update = await supervisor.event("customer_updated", where=lambda d: d["customer"]["openid"] == "o-early")
    assert update["session_id"]
    await alice.ok("presence", status="available")
    offer = await alice.event("offer")
    assert offer["customer"]["nickname"] == "韩梅梅" and offer["customer"]["avatar_url"]
    # A console that connects later sees it in its welcome too.
    again = await console("alice")
    assert [o["customer"]["nickname"] for o in again.welcome["offers"]] == ["韩梅梅"]
