"""What the desk offers: the skills (queues) and the wrap-up codes (owned by `desk.texts`; canned replies: desk/canned.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

DEFAULT_SKILLS = (("general", "综合咨询"), ("loans", "贷款业务"), ("cards", "信用卡"))


class Catalogue:
    def __init__(self, store: Any, default_skill: str,
                 wrapup_codes: Callable[[], list[dict[str, Any]]] = list) -> None:
        self.store = store
        self.default_skill = default_skill
        self.wrapup_codes = wrapup_codes  # the admin's wrap-up codes (`desk.texts`, setting ``wrapup``)

    async def skills(self) -> dict[str, Any]:
        skills = await self.store.get_setting("skills", None)
        if not skills:
            skills = [{"name": name, "label": label} for name, label in DEFAULT_SKILLS]
            if self.default_skill not in {s["name"] for s in skills}:
                skills.insert(0, {"name": self.default_skill, "label": self.default_skill})
        return {"skills": skills, "wrapup_codes": self.wrapup_codes()}

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
