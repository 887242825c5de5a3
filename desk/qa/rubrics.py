"""QA rubrics (评分表): criteria with a weight and a maximum score each, and a pass mark.

The rules a rubric keeps (400 ``bad_field`` naming the field otherwise, nothing written):

* ``name``: 1–80 characters, unique (case and surrounding spaces aside; 409 ``exists``);
* ``criteria``: 1–20 criteria ``{key, label, weight, max}``; ``key`` a short identifier
  (``[a-z][a-z0-9_]*``, up to 32 characters), unique within the rubric; ``label`` 1–80
  characters; ``weight`` a number above 0; ``max`` a number above 0 and at most 1000 (the best
  score of the criterion). The weights **add up to 100** (a percentage per criterion: what a
  reviewer reads; the contract's total divides by their sum either way);
* ``pass_mark``: 0–100 (default 60): a review passes when its total reaches it;
* ``active``: a retired rubric (``false``) takes no new reviews; its reviews stay.

Versions: a rubric may be changed at any time. A change of its criteria or pass mark makes a
new ``version``; every review keeps a copy of the criteria and pass mark it was scored with and
its own total, so **no edit changes a past total or verdict**. Only an admin writes rubrics
(the contract's default role); QA and supervisors read them. Every change is audited
(``qa.rubric_create``, ``qa.rubric_update``, with before and after).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from desk.errors import Exists, Forbidden, NotFoundError, ValidationError
from desk.roles import roles_of
from store.base import DuplicateError, Store
from store.qa_records import QARubricRecord
from store.records import PublicUser

NAME_MAX_CHARS = 80
LABEL_MAX_CHARS = 80
CRITERIA_MAX = 20
KEY_MAX_CHARS = 32
CRITERION_MAX_SCORE = 1000
# The weights are percentages; a float sum of e.g. 33.3 + 33.3 + 33.4 is not exactly 100.
WEIGHT_SUM = 100.0
WEIGHT_SUM_TOLERANCE = 1e-6
DEFAULT_PASS_MARK = 60.0
RUBRIC_FIELDS = ("name", "criteria", "pass_mark", "active")
CRITERION_FIELDS = ("key", "label", "weight", "max")
WRITE_ROLES = frozenset({"admin"})
READ_ROLES = frozenset({"admin", "qa", "supervisor"})
_KEY = re.compile(r"[a-z][a-z0-9_]*")


def is_number(value: Any) -> bool:
    """A JSON number (not a boolean, not NaN or infinite)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _text(value: Any, field: str, max_chars: int) -> str:
    if not isinstance(value, str):
        raise ValidationError(field, "must be text")
    value = value.strip()
    if not value:
        raise ValidationError(field, "must not be empty")
    if len(value) > max_chars:
        raise ValidationError(field, f"is longer than {max_chars} characters")
    return value


