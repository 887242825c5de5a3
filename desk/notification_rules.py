"""The rules of notifications (信息推送), apart from sending: the admin's settings, the checks of a
request and the rate limiter.

* Setting ``templates`` (admin): the template messages the Official Account has, as an admin
  copies them from the WeChat platform (模板消息 → 我的模板): ``[{"id", "title", "purpose",
  "fields": [{"key", "label"}]}]``. Only these ids can be sent, and a request's ``data`` must
  give every field of its template, each value fitting its kind (`wechat.templates`).
* Setting ``notification_limits`` (admin): two token buckets, one per caller (a bank system, an
  agent) and one per customer — ``caller_per_minute`` / ``caller_burst`` and
  ``customer_per_hour`` / ``customer_burst``. A bank's batch job is slowed down, a customer is
  never flooded, and a refusal says when to try again (HTTP 429, ``Retry-After``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from desk.errors import RateLimited, ValidationError
from wechat.templates import COLOR_RE, value_problem

TEMPLATES_KEY = "templates"
LIMITS_KEY = "notification_limits"
MAX_TEMPLATES = 50
MAX_FIELDS = 20
MAX_TEMPLATE_ID_CHARS = 64
MAX_TITLE_CHARS = 40
MAX_LABEL_CHARS = 20
MAX_URL_CHARS = 1024  # WeChat's own limit for a template message's link
TEMPLATE_ID_RE = re.compile(r"^[A-Za-z0-9_\-]+$")
FIELD_KEY_RE = re.compile(r"^[a-z][a-z_]*\d*$")
KIND_RE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
OPENID_RE = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")

DEFAULT_LIMITS = {"caller_per_minute": 120, "caller_burst": 120, "customer_per_hour": 20, "customer_burst": 5}
MAX_LIMIT = 100_000
# Buckets kept before full (idle) ones are forgotten: memory stays bounded however many customers.
MAX_BUCKETS = 50_000


# -- settings ----------------------------------------------------------------------------------------

def check_templates(value: Any, current: Any = None) -> list[dict[str, Any]]:
    """The templates to keep, or ``ValidationError`` naming the field (``templates[1].fields[0].key``)."""
    if not isinstance(value, list):
        raise ValidationError(TEMPLATES_KEY, 'must be a list of {"id", "title", "purpose", "fields"}')
    if len(value) > MAX_TEMPLATES:
        raise ValidationError(TEMPLATES_KEY, f"at most {MAX_TEMPLATES} templates")
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for i, item in enumerate(value):
        where = f"{TEMPLATES_KEY}[{i}]"
        if not isinstance(item, dict):
            raise ValidationError(where, 'each template is {"id", "title", "purpose", "fields"}')
        for key in item:
            if key not in ("id", "title", "purpose", "fields"):
                raise ValidationError(f"{where}.{key}", "unknown field")
        tid = item.get("id")
        if not isinstance(tid, str) or not TEMPLATE_ID_RE.match(tid.strip()) or len(tid.strip()) > MAX_TEMPLATE_ID_CHARS:
            raise ValidationError(f"{where}.id", f"must be WeChat's template id (1-{MAX_TEMPLATE_ID_CHARS} "
                                  "letters, digits, - or _)")
        tid = tid.strip()
        if tid in seen:
            raise ValidationError(f"{where}.id", f"{tid!r} is listed twice")
        seen.add(tid)
        title = item.get("title")
        if not isinstance(title, str) or not title.strip() or len(title.strip()) > MAX_TITLE_CHARS:
            raise ValidationError(f"{where}.title", f"must be 1-{MAX_TITLE_CHARS} characters")
        purpose = item.get("purpose", "notification")
        if not isinstance(purpose, str) or not KIND_RE.match(purpose):
            raise ValidationError(f"{where}.purpose", "must be a short lower-case name such as transaction "
                                  "or leave_message")
        out.append({"id": tid, "title": title.strip(), "purpose": purpose,
                    "fields": _check_fields(item.get("fields"), f"{where}.fields")})
    return out


def _check_fields(fields: Any, where: str) -> list[dict[str, str]]:
    if not isinstance(fields, list) or not fields:
        raise ValidationError(where, 'must be a non-empty list of {"key", "label"}')
    if len(fields) > MAX_FIELDS:
        raise ValidationError(where, f"at most {MAX_FIELDS} fields")
    out: list[dict[str, str]] = []
    keys: set[str] = set()
    for j, field in enumerate(fields):
        at = f"{where}[{j}]"
        if not isinstance(field, dict):
            raise ValidationError(at, 'each field is {"key", "label"}')
        for name in field:
            if name not in ("key", "label"):
                raise ValidationError(f"{at}.{name}", "unknown field")
        key = field.get("key")
        if not isinstance(key, str) or not FIELD_KEY_RE.match(key) or len(key) > 40:
            raise ValidationError(f"{at}.key", "must be the template's field name, such as thing3 or time2")
        if key in keys:
            raise ValidationError(f"{at}.key", f"{key!r} is listed twice")
        keys.add(key)
        label = field.get("label")
        if not isinstance(label, str) or not label.strip() or len(label.strip()) > MAX_LABEL_CHARS:
            raise ValidationError(f"{at}.label", f"must be 1-{MAX_LABEL_CHARS} characters")
        out.append({"key": key, "label": label.strip()})
    return out


def check_limits(value: Any, current: Any = None) -> dict[str, int]:
    """The limits to keep: a partial object changes only the keys it names."""
    if not isinstance(value, dict):
        raise ValidationError(LIMITS_KEY, "must be an object of " + ", ".join(DEFAULT_LIMITS))
    out = {**DEFAULT_LIMITS, **(current if isinstance(current, dict) else {})}
    for key, number in value.items():
        if key not in DEFAULT_LIMITS:
            raise ValidationError(f"{LIMITS_KEY}.{key}", "unknown field")
        if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= MAX_LIMIT:
            raise ValidationError(f"{LIMITS_KEY}.{key}", f"must be a whole number from 1 to {MAX_LIMIT}")
        out[key] = number
    return out


# -- one request ---------------------------------------------------------------------------------

def check_openid(openid: Any) -> str:
    if not isinstance(openid, str) or not OPENID_RE.match(openid):
        raise ValidationError("openid", "must be the customer's WeChat openid (1-64 letters, digits, - or _)")
    return openid


def find_template(templates: list[dict[str, Any]], template_id: Any) -> dict[str, Any]:
    if not isinstance(template_id, str) or not template_id:
        raise ValidationError("template_id", "is required")
    for template in templates:
        if template["id"] == template_id:
            return template
    raise ValidationError("template_id", "is not one of the configured templates (admin page, 模板消息)")


def check_data(template: dict[str, Any], data: Any) -> dict[str, dict[str, str]]:
    """``data`` as WeChat takes it (``{key: {"value", "color"?}}``): every field of the template,
    each a text or ``{"value", "color"}``, fitting the field's kind; nothing else."""
    if not isinstance(data, dict):
        raise ValidationError("data", 'must be an object {field: "value"} or {field: {"value", "color"}}')
    keys = [f["key"] for f in template["fields"]]
    for key in data:
        if key not in keys:
            raise ValidationError(f"data.{key}", f"is not a field of the template {template['title']!r} "
                                  f"({', '.join(keys)})")
    out: dict[str, dict[str, str]] = {}
    for key in keys:
        if key not in data:
            raise ValidationError(f"data.{key}", f"is required by the template {template['title']!r}")
        item = data[key]
        entry: dict[str, str] = {}
        if isinstance(item, dict):
            for name in item:
                if name not in ("value", "color"):
                    raise ValidationError(f"data.{key}.{name}", "unknown field (value, color)")
            value, color = item.get("value"), item.get("color")
            if color is not None:
                if not isinstance(color, str) or not COLOR_RE.match(color):
                    raise ValidationError(f"data.{key}.color", "must be a colour such as #173177")
                entry["color"] = color
        else:
            value = item
        if not isinstance(value, str):
            raise ValidationError(f"data.{key}", "must be a text")
        problem = value_problem(key, value)
        if problem is not None:
            raise ValidationError(f"data.{key}", problem)
        out[key] = {"value": value, **entry}
    return out


