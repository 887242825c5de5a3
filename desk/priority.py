"""Priority rules: customer tags (VIP, complaint, ...) raise a session's priority when it is queued.

The setting ``priority_rules`` is ``[{"tag": "vip", "priority": 10}, ...]`` (admin), by default
the one rule earlier releases hard-coded (VIP customers 10 ahead). A session takes the highest
priority among the rules whose tag the customer has (tags compare case-insensitively), 0 when
none matches; the routing engine serves higher priorities first, then by arrival.
"""

from __future__ import annotations

from typing import Any

from desk.errors import ValidationError
from desk.settings import Settings, SettingSpec
from store.records import CustomerRecord

KEY = "priority_rules"
DEFAULT_RULES = ({"tag": "vip", "priority": 10},)
# Below the engine's boost for a session whose agent was lost (1000): that one stays in front.
MAX_PRIORITY = 100
MAX_RULES = 50
MAX_TAG_CHARS = 32


def check_rules(value: Any, current: Any = None) -> list[dict[str, Any]]:
    """The rules to keep, or ``ValidationError`` naming the field (``priority_rules[1].tag``)."""
    if not isinstance(value, list):
        raise ValidationError(KEY, 'must be a list of {"tag", "priority"}')
    if len(value) > MAX_RULES:
        raise ValidationError(KEY, f"at most {MAX_RULES} rules")
    rules: list[dict[str, Any]] = []
    seen: set[str] = set()
    for i, rule in enumerate(value):
        where = f"{KEY}[{i}]"
        if not isinstance(rule, dict):
            raise ValidationError(where, 'each rule is {"tag", "priority"}')
        for key in rule:
            if key not in ("tag", "priority"):
                raise ValidationError(f"{where}.{key}", "unknown field")
        tag = rule.get("tag")
        if not isinstance(tag, str) or not tag.strip() or len(tag.strip()) > MAX_TAG_CHARS:
            raise ValidationError(f"{where}.tag", f"must be a tag of 1 to {MAX_TAG_CHARS} characters")
        tag = tag.strip()
        if tag.casefold() in seen:
            raise ValidationError(f"{where}.tag", f"{tag!r} has a rule already")
        seen.add(tag.casefold())
        priority = rule.get("priority")
        if isinstance(priority, bool) or not isinstance(priority, int) or not 0 <= priority <= MAX_PRIORITY:
            raise ValidationError(f"{where}.priority", f"must be a whole number from 0 to {MAX_PRIORITY}")
        rules.append({"tag": tag, "priority": priority})
    return rules


def priority_of(rules: list[dict[str, Any]], tags: Any) -> int:
    """The highest priority a rule gives one of ``tags`` (0 when none matches)."""
    have = {str(t).casefold() for t in tags or ()}
    return max((int(r["priority"]) for r in rules if str(r["tag"]).casefold() in have), default=0)


class PriorityRules:
    """Declares the setting and answers a customer's priority from its current value."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        settings.define(SettingSpec(KEY, default=lambda: [dict(r) for r in DEFAULT_RULES], validate=check_rules))

    async def priority(self, customer: CustomerRecord) -> int:
        return priority_of(await self.settings.get(KEY), customer.get("tags"))
