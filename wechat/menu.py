"""The Official Account's custom menu (自定义菜单): WeChat's rules for ``cgi-bin/menu/create``.

One checker, used by both sides so they cannot disagree: Kefu validates the admin's menu with it
before saving (`desk.menu`, naming the field), and the simulator answers ``menu/create`` with it
(WeChat's errcode). The limits are WeChat's documented ones (创建自定义菜单, createCustomMenu):

* 1–3 top-level buttons, each with 1–5 ``sub_button`` or an action of its own (``type``);
* ``name``: at most 16 bytes (UTF-8) for a top-level button, 60 for a sub-button (WeChat shows
  about four Chinese characters of a top-level name and eight of a sub-button's);
* ``key`` (``click`` and the other push-event types): at most 128 bytes;
* ``url`` (``view``, ``miniprogram``): at most 1024 bytes, an http(s) link.

Errcodes, as WeChat answers them: 40016 invalid button size, 40017 invalid button type, 40018
invalid button name size, 40019 invalid button key size, 40020 invalid button url size, 40023
invalid sub button size, 40024 invalid sub button type, 40025 invalid sub button name size,
40026 invalid sub button key size, 40027 invalid sub button url size, 40054/40055 invalid (sub)
button url domain, 47001 data format error.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any
from urllib.parse import urlsplit

MAX_BUTTONS = 3
MAX_SUB_BUTTONS = 5
MAX_NAME_BYTES = 16
MAX_SUB_NAME_BYTES = 60
MAX_KEY_BYTES = 128
MAX_URL_BYTES = 1024

# Types whose click pushes an event with the button's key to the webhook.
KEY_TYPES = frozenset({"click", "scancode_push", "scancode_waitmsg", "pic_sysphoto", "pic_photo_or_album",
                       "pic_weixin", "location_select"})
URL_TYPES = frozenset({"view", "miniprogram"})
MEDIA_TYPES = frozenset({"media_id", "view_limited"})
ARTICLE_TYPES = frozenset({"article_id", "article_view_limited"})
# Every type WeChat's menu accepts.
WECHAT_TYPES = KEY_TYPES | URL_TYPES | MEDIA_TYPES | ARTICLE_TYPES
# What Kefu's editor offers: a click (a ``skill:<name>`` key routes to that skill) or a link.
KEFU_TYPES = frozenset({"click", "view"})

# errcode per problem, for a top-level button and for a sub-button.
_CODES = {
    "count": (40016, 40023),
    "type": (40017, 40024),
    "name": (40018, 40025),
    "key": (40019, 40026),
    "url": (40020, 40027),
    "domain": (40055, 40054),
}
ERRMSG = {
    40016: "invalid button size", 40017: "invalid button type", 40018: "invalid button name size",
    40019: "invalid button key size", 40020: "invalid button url size", 40023: "invalid sub button size",
    40024: "invalid sub button type", 40025: "invalid sub button name size",
    40026: "invalid sub button key size", 40027: "invalid sub button url size",
    40054: "invalid sub button url domain", 40055: "invalid button url domain", 47001: "data format error",
}


# The fields the other types need besides name (and url for miniprogram).
_EXTRA_FIELDS: dict[str, tuple[str, ...]] = {
    "miniprogram": ("appid", "pagepath"), "media_id": ("media_id",), "view_limited": ("media_id",),
    "article_id": ("article_id",), "article_view_limited": ("article_id",),
}


class MenuProblem(ValueError):
    """What is wrong with a menu: WeChat's ``errcode``, the ``field`` (``button[1].sub_button[0].key``)
    and a sentence for a person."""

    def __init__(self, errcode: int, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.errcode = errcode
        self.field = field
        self.message = message

    @property
    def errmsg(self) -> str:
        return ERRMSG.get(self.errcode, "invalid menu")


def _bytes(value: str) -> int:
    return len(value.encode("utf-8"))


def is_web_url(value: str) -> bool:
    """An absolute http(s) URL with a host, as WeChat's menu accepts."""
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname) and not any(c.isspace() for c in value)


