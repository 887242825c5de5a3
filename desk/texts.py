"""What the desk tells customers by itself, wrap-up codes and keyword rules: three settings an admin edits.

* ``messages`` (PROTOCOL v2, "Texts"): one text template per moment of a session (:data:`MESSAGE_KEYS`),
  with the placeholders :data:`PLACEHOLDERS`. An empty text sends nothing. The defaults are the
  texts the desk sent before they were editable; moments the desk was silent at (welcome, queued,
  assigned, closed, the survey) default to empty, so an upgrade changes nothing a customer sees
  until an admin writes a text (the admin page suggests one for each, :data:`SUGGESTED_MESSAGES`).
* ``wrapup``: the wrap-up codes (服务小结) an agent closes a session with, ``{"codes": [{"code", "label"}]}``;
  ``close`` refuses a code that is not listed.
* ``keyword_rules``: ``[{"keyword", "skill"}]``, read by the inbound pipeline's skill stage (first
  match wins); each skill must exist.

:class:`SystemTexts` renders and sends a message at its moment, always through
`desk.replies.Replies.system_reply` (or ``system_notice`` when there is no session), so WeChat's
reply budget decides whether it goes out; nothing here ever waits in the webhook's path.
"""

from __future__ import annotations

import math
import re
import string
from collections.abc import Awaitable, Callable
from typing import Any

from desk.errors import ValidationError
from desk.handover import CUSTOMER_NOTICE
from desk.settings import Settings, SettingSpec
from store.records import SessionRecord

MESSAGE_KEYS = ("welcome", "queued", "assigned", "transferred", "closed", "idle_closed", "out_of_hours",
                "no_agent", "survey", "survey_thanks",
                # The bot's (desk/bot.py, 客服机器人): what it says when it did not understand, hands
                # over, cannot reach a human (bot_only), is unsure ("did you mean") and answers a
                # customer waiting in the queue (appended to the answer).
                "bot_miss", "bot_handover", "bot_no_human", "bot_choices", "bot_in_queue")
PLACEHOLDERS = ("position", "wait_min", "agent", "skill")
# Placeholders only some messages have: the numbered questions of "did you mean".
KEY_PLACEHOLDERS: dict[str, tuple[str, ...]] = {"bot_choices": ("choices",)}
# WeChat's longest customer-service text.
MESSAGE_MAX_CHARS = 2000

DEFAULT_MESSAGES: dict[str, str] = {
    "welcome": "",
    "queued": "",
    "assigned": "",
    "transferred": CUSTOMER_NOTICE,
    "closed": "",
    "idle_closed": "您好，由于长时间未收到您的回复，本次会话已结束。如需帮助，请随时再发消息给我们。",
    "out_of_hours": "您好，现在不是人工服务时间。请留言，我们会在工作时间尽快回复您。",
    "no_agent": "您好，目前暂无客服在线。请留言，我们会尽快回复您。",
    "survey": "",
    "survey_thanks": "",
    "bot_miss": "抱歉，我没有理解您的问题。请换个说法，或回复“转人工”联系人工客服。",
    "bot_handover": "好的，正在为您转接人工客服，请稍候。",
    "bot_no_human": "抱歉，此服务暂无人工客服，请换个说法提问，我会尽力为您解答。",
    "bot_choices": "您是想问以下哪个问题？请回复序号：\n{choices}",
    "bot_in_queue": "（您仍在排队等候人工客服，目前排在第 {position} 位，请稍候。）",
}
# What the admin page offers for a moment that is empty (nothing is sent until an admin saves one).
SUGGESTED_MESSAGES: dict[str, str] = {
    "welcome": "您好，欢迎关注！请直接发送您的问题，我们的客服将为您服务。",
    "queued": "您好，您前面还有 {position} 位客户，预计等待约 {wait_min} 分钟，请稍候。",
    "assigned": "客服 {agent} 为您服务。",
    "closed": "本次服务已结束，感谢您的咨询。",
    "survey": "请为本次服务打分：回复 1-5（5 为非常满意）。",
    "survey_thanks": "感谢您的评价！",
}

