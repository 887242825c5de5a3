"""What the desk offers: the skills (queues) and the wrap-up codes (canned replies: desk/canned.py)."""

from __future__ import annotations

from typing import Any

DEFAULT_SKILLS = (("general", "综合咨询"), ("loans", "贷款业务"), ("cards", "信用卡"))
WRAPUP_CODES = ("resolved", "follow_up", "transferred", "no_response", "complaint", "other")


class Catalogue:
    def __init__(self, store: Any, default_skill: str) -> None:
        self.store = store
        self.default_skill = default_skill

    async def skills(self) -> dict[str, Any]:
        skills = await self.store.get_setting("skills", None)
        if not skills:
            skills = [{"name": name, "label": label} for name, label in DEFAULT_SKILLS]
            if self.default_skill not in {s["name"] for s in skills}:
                skills.insert(0, {"name": self.default_skill, "label": self.default_skill})
        return {"skills": skills, "wrapup_codes": list(WRAPUP_CODES)}

    async def skill_names(self) -> list[str]:
        return [s["name"] for s in (await self.skills())["skills"]]