def check_menu(body: Any, types: Collection[str] = WECHAT_TYPES, allow_empty: bool = False) -> dict[str, Any]:
    """``body`` checked against WeChat's rules; returns the menu as WeChat stores it (only the
    fields that belong to each button's type; a button with sub-buttons carries no action of its
    own). ``types``: the button types accepted; ``allow_empty``: a menu of no buttons (Kefu keeps
    one as "no menu yet"; WeChat refuses it). Raises `MenuProblem`."""
    if not isinstance(body, dict):
        raise MenuProblem(47001, "menu", "must be an object with a button list")
    buttons = body.get("button")
    if not isinstance(buttons, list):
        raise MenuProblem(40016, "button", "must be a list of buttons")
    if len(buttons) > MAX_BUTTONS or (not buttons and not allow_empty):
        raise MenuProblem(40016, "button", f"a menu has 1 to {MAX_BUTTONS} buttons, not {len(buttons)}")
    kept = []
    for i, button in enumerate(buttons):
        field = f"button[{i}]"
        if not isinstance(button, dict):
            raise MenuProblem(47001, field, "must be an object")
        subs = button.get("sub_button")
        if subs is not None and not isinstance(subs, list):
            raise MenuProblem(40023, f"{field}.sub_button", "must be a list of buttons")
        name = _name(button, field, MAX_NAME_BYTES, sub=False)
        if subs:
            if len(subs) > MAX_SUB_BUTTONS:
                raise MenuProblem(40023, f"{field}.sub_button",
                                  f"a button has at most {MAX_SUB_BUTTONS} sub-buttons, not {len(subs)}")
            kept_subs = []
            for j, sub in enumerate(subs):
                sub_field = f"{field}.sub_button[{j}]"
                if not isinstance(sub, dict):
                    raise MenuProblem(47001, sub_field, "must be an object")
                kept_subs.append(_action(sub, sub_field, _name(sub, sub_field, MAX_SUB_NAME_BYTES, sub=True),
                                         types, sub=True))
            kept.append({"name": name, "sub_button": kept_subs})
        else:
            kept.append(_action(button, field, name, types, sub=False))
    return {"button": kept}


def _name(button: dict[str, Any], field: str, limit: int, sub: bool) -> str:
    name = button.get("name")
    if not isinstance(name, str) or not name.strip():
        raise MenuProblem(_CODES["name"][sub], f"{field}.name", "a button needs a name")
    if _bytes(name) > limit:
        raise MenuProblem(_CODES["name"][sub], f"{field}.name",
                          f"at most {limit} bytes (UTF-8; a Chinese character is 3), not {_bytes(name)}")
    return name


def _action(button: dict[str, Any], field: str, name: str, types: Collection[str], sub: bool) -> dict[str, Any]:
    kind = button.get("type")
    if kind not in types:
        allowed = ", ".join(sorted(types))
        raise MenuProblem(_CODES["type"][sub], f"{field}.type", f"must be one of {allowed}")
    kept: dict[str, Any] = {"type": kind, "name": name}
    if kind in KEY_TYPES:
        key = button.get("key")
        if not isinstance(key, str) or not key.strip():
            raise MenuProblem(_CODES["key"][sub], f"{field}.key", f"a {kind} button needs a key")
        if _bytes(key) > MAX_KEY_BYTES:
            raise MenuProblem(_CODES["key"][sub], f"{field}.key", f"at most {MAX_KEY_BYTES} bytes")
        kept["key"] = key
    if kind in URL_TYPES:
        url = button.get("url")
        if not isinstance(url, str) or not url.strip():
            raise MenuProblem(_CODES["url"][sub], f"{field}.url", f"a {kind} button needs a url")
        if _bytes(url) > MAX_URL_BYTES:
            raise MenuProblem(_CODES["url"][sub], f"{field}.url", f"at most {MAX_URL_BYTES} bytes")
        if not is_web_url(url):
            raise MenuProblem(_CODES["domain"][sub], f"{field}.url", "must be an http:// or https:// link")
        kept["url"] = url
    for extra in _EXTRA_FIELDS.get(str(kind), ()):
        value = button.get(extra)
        if not isinstance(value, str) or not value:
            raise MenuProblem(47001, f"{field}.{extra}", f"a {kind} button needs {extra}")
        kept[extra] = value
    return kept

