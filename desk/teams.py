"""Teams (组织机构): who supervises whom. Kept in the store, validated, audited, cached here.

A team has a name (unique, case and surrounding spaces aside), ``supervisors`` (users with the
role supervisor) and ``members`` (the agents it supervises). A user may belong to several teams.
The desk reads teams on every supervision path, so they are held in memory: loaded at start
and replaced by every change made through this feature, which then tells its listeners (the
wall repaints, monitors that left a supervisor's scope end). No restart, no stale cache: this
feature is the only writer of teams.

The questions other features ask:

* `supervisor_scope` (through `desk.access.AccessPolicy`): the members of the teams a
  supervisor belongs to (and the supervisor), or None for a supervisor in no team (everyone).
* `teams_of` / `team_ids_of`: the teams a user belongs to as supervisor or member (team-scoped
  canned replies ask this).
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Literal

from desk.errors import Exists, NotFoundError, ValidationError
from store.base import Store
from store.records import NewTeam, PublicUser, TeamFields, TeamRecord, UserRecord

log = logging.getLogger("kefu.teams")

TEAM_NAME_MAX_CHARS = 64
# A team is a screenful of people; a bigger list is a mistake (or an attack on our memory).
TEAM_MAX_USERS = 500
TEAM_FIELDS = ("name", "supervisors", "members")
# A team's lists of user ids, and the role each user in it must have (None: any).
_USER_LISTS: tuple[tuple[Literal["supervisors", "members"], str | None], ...] = (
    ("supervisors", "supervisor"), ("members", None))


class Teams:
    """The teams, their rules and their cache. ``store`` is a `store.base.Store`."""

    def __init__(self, store: Store, clock: Callable[[], float]) -> None:
        self.store = store
        self.clock = clock
        self._teams: dict[str, TeamRecord] = {}
        self._listeners: list[Callable[[], Awaitable[None] | None]] = []

    def on_change(self, listener: Callable[[], Awaitable[None] | None]) -> None:
        """Call ``listener()`` (awaited if it returns an awaitable) after every change of teams."""
        self._listeners.append(listener)

    async def load(self) -> None:
        """Read every team from the store (at start)."""
        self._teams = {t["id"]: t for t in await self.store.list_teams()}

    # -- questions (no I/O: the cache answers) ----------------------------------------------------
    def teams_of(self, user_id: str) -> list[TeamRecord]:
        """The teams ``user_id`` belongs to, as supervisor or member, by name (copies: the cache stays ours)."""
        return sorted((t.copy() for t in self._teams.values()
                       if user_id in t["supervisors"] or user_id in t["members"]),
                      key=lambda t: t["name"].casefold())

    def team_ids_of(self, user_id: str) -> list[str]:
        return [t["id"] for t in self.teams_of(user_id)]

    async def member_team_ids(self, user_id: str) -> set[str]:
        """The teams ``user_id`` uses team canned replies of (every team they belong to)."""
        return set(self.team_ids_of(user_id))

    async def supervised_team_ids(self, user_id: str) -> set[str]:
        """The teams ``user_id`` supervises (whose canned replies they may write)."""
        return {t["id"] for t in self._teams.values() if user_id in t["supervisors"]}

    def supervisor_scope(self, user_id: str) -> frozenset[str] | None:
        """Whom a supervisor sees: the members of their teams and themselves; None (everyone)
        when they belong to no team."""
        teams = self.teams_of(user_id)
        if not teams:
            return None
        return frozenset({user_id, *(m for t in teams for m in t["members"])})

    def all(self) -> list[TeamRecord]:
        return sorted((t.copy() for t in self._teams.values()), key=lambda t: t["name"].casefold())

    def get(self, team_id: str) -> TeamRecord:
        team = self._teams.get(team_id) if isinstance(team_id, str) else None
        if team is None:
            raise NotFoundError("no such team")
        return team.copy()

    # -- changes ------------------------------------------------------------------------------------
    async def create(self, actor: PublicUser, fields: Any) -> TeamRecord:
        from store.base import DuplicateError

        record = await self._validate(fields, creating=True)
        name = record["name"]  # creating: _validate gives every field
        new: NewTeam = {"name": name, "supervisors": record["supervisors"], "members": record["members"],
                        "created_at": self.clock()}
        self._check_name_free(name, None)
        try:
            team = await self.store.create_team(new)
        except DuplicateError:
            raise Exists(f"name: a team called {name!r} exists") from None
        self._teams[team["id"]] = team
        await self._audit(actor, "team.create", team, sorted(record))
        await self._changed()
        return team.copy()

    async def update(self, actor: PublicUser, team_id: str, fields: Any) -> TeamRecord:
        from store.base import DuplicateError, NotFound

        self.get(team_id)
        changes = await self._validate(fields, creating=False)
        if not changes:
            raise ValidationError("body", "nothing to change")
        if "name" in changes:
            self._check_name_free(changes["name"], team_id)
        try:
            stored: TeamFields = {**changes, "updated_at": self.clock()}
            team = await self.store.update_team(team_id, **stored)
        except NotFound:
            raise NotFoundError("no such team") from None
        except DuplicateError:
            raise Exists(f"name: a team called {changes['name']!r} exists") from None
        self._teams[team_id] = team
        await self._audit(actor, "team.update", team, sorted(changes))
        await self._changed()
        return team.copy()

    async def delete(self, actor: PublicUser, team_id: str) -> None:
        from store.base import NotFound

        team = self.get(team_id)
        try:
            await self.store.delete_team(team_id)
        except NotFound:
            raise NotFoundError("no such team") from None
        self._teams.pop(team_id, None)
        await self._audit(actor, "team.delete", team, [])
        await self._changed()

    # -- rules -----------------------------------------------------------------------------------
    def _check_name_free(self, name: str, team_id: str | None) -> None:
        key = name.strip().casefold()
        for other in self._teams.values():
            if other["id"] != team_id and other["name"].strip().casefold() == key:
                raise Exists(f"name: the team {other['name']!r} exists")

    async def _validate(self, fields: Any, creating: bool) -> TeamFields:
        if not isinstance(fields, dict):
            raise ValidationError("body", "must be a JSON object")
        unknown = sorted(set(fields) - set(TEAM_FIELDS))
        if unknown:
            raise ValidationError(unknown[0], "is not a field of a team")
        out: TeamFields = {}
        if creating or "name" in fields:
            name = fields.get("name")
            if not isinstance(name, str) or not name.strip() or len(name.strip()) > TEAM_NAME_MAX_CHARS:
                raise ValidationError("name", f"1 to {TEAM_NAME_MAX_CHARS} characters")
            out["name"] = name.strip()
        users: dict[str, UserRecord] | None = None
        for field, role in _USER_LISTS:
            if not creating and field not in fields:
                continue
            ids = fields.get(field, [])
            if (not isinstance(ids, list) or len(ids) > TEAM_MAX_USERS
                    or not all(isinstance(i, str) and i for i in ids)):
                raise ValidationError(field, f"a list of at most {TEAM_MAX_USERS} user ids")
            if users is None:
                users = {u["id"]: u for u in await self.store.list_users()}
            for user_id in ids:
                user = users.get(user_id)
                if user is None:
                    raise ValidationError(field, f"no user with the id {user_id[:64]!r}")
                if role is not None and role not in (user.get("roles") or ()):
                    raise ValidationError(field, f"{user.get('username')!r} does not have the role {role}")
            out[field] = list(dict.fromkeys(ids))
        return out

    async def _audit(self, actor: PublicUser, action: str, team: TeamRecord, fields: list[str]) -> None:
        await self.store.add_audit({"ts": self.clock(), "actor_id": actor.get("id"), "action": action,
                                    "session_id": None, "target": team["id"],
                                    "details": {"name": team["name"], "fields": fields}})

    async def _changed(self) -> None:
        for listener in list(self._listeners):
            try:
                result = listener()
                if inspect.isawaitable(result):
                    await result
            except Exception:  # one listener failing must not stop the others or undo the change
                log.exception("teams listener failed")