def check_url(url: Any) -> str | None:
    if url is None or url == "":
        return None
    if not isinstance(url, str) or len(url) > MAX_URL_CHARS:
        raise ValidationError("url", f"must be a link of at most {MAX_URL_CHARS} characters")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValidationError("url", "must be an http:// or https:// link")
    return url


def check_kind(kind: Any, template: dict[str, Any]) -> str:
    if kind is None:
        return str(template.get("purpose") or "notification")
    if not isinstance(kind, str) or not KIND_RE.match(kind):
        raise ValidationError("kind", "must be a short lower-case name such as transaction (1-32 of a-z, 0-9, _)")
    return kind


def summary(template: dict[str, Any], data: Mapping[str, Mapping[str, str]]) -> str:
    """The template message as one text for transcripts and search: 【交易提醒】交易金额：128.00元；…"""
    lines = [f"{f['label']}：{data[f['key']]['value']}" for f in template["fields"] if f["key"] in data]
    return f"【{template['title']}】" + "；".join(lines)


# -- rate limits --------------------------------------------------------------------------------

class SendLimited(RateLimited):
    """Too many notifications from this caller or to this customer (HTTP 429 with Retry-After)."""

    def __init__(self, message: str, retry_after: float) -> None:
        self.retry_after = max(1.0, float(retry_after))
        super().__init__(f"{message}; try again in {math.ceil(self.retry_after)} s")


