"""The WeChat custom menu through the real app and the simulator: save (validated, versioned,
audited), publish (menu/create), see it live, tap it as a customer; WeChat's refusals mapped."""

from __future__ import annotations

import json
from typing import Any

import pytest
from tornado.httpclient import AsyncHTTPClient

MENU = {"button": [
    {"type": "click", "name": "信用卡", "key": "skill:cards"},
    {"name": "更多服务", "sub_button": [
        {"type": "view", "name": "网上银行", "url": "https://bank.example.com/ebank"},
        {"type": "click", "name": "贷款咨询", "key": "skill:loans"},
    ]},
]}


async def _audit(api, token: str, action: str) -> list[dict[str, Any]]:
    return (await api(f"/api/audit?action={action}", token=token))[1]["entries"]


async def _tap(base_url: str, openid: str, path: list[int]) -> int:
    """The customer taps the published menu's button at ``path`` on the simulator page's API."""
    resp = await AsyncHTTPClient().fetch(
        f"{base_url}/simulator/api/send", method="POST", raise_error=False,
        body=json.dumps({"openid": openid, "type": "menu", "path": path}),
        headers={"Content-Type": "application/json"})
    return resp.code


@pytest.mark.gen_test(timeout=30)
async def test_a_published_menu_is_live_in_the_simulator_and_its_skill_click_routes(
        api, login, console, customer, platform, base_url) -> None:
    admin, _ = await login("admin")
    status, saved = await api("/api/settings/menu", "PUT", MENU, token=admin)
    assert (status, saved) == (200, MENU)
    assert platform.menu is None  # saving is not publishing

    status, record = await api("/api/menu/publish", "POST", b"", token=admin)
    assert status == 200 and record["version"] == 1 and record["menu"] == MENU
    assert platform.menu == MENU
    status, state = await api("/api/menu", token=admin)
    assert state["published"]["version"] == 1 and state["saved"]["version"] == 1
    # What WeChat's menu/get answers: every button with its sub_button list.
    assert [b["name"] for b in state["live"]["button"]] == ["信用卡", "更多服务"]
    assert state["live"]["button"][1]["sub_button"][1]["key"] == "skill:loans"
    status, shown = await api("/simulator/api/menu")
    assert shown["published"] is True and shown["button"] == MENU["button"]
    [entry] = await _audit(api, admin, "menu_published")
    assert entry["target"] == "menu" and entry["details"]["version"] == 1

    bob = await console("bob")  # general, cards
    await bob.ok("presence", status="available")
    assert await _tap(base_url, "o-menu-1", [0]) == 200  # 信用卡: CLICK skill:cards
    await customer.send_text("o-menu-1", "我的卡丢了")
    offer = await bob.event("offer", where=lambda d: d["customer"]["openid"] == "o-menu-1")
    assert offer["skill"] == "cards"
    clicks = [e for e in platform.timeline["o-menu-1"] if e.get("event") == "CLICK"]
    assert clicks and "skill:cards" in clicks[0]["text"]

    assert await _tap(base_url, "o-menu-2", [1, 0]) == 200  # 网上银行: a VIEW event with its url
    views = [e for e in platform.timeline["o-menu-2"] if e.get("event") == "VIEW"]
    assert views and "https://bank.example.com/ebank" in views[0]["text"]
    assert await _tap(base_url, "o-menu-2", [1]) == 400  # a parent only opens its sub-buttons


@pytest.mark.parametrize(("menu", "field"), [
    ({"button": [{"type": "click", "name": f"b{i}", "key": f"k{i}"} for i in range(4)]}, "button"),
    ({"button": [{"name": "多", "sub_button": [{"type": "click", "name": f"s{i}", "key": "k"} for i in range(6)]}]},
     "button[0].sub_button"),
    ({"button": [{"type": "view", "name": "a", "url": "https://a.example"},
                 {"name": "b", "sub_button": [{"type": "click", "name": "无键"}]}]}, "button[1].sub_button[0].key"),
    ({"button": [{"type": "view", "name": "链接", "url": "javascript:alert(1)"}]}, "button[0].url"),
    ({"button": [{"type": "click", "name": "一二三四五六", "key": "k"}]}, "button[0].name"),  # 18 bytes > 16
    ({"button": [{"type": "location_select", "name": "位置", "key": "k"}]}, "button[0].type"),
    ({"button": "nope"}, "button"),
    ([1, 2], "menu"),
])
@pytest.mark.gen_test(timeout=30)
async def test_a_bad_menu_is_refused_with_its_field_and_changes_nothing(api, login, platform, menu, field) -> None:
    admin, _ = await login("admin")
    assert (await api("/api/settings/menu", "PUT", MENU, token=admin))[0] == 200
    assert (await api("/api/menu/publish", "POST", b"", token=admin))[0] == 200
    before = await _audit(api, admin, "setting_changed")

    status, body = await api("/api/settings/menu", "PUT", menu, token=admin)
    assert (status, body["error"]["code"], body["error"]["field"]) == (400, "bad_field", field)
    assert body["error"]["message"].startswith(f"{field}: ")
    assert (await api("/api/settings/menu?meta=1", token=admin))[1]["version"] == 1
    assert await _audit(api, admin, "setting_changed") == before
    assert platform.menu == MENU and platform.calls["menu_create"] == 1  # nothing published


@pytest.mark.parametrize(("errcode", "words"), [
    (48001, "not authorised"),
    (40055, "domain"),
    (40018, "name"),
])
@pytest.mark.gen_test(timeout=30)
async def test_wechat_refusing_the_menu_is_a_clear_error_and_audited(api, login, platform, errcode, words) -> None:
    admin, _ = await login("admin")
    assert (await api("/api/settings/menu", "PUT", MENU, token=admin))[0] == 200
    platform.fail_calls("menu_create", errcode)

    status, body = await api("/api/menu/publish", "POST", b"", token=admin)
    assert (status, body["error"]["code"], body["error"]["errcode"]) == (502, "wechat_error", errcode)
    assert words in body["error"]["message"] and str(errcode) in body["error"]["message"]
    assert platform.menu is None
    assert (await api("/api/menu", token=admin))[1]["published"] is None
    [failed] = await _audit(api, admin, "menu_publish_failed")
    assert failed["details"]["errcode"] == errcode
    assert await _audit(api, admin, "menu_published") == []


@pytest.mark.gen_test(timeout=30)
async def test_publishing_needs_a_saved_menu_and_an_admin(api, login, platform) -> None:
    admin, _ = await login("admin")
    supervisor, _ = await login("super")
    status, body = await api("/api/menu/publish", "POST", b"", token=admin)
    assert (status, body["error"]["field"]) == (400, "button")
    status, state = await api("/api/menu", token=admin)
    assert state["live"] is None and state["live_error"] is None  # WeChat: 46003, no menu
    assert (await api("/api/settings/menu", "PUT", MENU, token=supervisor))[0] == 403
    assert (await api("/api/menu/publish", "POST", b"", token=supervisor))[0] == 403
    assert platform.calls["menu_create"] == 0
