"""The simulated Official Account's template library and WeChat's checks of a template message.

On WeChat an account first adds templates from the category library (每个模板: an id WeChat
assigns, a title and its fields); ``cgi-bin/message/template/send`` then takes a template id the
account has and a value for its fields. The simulator keeps such a library (``DEMO_TEMPLATES``
by default, changeable per platform: ``WeChatPlatform.templates``) and checks a send as WeChat
does, in this order: the body is an object (47001), ``touser`` is a follower of the account
(40003 for an openid it never saw, 43004 for one who unfollowed), ``template_id`` is in the
library (40037), every value fits its field's kind (47003, `wechat.templates.value_problem`),
``url`` is a web link (40039 invalid url). A template message needs no 48-hour window.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from wechat.errors import api_error
from wechat.templates import COLOR_RE, value_problem

# The longest url WeChat takes in a template message.
MAX_URL_CHARS = 1024


@dataclass(frozen=True)
class SimTemplate:
    """One template of the account's library: ``fields`` are ``(key, label)`` in display order."""

    template_id: str
    title: str
    fields: tuple[tuple[str, str], ...]

    def as_setting(self, purpose: str) -> dict[str, Any]:
        """The same template as Kefu's ``templates`` setting describes it."""
        return {"id": self.template_id, "title": self.title, "purpose": purpose,
                "fields": [{"key": key, "label": label} for key, label in self.fields]}


# The demo account's library: ids shaped like WeChat's (43 characters of base64url).
TRANSACTION_ALERT = SimTemplate(
    "kfTxnAlert-9QmZr3cV2sWb8nYpL0dUe4hJkXo1aGiT5", "交易提醒",
    (("character_string1", "卡号尾号"), ("time2", "交易时间"), ("thing3", "交易类型"),
     ("amount4", "交易金额"), ("amount5", "可用余额")))
LEAVE_MESSAGE_ANSWERED = SimTemplate(
    "kfLeaveMsgReply-Hs7Tq2Nw4Vb9Cx1Zr6Ym3Lp8Kd0Fa", "留言回复通知",
    (("thing1", "留言内容"), ("thing2", "回复内容"), ("time3", "回复时间"), ("thing4", "客服")))
BILL_DUE = SimTemplate(
    "kfBillDue-Wp4Rt8Yu2Io6Pa0Sd3Fg7Hj1Kl5Zx9Cv2B", "信用卡还款提醒",
    (("character_string1", "卡号尾号"), ("amount2", "本期应还"), ("date3", "到期还款日")))

DEMO_TEMPLATES: tuple[SimTemplate, ...] = (TRANSACTION_ALERT, LEAVE_MESSAGE_ANSWERED, BILL_DUE)
# What each demo template is for, as Kefu's setting names it (``purpose``).
DEMO_PURPOSES = {TRANSACTION_ALERT.template_id: "transaction", LEAVE_MESSAGE_ANSWERED.template_id: "leave_message",
                 BILL_DUE.template_id: "bill"}


def demo_templates_setting() -> list[dict[str, Any]]:
    """The demo's ``templates`` setting: the simulated account's library, as an admin would enter it."""
    return [t.as_setting(DEMO_PURPOSES[t.template_id]) for t in DEMO_TEMPLATES]


def check_send(body: Any, templates: dict[str, SimTemplate]) -> tuple[str, SimTemplate, dict[str, dict[str, str]],
                                                                        str | None]:
    """``(touser, template, data, url)`` of a template/send body, or WeChat's errcode raised.
    Whether ``touser`` follows the account is the platform's to check (it knows the customers)."""
    if not isinstance(body, dict):
        raise api_error(47001, "data format error")
    openid = body.get("touser")
    if not isinstance(openid, str) or not openid:
        raise api_error(40003, "invalid openid")
    template_id = body.get("template_id")
    template = templates.get(template_id) if isinstance(template_id, str) else None  # a list: unhashable
    if template is None:
        raise api_error(40037, "invalid template_id")
    raw = body.get("data")
    if not isinstance(raw, dict):
        raise api_error(47001, "data format error")
    data: dict[str, dict[str, str]] = {}
    known = {key for key, _ in template.fields}
    for key, item in raw.items():
        if key not in known:
            continue  # WeChat ignores keys its template does not have
        value = item.get("value") if isinstance(item, dict) else None
        if not isinstance(value, str) or value_problem(key, value) is not None:
            raise api_error(47003, f"argument invalid! data.{key}.value invalid")
        entry = {"value": value}
        color = item.get("color")
        if isinstance(color, str) and COLOR_RE.match(color):
            entry["color"] = color
        data[key] = entry
    url = body.get("url")
    if url is not None and url != "":
        if not isinstance(url, str) or len(url) > MAX_URL_CHARS or not url.startswith(("http://", "https://")):
            raise api_error(40039, "invalid url")
    return openid, template, data, url or None