# In ``--demo`` the satisfaction survey is on: these are the demo's starting texts (production
# starts with the survey off, an empty text).
DEMO_MESSAGES: dict[str, str] = {"survey": SUGGESTED_MESSAGES["survey"],
                                 "survey_thanks": SUGGESTED_MESSAGES["survey_thanks"]}

# A diversion's reason (the routing engine's) -> the message the customer gets.
DIVERT_MESSAGES = {"outside_hours": "out_of_hours", "no_agents": "no_agent", "max_wait": "no_agent"}

WRAPUP_CODE = re.compile(r"^[a-z0-9_]{1,32}$")
WRAPUP_MAX_CODES = 50
LABEL_MAX_CHARS = 40
LABEL_LANGS = ("zh-CN", "en")
DEFAULT_WRAPUP = (
    ("resolved", "已解决", "Resolved"),
    ("follow_up", "需跟进", "Follow-up needed"),
    ("transferred", "已转接", "Transferred"),
    ("no_response", "客户无回应", "No response"),
    ("complaint", "投诉", "Complaint"),
    ("other", "其他", "Other"),
)

KEYWORD_MAX_CHARS = 50
KEYWORD_MAX_RULES = 200

# When the engine has answered nobody in its window yet, each customer ahead counts this long.
DEFAULT_WAIT_PER_POSITION_SECS = 60.0


def default_wrapup() -> dict[str, Any]:
    return {"codes": [{"code": code, "label": {"zh-CN": zh, "en": en}} for code, zh, en in DEFAULT_WRAPUP]}


# -- validation -------------------------------------------------------------------------------------
def _placeholders(field: str, text: str) -> None:
    allowed_names = (*PLACEHOLDERS, *KEY_PLACEHOLDERS.get(field, ()))
    try:
        parts = list(string.Formatter().parse(text))
    except ValueError as exc:  # an unmatched brace
        raise ValidationError(field, f"is not a valid template ({exc}); write {{{{ and }}}} for a brace") from None
    for _literal, name, spec, conversion in parts:
        if name is None:
            continue
        if name not in allowed_names:
            allowed = ", ".join("{" + p + "}" for p in allowed_names)
            raise ValidationError(field, f"unknown placeholder {{{name}}}; use {allowed}")
        if spec or conversion:
            raise ValidationError(field, f"placeholder {{{name}}} takes no format")


def validate_messages(value: Any, current: Any) -> dict[str, str]:
    """Any of :data:`MESSAGE_KEYS`; keys left out keep their text."""
    if not isinstance(value, dict):
        raise ValidationError("messages", "must be an object of texts by moment")
    merged = {**DEFAULT_MESSAGES, **(current or {})}
    for key, text in value.items():
        if key not in MESSAGE_KEYS:
            raise ValidationError(str(key)[:40], f"is not a message; the messages are {', '.join(MESSAGE_KEYS)}")
        if not isinstance(text, str):
            raise ValidationError(key, "must be a text (an empty one sends nothing)")
        text = text.strip()
        if len(text) > MESSAGE_MAX_CHARS:
            raise ValidationError(key, f"is longer than WeChat's {MESSAGE_MAX_CHARS} characters")
        _placeholders(key, text)
        merged[key] = text
    return merged


def _label(field: str, label: Any) -> Any:
    if isinstance(label, str):
        label = label.strip()
        if not label or len(label) > LABEL_MAX_CHARS:
            raise ValidationError(field, f"must be 1-{LABEL_MAX_CHARS} characters")
        return label
    if isinstance(label, dict):
        out = {}
        for lang, text in label.items():
            if lang not in LABEL_LANGS:
                raise ValidationError(f"{field}.{str(lang)[:10]}", f"is not a language; use {' or '.join(LABEL_LANGS)}")
            if not isinstance(text, str) or not text.strip() or len(text.strip()) > LABEL_MAX_CHARS:
                raise ValidationError(f"{field}.{lang}", f"must be 1-{LABEL_MAX_CHARS} characters")
            out[lang] = text.strip()
        if not out:
            raise ValidationError(field, "needs a zh-CN or en label")
        return out
    raise ValidationError(field, 'must be a text or {"zh-CN": …, "en": …}')


