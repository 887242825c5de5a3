"""CustomerProfiles: one background user-info fetch per customer, retried while WeChat fails for a
reason that may pass, never again after an answer that will not change; and how WeChat's answer
becomes customer fields."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from desk.profiles import CustomerProfiles, needs_profile, profile_fields
from store.base import NotFound
from wechat.errors import WeChatUnreachableError, api_error

T0 = 1_764_300_000.0


class Customers:
    """Just the customer part of a store."""

    def __init__(self, *openids: str) -> None:
        self.records: dict[str, dict[str, Any]] = {o: {"openid": o, "nickname": None, "profile": {}} for o in openids}

    async def update_customer(self, openid: str, **fields: Any) -> dict[str, Any]:
        if openid not in self.records:
            raise NotFound(openid)
        self.records[openid].update(fields)
        return dict(self.records[openid])


class WeChat:
    """Answers user_info from a script: each item an answer dict or an exception to raise."""

    def __init__(self, *script: Any) -> None:
        self.script = list(script)
        self.calls: list[str] = []
        self.gate: asyncio.Event | None = None

    async def user_info(self, openid: str) -> dict[str, Any]:
        self.calls.append(openid)
        if self.gate is not None:
            await self.gate.wait()
        item = self.script.pop(0)
        if isinstance(item, Exception):
            raise item
        return item


def answer(openid: str, nickname: str = "王小明") -> dict[str, Any]:
    return {"subscribe": 1, "openid": openid, "nickname": nickname, "headimgurl": "http://thirdwx.qlogo.cn/mmopen/x/132",
            "remark": "", "subscribe_time": 1_700_000_000, "tagid_list": []}


def make(store: Customers, wechat: WeChat, delays: tuple[float, ...] = (0, 0)):
    arrived: list[dict[str, Any]] = []
    done = asyncio.Event()

    async def on_profile(customer: dict[str, Any]) -> None:
        arrived.append(customer)
        done.set()

    profiles = CustomerProfiles(store, wechat, on_profile, clock=lambda: T0, retry_delays_secs=delays)
    return profiles, arrived, done


async def settled(profiles: CustomerProfiles) -> None:
    """Until no fetch is running or waiting (each step of a fetch is a loop turn here)."""
    while profiles.fetching:
        await asyncio.wait(list(profiles._fetching.values()))


@pytest.mark.gen_test
async def test_a_fetch_stores_the_profile_and_tells_the_desk():
    store, wechat = Customers("o1"), WeChat(answer("o1"))
    profiles, arrived, done = make(store, wechat)
    profiles.notice(store.records["o1"])
    await done.wait()
    rec = store.records["o1"]
    assert (rec["nickname"], rec["avatar_url"]) == ("王小明", "https://thirdwx.qlogo.cn/mmopen/x/132")
    assert rec["profile"] == {"fetched_at": T0, "subscribed": True}
    assert arrived == [rec] and not needs_profile(rec)
    profiles.notice(rec)  # known now: no second call
    await settled(profiles)
    assert wechat.calls == ["o1"]


@pytest.mark.gen_test
async def test_one_fetch_at_a_time_per_customer():
    store, wechat = Customers("o1"), WeChat(answer("o1"))
    wechat.gate = asyncio.Event()
    profiles, arrived, done = make(store, wechat)
    for _ in range(5):  # five messages while WeChat has not answered yet
        profiles.notice(store.records["o1"])
    await asyncio.sleep(0)  # let the one fetch reach WeChat
    wechat.gate.set()
    await done.wait()
    assert wechat.calls == ["o1"] and len(arrived) == 1


@pytest.mark.gen_test
async def test_failures_that_may_pass_are_tried_again():
    store = Customers("o1")
    wechat = WeChat(api_error(-1, "system error"), WeChatUnreachableError("timeout"), answer("o1"))
    profiles, arrived, done = make(store, wechat, delays=(0, 0))
    profiles.notice(store.records["o1"])
    await done.wait()
    assert len(wechat.calls) == 3 and store.records["o1"]["nickname"] == "王小明"


@pytest.mark.gen_test
async def test_after_the_last_retry_it_rests_until_the_customer_writes_again():
    store = Customers("o1")
    wechat = WeChat(*[api_error(45009, "api freq out of limit")] * 3, answer("o1"))
    profiles, arrived, done = make(store, wechat, delays=(0, 0))
    profiles.notice(store.records["o1"])
    await settled(profiles)
    assert len(wechat.calls) == 3 and not arrived and needs_profile(store.records["o1"])
    profiles.notice(store.records["o1"])  # the customer's next message
    await done.wait()
    assert len(wechat.calls) == 4 and store.records["o1"]["nickname"] == "王小明"


@pytest.mark.gen_test
async def test_an_invalid_openid_is_stored_as_the_outcome_and_never_asked_again():
    store = Customers("o1")
    wechat = WeChat(api_error(40003, "invalid openid"))
    profiles, arrived, done = make(store, wechat, delays=(0, 0))
    profiles.notice(store.records["o1"])
    await settled(profiles)
    rec = store.records["o1"]
    assert rec["profile"] == {"fetched_at": T0, "error": 40003} and rec["nickname"] is None
    assert not needs_profile(rec) and not arrived
    profiles.notice(rec)
    await settled(profiles)
    assert wechat.calls == ["o1"]


@pytest.mark.gen_test
async def test_a_customer_not_stored_yet_is_tried_again():
    store = Customers()
    wechat = WeChat(answer("o1"), answer("o1"))
    profiles, arrived, done = make(store, wechat, delays=(0,))
    profiles.notice({"openid": "o1"})
    await asyncio.sleep(0)
    store.records["o1"] = {"openid": "o1", "profile": {}}  # the first message's write lands
    await done.wait()
    assert len(wechat.calls) == 2 and store.records["o1"]["nickname"] == "王小明"


@pytest.mark.gen_test
async def test_stop_cancels_fetches_waiting_for_a_retry():
    store = Customers("o1")
    wechat = WeChat(api_error(-1, "busy"), answer("o1"))
    profiles, arrived, done = make(store, wechat, delays=(3600,))
    profiles.notice(store.records["o1"])
    while not wechat.calls:
        await asyncio.sleep(0)
    profiles.stop()
    await settled(profiles)
    assert profiles.fetching == 0 and not arrived
    profiles.notice(store.records["o1"])  # stopped: nothing new starts
    assert profiles.fetching == 0


def test_profile_fields_from_wechat_answers():
    full = profile_fields(answer("o1", nickname="  Lucy  "), T0)
    assert full == {"nickname": "Lucy", "avatar_url": "https://thirdwx.qlogo.cn/mmopen/x/132",
                    "profile": {"fetched_at": T0, "subscribed": True}}
    # Since 2021 WeChat sends most accounts no nickname or avatar: the account's remark is next best.
    assert profile_fields({"subscribe": 1, "openid": "o1", "nickname": "", "headimgurl": "", "remark": "VIP 张总"},
                          T0)["nickname"] == "VIP 张总"
    unfollowed = profile_fields({"subscribe": 0, "openid": "o1", "tagid_list": []}, T0)
    assert unfollowed == {"nickname": None, "avatar_url": None, "profile": {"fetched_at": T0, "subscribed": False}}
    for junk in ("javascript:alert(1)", "data:image/png;base64,AA", "//evil", "x" * 2000, 42):
        assert profile_fields({"subscribe": 1, "nickname": "a", "headimgurl": junk}, T0)["avatar_url"] is None
    assert profile_fields({"nickname": "名" * 100}, T0)["nickname"] == "名" * 64
    # Other hosts keep their scheme (the simulator serves http on localhost).
    assert profile_fields({"headimgurl": "http://127.0.0.1:8000/simulator/avatar/o1"}, T0)["avatar_url"] == \
        "http://127.0.0.1:8000/simulator/avatar/o1"
