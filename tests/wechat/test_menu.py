"""The custom menu against the simulated platform: menu/create answers WeChat's errcodes for
WeChat's limits (wechat/menu.py), menu/get answers the live menu or 46003."""

from __future__ import annotations

import pytest

from wechat.errors import WeChatAPIError

ZH5 = "一二三四五"  # 15 bytes: fits a top-level name (16)


def _click(name: str = "a", key: str = "k") -> dict:
    return {"type": "click", "name": name, "key": key}


@pytest.mark.parametrize(("menu", "errcode"), [
    ({"button": []}, 40016),
    ({"button": [_click() for _ in range(4)]}, 40016),
    ({"button": [_click(ZH5 + "六")]}, 40018),
    ({"button": [{"type": "tap", "name": "a", "key": "k"}]}, 40017),
    ({"button": [_click(key="")]}, 40019),
    ({"button": [_click(key="k" * 129)]}, 40019),
    ({"button": [{"type": "view", "name": "a", "url": "https://x.example/" + "p" * 1010}]}, 40020),
    ({"button": [{"type": "view", "name": "a", "url": "mailto:a@b.c"}]}, 40055),
    ({"button": [{"name": "m", "sub_button": [_click() for _ in range(6)]}]}, 40023),
    ({"button": [{"name": "m", "sub_button": [_click("子" * 21)]}]}, 40025),  # 63 bytes > 60
    ({"button": [{"name": "m", "sub_button": [{"type": "click", "name": "a"}]}]}, 40026),
    ({"button": [{"name": "m", "sub_button": [{"type": "view", "name": "a"}]}]}, 40027),
    ({"button": [{"name": "m", "sub_button": [{"type": "view", "name": "a", "url": "ftp://x"}]}]}, 40054),
    ({"button": [{"name": "m", "sub_button": [{"type": "nope", "name": "a"}]}]}, 40024),
])
@pytest.mark.gen_test
async def test_menu_create_refuses_what_wechat_refuses(wechat_client, wechat_platform, menu, errcode) -> None:
    with pytest.raises(WeChatAPIError) as caught:
        await wechat_client.create_menu(menu)
    assert caught.value.code == errcode
    assert "WeChat refused the menu" in caught.value.human
    assert wechat_platform.menu is None


@pytest.mark.gen_test
async def test_menu_create_then_get(wechat_client, wechat_platform) -> None:
    assert await wechat_client.get_menu() is None  # 46003: no menu yet
    menu = {"button": [_click(ZH5, "skill:cards"), {"name": "更多", "type": "click", "sub_button": [
        {"type": "view", "name": "子" * 20, "url": "https://bank.example.com/"},
        {"type": "location_select", "name": "位置", "key": "loc"}]}]}
    events: list[dict] = []
    wechat_platform.subscribe(events.append)
    assert await wechat_client.create_menu(menu) == {"errcode": 0, "errmsg": "ok"}
    live = await wechat_client.get_menu()
    assert live["button"][0] == {"type": "click", "name": ZH5, "key": "skill:cards", "sub_button": []}
    # A button with sub-buttons keeps no action of its own.
    assert live["button"][1]["name"] == "更多" and "type" not in live["button"][1]
    assert [s["name"] for s in live["button"][1]["sub_button"]] == ["子" * 20, "位置"]
    assert events[-1]["kind"] == "menu" and events[-1]["menu"] == wechat_platform.menu
    assert wechat_platform.menu_item([1, 0])["url"] == "https://bank.example.com/"
    assert wechat_platform.menu_item([1]) is None and wechat_platform.menu_item([5]) is None