class TokenBuckets:
    """One token bucket per key: ``burst`` tokens, refilled at ``rate_per_sec``. Memory only (the
    desk owner is the one process that sends); a restart starts every bucket full."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, at)

    def wait_secs(self, key: str, rate_per_sec: float, burst: int) -> float:
        """Seconds until ``key`` may send one more (0: now), without taking a token."""
        tokens = self._level(key, rate_per_sec, burst)
        return 0.0 if tokens >= 1 else (1 - tokens) / rate_per_sec

    def take(self, key: str, rate_per_sec: float, burst: int) -> None:
        now = self.clock()
        self._buckets[key] = (self._level(key, rate_per_sec, burst) - 1, now)
        if len(self._buckets) > MAX_BUCKETS:
            self._forget_full(rate_per_sec, burst)

    def _level(self, key: str, rate_per_sec: float, burst: int) -> float:
        held = self._buckets.get(key)
        if held is None:
            return float(burst)
        tokens, at = held
        return min(float(burst), tokens + max(0.0, self.clock() - at) * rate_per_sec)

    def _forget_full(self, rate_per_sec: float, burst: int) -> None:
        for key in [k for k in self._buckets if self._level(k, rate_per_sec, burst) >= burst]:
            del self._buckets[key]


class SendLimits:
    """The two buckets of the ``notification_limits`` setting: check both, then take from both."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.callers = TokenBuckets(clock)
        self.customers = TokenBuckets(clock)

    def take(self, limits: Mapping[str, int], caller_id: str, openid: str) -> None:
        caller = (limits["caller_per_minute"] / 60.0, limits["caller_burst"])
        customer = (limits["customer_per_hour"] / 3600.0, limits["customer_burst"])
        wait = self.callers.wait_secs(caller_id, *caller)
        if wait > 0:
            raise SendLimited(f"too many notifications from you (at most {limits['caller_burst']} at once, "
                              f"{limits['caller_per_minute']} a minute)", wait)
        wait = self.customers.wait_secs(openid, *customer)
        if wait > 0:
            raise SendLimited(f"too many notifications to this customer (at most {limits['customer_burst']} at once, "
                              f"{limits['customer_per_hour']} an hour)", wait)
        self.callers.take(caller_id, *caller)
        self.customers.take(openid, *customer)
