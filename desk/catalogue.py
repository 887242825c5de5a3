"""What the desk offers: the skills (queues; the ``skills`` setting, desk/skills.py), the wrap-up
codes and the canned replies."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from desk.skills import Skills

WRAPUP_CODES = ("resolved", "follow_up", "transferred", "no_response", "complaint", "other")


class Catalogue:
    def __init__(self, store: Any, default_skill: str, skills: Skills) -> None:
        self.store = store
        self.default_skill = default_skill
        self._skills = skills

    async def skills(self) -> dict[str, Any]:
        return {"skills": await self._skills.all(), "wrapup_codes": list(WRAPUP_CODES)}

    async def skill_names(self) -> list[str]:
        return [s["name"] for s in (await self.skills())["skills"]]

    async def canned_replies(self) -> dict[str, Any]:
        return {"replies": await self.store.get_setting("canned_replies", [])}