def validate_wrapup(value: Any, current: Any) -> dict[str, Any]:
    if not isinstance(value, dict) or set(value) - {"codes"}:
        raise ValidationError("codes", 'the body is {"codes": [{"code", "label"}…]}')
    codes = value.get("codes")
    if not isinstance(codes, list) or not codes:
        raise ValidationError("codes", "must list at least one wrap-up code")
    if len(codes) > WRAPUP_MAX_CODES:
        raise ValidationError("codes", f"at most {WRAPUP_MAX_CODES} codes")
    kept, seen = [], set()
    for i, item in enumerate(codes):
        if not isinstance(item, dict) or set(item) - {"code", "label"}:
            raise ValidationError(f"codes[{i}]", 'must be {"code", "label"}')
        code = item.get("code")
        if not isinstance(code, str) or not WRAPUP_CODE.match(code):
            raise ValidationError(f"codes[{i}].code", "must be 1-32 lower-case letters, digits or _")
        if code in seen:
            raise ValidationError(f"codes[{i}].code", f"{code!r} is listed twice")
        seen.add(code)
        kept.append({"code": code, "label": _label(f"codes[{i}].label", item.get("label"))})
    return {"codes": kept}


def keyword_rules_validator(skill_names: Callable[[], Awaitable[list[str]]]) -> Callable[[Any, Any], Awaitable[Any]]:
    """``keyword_rules``' validator: a keyword and a skill that exists, per rule."""
    async def validate(value: Any, current: Any) -> list[dict[str, str]]:
        if not isinstance(value, list):
            raise ValidationError("keyword_rules", 'must be a list of {"keyword", "skill"}')
        if len(value) > KEYWORD_MAX_RULES:
            raise ValidationError("keyword_rules", f"at most {KEYWORD_MAX_RULES} rules")
        skills = set(await skill_names())
        kept = []
        for i, rule in enumerate(value):
            if not isinstance(rule, dict) or set(rule) - {"keyword", "skill"}:
                raise ValidationError(f"keyword_rules[{i}]", 'must be {"keyword", "skill"}')
            keyword, skill = rule.get("keyword"), rule.get("skill")
            if not isinstance(keyword, str) or not keyword.strip():
                raise ValidationError(f"keyword_rules[{i}].keyword", "must not be empty")
            if len(keyword.strip()) > KEYWORD_MAX_CHARS:
                raise ValidationError(f"keyword_rules[{i}].keyword", f"is longer than {KEYWORD_MAX_CHARS} characters")
            if not isinstance(skill, str) or skill not in skills:
                raise ValidationError(f"keyword_rules[{i}].skill", f"{str(skill)[:40]!r} is not a skill")
            kept.append({"keyword": keyword.strip(), "skill": skill})
        return kept
    return validate


# -- rendering -------------------------------------------------------------------------------------
def render(template: str, **values: Any) -> str:
    """The template with its placeholders filled (a value not given reads as nothing)."""
    names = {*PLACEHOLDERS, *(n for extra in KEY_PLACEHOLDERS.values() for n in extra)}
    filled = {name: "" if values.get(name) is None else values[name] for name in names}
    return template.format(**filled).strip()


def estimate_wait_min(position: int, average_wait_s: float | None) -> int:
    """A rough wait for the customer at ``position``: the average wait of the customers the skill
    answered recently (the engine's metrics window) for each customer up to and including this one,
    in whole minutes, at least 1. An honest "about", never a promise."""
    per_position = average_wait_s if average_wait_s else DEFAULT_WAIT_PER_POSITION_SECS
    return max(1, math.ceil(position * per_position / 60.0))


