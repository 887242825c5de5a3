"""WeChat's rules for the values of a template message's fields, shared by Kefu and the simulator.

A category template (类目模板, every template WeChat has approved since 2023) names each field by
its kind and a number: ``thing3``, ``time2``, ``amount4``, ``character_string1``. WeChat checks
every value against its kind and refuses the whole message with 47003 ("argument invalid!
data.thing3.value invalid") when one does not fit: ``thing`` at most 20 characters,
``character_string`` at most 32 letters, digits or symbols (no Chinese), ``phrase`` at most 5
Chinese characters, ``amount`` a sum of money, ``time`` / ``date`` a date or a time. Fields of the
historical templates (``first``, ``keyword1``, ``remark``) are only folded when long, never
refused. The desk checks a notification with the same function before it calls WeChat (so the
caller learns which field is wrong, in words), and the simulator answers 47003 with it, like
`wechat.budget.ReplyBudget` is shared so that the two cannot disagree.
"""

from __future__ import annotations

import re

# A field key: its kind (letters and underscores) and an optional number.
_KEY_RE = re.compile(r"^([a-z_]+?)(\d*)$")
# Longest value WeChat shows of a historical template's field (it folds the rest).
HISTORICAL_MAX_CHARS = 200
_HAN = r"\u3400-\u9fff"
_TIME_RE = re.compile(r"^[0-9 :\-/.年月日时分秒~至]+$")
_AMOUNT_RE = re.compile(r"^[¥￥$]?-?\d{1,12}(\.\d{1,2})?(元|CNY|RMB)?$")
_NUMBER_RE = re.compile(r"^-?\d+(\.\d+)?$")
_LETTER_RE = re.compile(r"^[A-Za-z]+$")
_CHAR_STRING_RE = re.compile(r"^[\x21-\x7e]+$")  # printable ASCII, no space, no Chinese
_PHONE_RE = re.compile(r"^[0-9+\-() ]+$")
_PHRASE_RE = re.compile(rf"^[{_HAN}]+$")
COLOR_RE = re.compile(r"^#[0-9A-Fa-f]{6}$")

# kind -> (most characters, what the value must look like or None, the rule in words)
_RULES: dict[str, tuple[int, re.Pattern[str] | None, str]] = {
    "thing": (20, None, "at most 20 characters"),
    "short_thing": (5, None, "at most 5 characters"),
    "number": (32, _NUMBER_RE, "a number of at most 32 digits"),
    "letter": (32, _LETTER_RE, "at most 32 letters"),
    "symbol": (5, re.compile(r"^[^\w\s]+$"), "at most 5 symbols"),
    "character_string": (32, _CHAR_STRING_RE, "at most 32 letters, digits or symbols (no Chinese, no spaces)"),
    "time": (32, _TIME_RE, "a date or time such as 2026-12-01 15:01"),
    "date": (32, _TIME_RE, "a date such as 2026-12-01"),
    "amount": (16, _AMOUNT_RE, "a sum of money such as 128.50元"),
    "phone_number": (17, _PHONE_RE, "a phone number of at most 17 digits"),
    "car_number": (8, None, "a licence plate of at most 8 characters"),
    "name": (20, None, "a name of at most 20 characters"),
    "phrase": (5, _PHRASE_RE, "at most 5 Chinese characters"),
    "const": (20, None, "at most 20 characters"),
}


def field_kind(key: str) -> str:
    """The kind of a field key (``thing3`` → ``thing``); historical keys answer themselves."""
    match = _KEY_RE.match(key)
    return match.group(1) if match else key


def value_problem(key: str, value: str) -> str | None:
    """Why WeChat would refuse ``value`` for the field ``key`` (a sentence), or None."""
    if not isinstance(value, str):
        return "must be a string"
    if not value.strip():
        return "must not be empty"
    rule = _RULES.get(field_kind(key))
    if rule is None:  # a historical template's field: folded when long, never refused
        if len(value) > HISTORICAL_MAX_CHARS:
            return f"at most {HISTORICAL_MAX_CHARS} characters"
        return None
    max_chars, pattern, words = rule
    if len(value) > max_chars or (pattern is not None and not pattern.match(value)):
        return f"must be {words}"
    return None


def fit(key: str, text: str) -> str:
    """``text`` shortened to what the field ``key`` takes, ending with … when cut: for a free
    text field (``thing``, ``short_thing``, ``name``, ``const``, a historical template's), never a
    sum or a date, which are refused rather than cut."""
    kind = field_kind(key)
    limit = _RULES[kind][0] if kind in _RULES else HISTORICAL_MAX_CHARS
    text = " ".join(text.split())
    if kind in _RULES and _RULES[kind][1] is not None:
        return text  # a shaped value (sum, date, code): cutting it would change its meaning
    return text if len(text) <= limit else text[: limit - 1] + "…"
