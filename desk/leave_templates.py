"""The template-message alternative of a leave-message (留言) whose WeChat window has closed.

When a customer's 48-hour window is closed the customer-service API refuses every message; a
template message (模板消息, the notification service `desk.notifications` of 信息推送) still
reaches them. The admin names the template (setting ``leave_messages.template_id``: one of the
account's templates, e.g. the demo's 留言回复通知); this module fills its fields from the
leave-message: the first free-text field gets what the customer left, the second the agent's
answer, the next one the agent's name; time and date fields get the time of sending in the
skill's zone; any other field the answer. Values are shortened to WeChat's 20 characters of a
``thing`` field (WeChat refuses longer ones).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from routing.config import DEFAULT_TZ

# The notification service's setting of the account's templates (desk/notification_rules.py), and
# the ``purpose`` of the one a leave-message is answered with when none is named.
TEMPLATES_KEY = "templates"
PURPOSE = "leave_message"
# WeChat's longest value of a free-text field (thing): 20 characters.
THING_MAX_CHARS = 20
FREE_TEXT_KINDS = frozenset({"thing", "short_thing", "name", "const", "first", "keyword", "remark"})
_KIND_RE = re.compile(r"^([a-z_]+?)\d*$")


def field_kind(key: str) -> str:
    """``thing2`` → ``thing``; a key without digits is its own kind."""
    match = _KIND_RE.match(key)
    return match.group(1) if match else key


def fit(text: str, limit: int = THING_MAX_CHARS) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def choose_template(templates: Sequence[Mapping[str, Any]], template_id: str) -> Mapping[str, Any] | None:
    """The named template among the account's; without a name the first whose ``purpose`` is a
    leave-message's; None when there is none."""
    if template_id:
        return next((t for t in templates if t.get("id") == template_id), None)
    return next((t for t in templates if t.get("purpose") == PURPOSE), None)


def template_data(template: Mapping[str, Any], left: str, answer: str, agent: str, now: float,
                  timezone: str | None = None) -> dict[str, str]:
    """The ``data`` of the template message: every field of ``template`` filled (see the module)."""
    local = dt.datetime.fromtimestamp(now, ZoneInfo(timezone or DEFAULT_TZ))
    texts = iter((left, answer, agent))
    data: dict[str, str] = {}
    for field in template.get("fields") or ():
        key = str(field["key"])
        kind = field_kind(key)
        if kind == "time":
            data[key] = local.strftime("%Y-%m-%d %H:%M")
        elif kind == "date":
            data[key] = local.strftime("%Y-%m-%d")
        elif kind in FREE_TEXT_KINDS:
            data[key] = fit(next(texts, answer) or answer)
        else:
            data[key] = fit(answer)
    return data
