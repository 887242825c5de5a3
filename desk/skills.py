"""Skills (queues) as a setting: the catalogue an admin edits, applied live to the routing engine.

The whole catalogue is ONE declared setting, ``skills`` (`desk.settings`: versioned, audited,
validated before any write; ``legacy_key`` reads an earlier release's ``[{"name", "label"}]``).
Its value is the list of skills (docs/protocol.md, "Skills (queues)"; the fields are checked in
`desk.skill_rules`). ``PUT /api/skills/{name}`` changes one skill (fields left out keep their
value) and ``PUT /api/settings/skills`` may replace the list; both go through
:meth:`Settings.update`, whose lock serialises them.

A change is applied live: every queue's ``ConfigureQueue`` fields go to the routing driver
through the lifecycle (`Lifecycle.configure_queues`), so the next offer follows the new strategy,
a closed skill diverts new customers to leave-message, and the wall repaints at once. The driver
is primed before the engine is rebuilt at start-up (:meth:`Skills.prime`), so a restart never
configures a queue with the desk's defaults first.
"""

from __future__ import annotations

from typing import Any

from desk import skill_rules as rules
from desk.errors import NotFoundError, ValidationError
from desk.lifecycle import Lifecycle
from desk.settings import Settings, SettingSpec
from store.records import PublicUser

KEY = "skills"
# The catalogue of a desk nobody has configured yet: name, zh-CN label, English label.
DEFAULT_SKILLS = (("general", "综合咨询", "General enquiries"), ("loans", "贷款业务", "Loans"),
                  ("cards", "信用卡", "Credit cards"))
MAX_SKILLS = 200


class Skills:
    def __init__(self, settings: Settings, lifecycle: Lifecycle, default_skill: str, offer_timeout: float) -> None:
        self.settings = settings
        self.lifecycle = lifecycle
        self.default_skill = default_skill
        self.offer_timeout = float(offer_timeout)
        settings.define(SettingSpec(KEY, default=self._default, validate=self._validate, legacy_key=KEY))
        settings.on_change(KEY, self._changed)

    # -- reading ---------------------------------------------------------------------------------
    def _default(self) -> list[dict[str, Any]]:
        skills = [rules.default_skill(name, zh, {"zh-CN": zh, "en": en}, self.offer_timeout)
                  for name, zh, en in DEFAULT_SKILLS]
        if self.default_skill not in {s["name"] for s in skills}:
            skills.insert(0, rules.default_skill(self.default_skill, offer_timeout_s=self.offer_timeout))
        return skills

    def _complete(self, value: Any) -> list[dict[str, Any]]:
        """The stored list with every field (a legacy entry gets the defaults)."""
        if not value:
            return self._default()
        return [rules.complete(s, self.offer_timeout) for s in value if isinstance(s, dict) and s.get("name")]

    async def all(self) -> list[dict[str, Any]]:
        return self._complete(await self.settings.get(KEY))

    async def names(self) -> list[str]:
        return [s["name"] for s in await self.all()]

    async def get(self, name: str) -> dict[str, Any]:
        found = next((s for s in await self.all() if s["name"] == name), None)
        if found is None:
            raise NotFoundError(f"no skill named {name!r}")
        return found

    # -- changing --------------------------------------------------------------------------------
    async def put(self, user: PublicUser, name: str, change: Any) -> dict[str, Any]:
        """Create or update one skill (``PUT /api/skills/{name}``); returns it as kept."""
        rules.check_name(name)
        if not isinstance(change, dict):
            raise ValidationError("skill", "must be an object of the skill's fields")
        if "name" in change and change["name"] != name:
            raise ValidationError("name", "must be the skill named in the path")
        await self.settings.update(user, KEY, {**change, "name": name})
        return await self.get(name)

    def _validate(self, value: Any, current: Any) -> list[dict[str, Any]]:
        """A list replaces the catalogue; an object with a ``name`` creates or updates that skill."""
        skills = self._complete(current)
        if isinstance(value, list):
            if not value:
                raise ValidationError(KEY, "at least one skill")
            if len(value) > MAX_SKILLS:
                raise ValidationError(KEY, f"at most {MAX_SKILLS} skills")
            kept = []
            for item in value:
                if not isinstance(item, dict):
                    raise ValidationError(KEY, "each skill is an object")
                name = rules.check_name(item.get("name"))
                kept.append(rules.merge_skill(rules.default_skill(name, offer_timeout_s=self.offer_timeout),
                                              {k: v for k, v in item.items() if k != "name"}))
        elif isinstance(value, dict):
            name = rules.check_name(value.get("name"))
            change = {k: v for k, v in value.items() if k != "name"}
            existing = next((s for s in skills if s["name"] == name), None)
            if existing is None and len(skills) >= MAX_SKILLS:
                raise ValidationError(KEY, f"at most {MAX_SKILLS} skills")
            merged = rules.merge_skill(existing or rules.default_skill(name, offer_timeout_s=self.offer_timeout),
                                       change)
            kept = [merged if s["name"] == name else s for s in skills] if existing else [*skills, merged]
        else:
            raise ValidationError(KEY, "must be the list of skills or one skill's fields with its name")
        rules.check_catalogue(kept)
        return kept

    # -- applying --------------------------------------------------------------------------------
    def _queues(self, skills: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        return {s["name"]: rules.queue_config(s) for s in skills}

    async def prime(self) -> None:
        """Tell the routing driver every queue's configuration before the engine is rebuilt."""
        skills = await self.all()
        self.lifecycle.routing.configure_queues(self._queues(skills), [s["name"] for s in skills])

    async def _changed(self, new: Any, old: Any) -> None:
        skills = self._complete(new)
        await self.lifecycle.configure_queues(self._queues(skills), [s["name"] for s in skills])
