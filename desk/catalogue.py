"""What the desk offers: the skills (queues; the ``skills`` setting, desk/skills.py) and the wrap-up
codes (the ``wrapup`` setting, desk/texts.py); canned replies are desk/canned.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from store.base import Store

if TYPE_CHECKING:
    from desk.skills import Skills


class Catalogue:
    def __init__(self, store: Store, default_skill: str, skills: Skills,
                 wrapup_codes: Callable[[], list[dict[str, Any]]] = list) -> None:
        self.store = store
        self.default_skill = default_skill
        self._skills = skills
        self.wrapup_codes = wrapup_codes  # the admin's wrap-up codes (`desk.texts`, setting ``wrapup``)

    async def skills(self) -> dict[str, Any]:
        return {"skills": await self._skills.all(), "wrapup_codes": self.wrapup_codes()}

    async def skill_names(self) -> list[str]:
        return [s["name"] for s in (await self.skills())["skills"]]

    async def skill_labels(self) -> dict[str, str]:
        """Skill name -> what a customer is shown of it (the label; the Chinese one when it has two)."""
        out = {}
        for s in (await self.skills())["skills"]:
            label = s.get("label")
            if isinstance(label, dict):
                label = label.get("zh-CN") or label.get("en")
            out[s["name"]] = str(label or s["name"])
        return out