SystemReply = Callable[[SessionRecord, str], Awaitable[None]]
SystemNotice = Callable[[str, str], Awaitable[None]]


class SystemTexts:
    """The ``messages``, ``wrapup`` and ``keyword_rules`` settings, declared and kept current, and the
    one way the desk tells a customer something by itself (:meth:`tell`)."""

    def __init__(self, settings: Settings, system_reply: SystemReply, system_notice: SystemNotice,
                 skill_names: Callable[[], Awaitable[list[str]]],
                 skill_labels: Callable[[], Awaitable[dict[str, str]]], demo: bool = False) -> None:
        self.settings = settings
        self.system_reply = system_reply
        self.system_notice = system_notice
        self.skill_labels = skill_labels
        defaults = {**DEFAULT_MESSAGES, **(DEMO_MESSAGES if demo else {})}
        self.defaults = defaults
        self.messages: dict[str, str] = dict(defaults)
        self.wrapup: dict[str, Any] = default_wrapup()
        self.keyword_rules: list[dict[str, str]] = []
        settings.define(SettingSpec("messages", default=lambda: dict(defaults), validate=validate_messages))
        settings.define(SettingSpec("wrapup", default=default_wrapup, validate=validate_wrapup))
        settings.define(SettingSpec("keyword_rules", default=list, validate=keyword_rules_validator(skill_names),
                                    legacy_key="keyword_rules"))
        settings.on_change("messages", self._messages_changed)
        settings.on_change("wrapup", self._wrapup_changed)
        settings.on_change("keyword_rules", self._rules_changed)

    async def _messages_changed(self, new: Any, old: Any) -> None:
        self.messages = {**self.defaults, **(new or {})}

    async def _wrapup_changed(self, new: Any, old: Any) -> None:
        self.wrapup = new or default_wrapup()

    async def _rules_changed(self, new: Any, old: Any) -> None:
        self.keyword_rules = list(new or [])

    # -- wrap-up codes -----------------------------------------------------------------------------
    def wrapup_codes(self) -> list[dict[str, Any]]:
        return [dict(c) for c in self.wrapup["codes"]]

    def check_wrapup(self, code: str) -> None:
        """``close``'s wrap-up code must be one the admin lists."""
        codes = [c["code"] for c in self.wrapup["codes"]]
        if code not in codes:
            raise ValidationError("wrapup", f"{code[:40]!r} is not a wrap-up code; use one of {', '.join(codes)}")

    # -- keyword rules ---------------------------------------------------------------------------
    def skill_by_keyword(self, text: str) -> str | None:
        text = text.casefold()
        for rule in self.keyword_rules:
            if rule["keyword"].casefold() in text:
                return rule["skill"]
        return None

    # -- messages ----------------------------------------------------------------------------------
    async def text(self, key: str, session: SessionRecord | None = None, **values: Any) -> str:
        """The message ``key`` rendered (empty: send nothing). ``{skill}`` reads as the skill's label."""
        template = self.messages.get(key) or ""
        if not template:
            return ""
        if session is not None and "skill" not in values and "{skill" in template:
            skill = session.get("skill")
            values["skill"] = (await self.skill_labels()).get(skill or "", skill)
        return render(template, **values)

    async def tell(self, session: SessionRecord, key: str, **values: Any) -> None:
        """Send the message ``key`` to the session's customer when it is not empty and WeChat allows it."""
        text = await self.text(key, session, **values)
        if text:
            await self.system_reply(session, text)

    async def welcome(self, openid: str, session: SessionRecord | None) -> None:
        """A customer followed the account: the welcome, in their open session if they have one."""
        if session is not None:
            await self.tell(session, "welcome")
            return
        text = await self.text("welcome")
        if text:
            await self.system_notice(openid, text)
