"""What a customer asks of self-service: the actions, their menu keys and the words that ask.

An action is asked for either by a menu CLICK whose key is ``self:<action>`` (an admin puts it on
a menu item, `desk.menu`) or by a text message the customer types (``账单``, ``查余额``,
``我想查一下交易明细``). Text is recognised narrowly on purpose: the whole message must be the
action's words, optionally wrapped in "查/查询/查看/我想查一下/帮我查…" and "我的"; anything
longer ("余额宝是什么") is left to the bot and the agents.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

Action = Literal["bind", "unbind", "bill", "limit", "balance", "transactions", "profile"]
ACTIONS: tuple[Action, ...] = ("bind", "unbind", "bill", "limit", "balance", "transactions", "profile")
MENU_KEY_PREFIX = "self:"
# The action's name as the admin's menu editor and the docs show it.
ACTION_LABELS: dict[Action, tuple[str, str]] = {
    "bind": ("绑定账户", "Bind account"),
    "unbind": ("解除绑定", "Unbind"),
    "bill": ("信用卡账单", "Credit-card bill"),
    "limit": ("信用卡额度", "Credit limit"),
    "balance": ("账户余额", "Balance"),
    "transactions": ("交易明细", "Recent transactions"),
    "profile": ("我的信息", "My profile"),
}

_WORDS: dict[Action, tuple[str, ...]] = {
    "bind": ("绑定", "绑卡", "绑定账户", "绑定银行卡", "账户绑定", "bind"),
    "unbind": ("解绑", "解除绑定", "取消绑定", "解绑账户", "unbind"),
    "bill": ("账单", "信用卡账单", "本期账单", "本月账单", "bill"),
    "limit": ("额度", "信用卡额度", "可用额度", "信用额度", "limit"),
    "balance": ("余额", "账户余额", "卡内余额", "借记卡余额", "balance"),
    "transactions": ("交易明细", "明细", "交易记录", "最近交易", "消费记录", "流水", "transactions"),
    "profile": ("我的信息", "绑定信息", "profile"),
}
CANCEL_WORDS = frozenset({"取消", "退出", "cancel"})

_WRAP = re.compile(r"^(?:请|麻烦)?(?:帮我|我想|我要)?(?:查一下|查询一下|查询|查看|查)?(?:我的)?(?P<core>.+?)(?:查询)?$")
_PUNCT = re.compile(r"[\s\W_]+", re.UNICODE)


def normalise(text: str) -> str:
    """Full-width to half-width, lower case, no spaces or punctuation."""
    return _PUNCT.sub("", unicodedata.normalize("NFKC", text)).lower()


_BY_WORD: dict[str, Action] = {normalise(w): action for action, words in _WORDS.items() for w in words}


def action_of_text(text: str | None) -> Action | None:
    """The action a whole message asks for, or None."""
    if not text:
        return None
    plain = normalise(text)
    if not plain or len(plain) > 20:
        return None
    if plain in _BY_WORD:
        return _BY_WORD[plain]
    match = _WRAP.match(plain)
    return _BY_WORD.get(match.group("core")) if match else None


def is_cancel(text: str | None) -> bool:
    return normalise(text or "") in CANCEL_WORDS


def action_of_key(key: str | None) -> Action | None:
    """The action of a ``self:<action>`` menu key; None for any other key."""
    if not key or not key.startswith(MENU_KEY_PREFIX):
        return None
    name = key[len(MENU_KEY_PREFIX):].strip()
    return next((a for a in ACTIONS if a == name), None)


def is_self_service_key(key: str | None) -> bool:
    return bool(key) and str(key).startswith(MENU_KEY_PREFIX)