def _criteria(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not value:
        raise ValidationError("criteria", "must be a non-empty list")
    if len(value) > CRITERIA_MAX:
        raise ValidationError("criteria", f"has more than {CRITERIA_MAX} criteria")
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for n, c in enumerate(value):
        at = f"criteria[{n}]"
        if not isinstance(c, dict):
            raise ValidationError(at, "must be an object {key, label, weight, max}")
        for name in c:
            if name not in CRITERION_FIELDS:
                raise ValidationError(f"{at}.{name}", "is not a field of a criterion")
        key = c.get("key")
        if not isinstance(key, str) or not _KEY.fullmatch(key) or len(key) > KEY_MAX_CHARS:
            raise ValidationError(f"{at}.key", f"must be a short identifier (a-z, 0-9, _; up to {KEY_MAX_CHARS})")
        if key in seen:
            raise ValidationError(f"{at}.key", f"{key!r} is used twice")
        seen.add(key)
        label = _text(c.get("label", key), f"{at}.label", LABEL_MAX_CHARS)
        weight: Any = c.get("weight")
        if not is_number(weight) or weight <= 0:
            raise ValidationError(f"{at}.weight", "must be a number above 0")
        best: Any = c.get("max")
        if not is_number(best) or not 0 < best <= CRITERION_MAX_SCORE:
            raise ValidationError(f"{at}.max", f"must be a number above 0 and at most {CRITERION_MAX_SCORE}")
        out.append({"key": key, "label": label, "weight": weight, "max": best})
    total = sum(c["weight"] for c in out)
    if abs(total - WEIGHT_SUM) > WEIGHT_SUM_TOLERANCE:
        raise ValidationError("criteria", f"the weights must add up to {WEIGHT_SUM:g} (they add up to {total:g})")
    return out


def validate_rubric(body: dict[str, Any], partial: bool) -> dict[str, Any]:
    """The fields of ``body`` checked and normalised; `ValidationError` naming the first wrong one."""
    for name in body:
        if name not in RUBRIC_FIELDS:
            raise ValidationError(name, "is not a field of a rubric")
    out: dict[str, Any] = {}
    if not partial or "name" in body:
        out["name"] = _text(body.get("name"), "name", NAME_MAX_CHARS)
    if not partial or "criteria" in body:
        out["criteria"] = _criteria(body.get("criteria"))
    if "pass_mark" in body or not partial:
        mark: Any = body.get("pass_mark", DEFAULT_PASS_MARK)
        if not is_number(mark) or not 0 <= mark <= 100:
            raise ValidationError("pass_mark", "must be a number from 0 to 100")
        out["pass_mark"] = float(mark)
    if "active" in body:
        if not isinstance(body["active"], bool):
            raise ValidationError("active", "must be true or false")
        out["active"] = body["active"]
    return out


def score_total(criteria: list[dict[str, Any]], scores: dict[str, float]) -> float:
    """The contract's total, 0–100: Σ weight·value/max ÷ Σ weight × 100."""
    weights = sum(float(c["weight"]) for c in criteria)
    got = sum(float(c["weight"]) * float(scores[c["key"]]) / float(c["max"]) for c in criteria)
    return got / weights * 100.0


class Rubrics:
    def __init__(self, store: Store, clock: Callable[[], float]) -> None:
        self.store = store
        self.clock = clock

    @staticmethod
    def _check(user: PublicUser, roles: frozenset[str], what: str) -> None:
        if not roles_of(user) & roles:
            raise Forbidden(f"{what} needs the role {' or '.join(sorted(roles))}")

    async def list_all(self, user: PublicUser) -> dict[str, Any]:
        self._check(user, READ_ROLES, "reading rubrics")
        return {"rubrics": await self.store.list_qa_rubrics()}

    async def get(self, user: PublicUser | None, rubric_id: str) -> QARubricRecord:
        if user is not None:
            self._check(user, READ_ROLES, "reading rubrics")
        rec = await self.store.get_qa_rubric(rubric_id) if isinstance(rubric_id, str) and rubric_id else None
        if rec is None:
            raise NotFoundError("no such rubric")
        return rec

    async def create(self, user: PublicUser, body: dict[str, Any]) -> QARubricRecord:
        self._check(user, WRITE_ROLES, "changing rubrics")
        fields = validate_rubric(body, partial=False)
        try:
            rec = await self.store.create_qa_rubric({**fields, "created_at": self.clock(), "created_by": user.get("id")})
        except DuplicateError:
            raise Exists(f"name: a rubric named {fields['name']!r} exists") from None
        await self._audit(user, "qa.rubric_create", rec["id"], {"rubric": dict(rec)})
        return rec

    async def update(self, user: PublicUser, rubric_id: str, body: dict[str, Any]) -> QARubricRecord:
        self._check(user, WRITE_ROLES, "changing rubrics")
        current = await self.get(None, rubric_id)
        fields = validate_rubric(body, partial=True)
        changed = {k: v for k, v in fields.items() if current.get(k) != v}
        if not changed:
            return current
        if "criteria" in changed or "pass_mark" in changed:
            changed["version"] = int(current["version"]) + 1  # reviews keep the version they used
        try:
            rec = await self.store.update_qa_rubric(rubric_id, **changed, updated_at=self.clock(),
                                                    updated_by=user.get("id"))
        except DuplicateError:
            raise Exists(f"name: a rubric named {fields['name']!r} exists") from None
        await self._audit(user, "qa.rubric_update", rubric_id, {
            "before": {k: current.get(k) for k in changed}, "after": changed})
        return rec

    async def _audit(self, user: PublicUser, action: str, target: str, details: dict[str, Any]) -> None:
        await self.store.add_audit({"ts": self.clock(), "actor_id": user.get("id"), "action": action,
                                    "target": target, "details": details})
