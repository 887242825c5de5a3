"""Canned replies (快捷回复): public, team and personal replies an agent inserts into the composer.

A reply has a ``shortcut`` (typed as ``/shortcut`` in the composer), a ``title``, a ``text``
(with the placeholders ``{customer}`` and ``{agent}``, filled in by the console when it is
inserted), an optional ``category`` and a ``scope``:

* ``public`` — every agent uses it; only an **admin** writes it;
* ``team`` (with ``team_id``) — the team's members and supervisors use it; an **admin** or a
  **supervisor of that team** writes it;
* ``personal`` — its owner alone uses and writes it; anyone who answers customers (agent,
  supervisor, admin) writes their own.

Who is in which team is not this module's business: it is given two async callables,
``team_ids_of(user_id)`` (the teams a user belongs to) and ``supervised_team_ids(user_id)``
(the teams a user supervises), both answering a set of team ids. They default to "no team" until
the teams feature is wired in (desk/desk.py builds this object).

Every change is validated before anything is written (400 ``bad_field`` naming the field, 409
``exists`` for a shortcut already used by the same owner), checked against the rule above (403
``forbidden``), and audited (``canned.create``, ``canned.update``, ``canned.delete``). A refused
change writes nothing and audits nothing.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, cast

from desk.errors import Exists, Forbidden, NotFoundError, ValidationError
from desk.roles import roles_of
from store.base import CANNED_PUBLIC, DuplicateError, Store, canned_team_owner, canned_user_owner
from store.records import CANNED_SCOPES, CannedFields, CannedReplyRecord, NewCannedReply, PublicUser

log = logging.getLogger("kefu.canned")

TeamIds = Callable[[str], Awaitable[set[str]]]

# Typed after "/" in the composer: short, and one word so the list can match it as typed.
SHORTCUT_MAX_CHARS = 32
# One reply is one customer-service message; WeChat takes 2048 bytes of text in one, and a
# canned reply leaves room for the filled-in placeholders.
TEXT_MAX_CHARS = 2000
TITLE_MAX_CHARS = 80
CATEGORY_MAX_CHARS = 40
# What a client may send; owner_id is always the caller, ids and times are the server's.
FIELDS = ("shortcut", "title", "text", "category", "scope", "team_id")
# Who may keep personal replies: the roles that answer customers in the agent console.
PERSONAL_ROLES = frozenset({"agent", "supervisor", "admin"})
# The setting in which earlier releases kept a read-only list of (public) canned replies.
LEGACY_SETTING = "canned_replies"
LEGACY_IMPORTED_SETTING = "canned_replies_imported"
_SPACE = re.compile(r"\s")


async def no_teams(user_id: str) -> set[str]:
    """The team lookup until the teams feature is wired in: nobody is in a team."""
    return set()


def _text(body: dict[str, Any], name: str, max_chars: int, required: bool) -> str:
    value = body.get(name)
    if value is None:
        if required:
            raise ValidationError(name, "is required")
        return ""
    if not isinstance(value, str):
        raise ValidationError(name, "must be text")
    value = value.strip()
    if required and not value:
        raise ValidationError(name, "must not be empty")
    if len(value) > max_chars:
        raise ValidationError(name, f"is longer than {max_chars} characters")
    return value


def _shortcut(body: dict[str, Any]) -> str:
    value = _text(body, "shortcut", SHORTCUT_MAX_CHARS + 1, required=True)
    value = value.removeprefix("/")  # people type the shortcut as they use it: "/hi"
    if not value:
        raise ValidationError("shortcut", "must not be empty")
    if _SPACE.search(value):
        raise ValidationError("shortcut", "must be one word, without spaces")
    if "/" in value:
        raise ValidationError("shortcut", "must not contain '/'")
    if len(value) > SHORTCUT_MAX_CHARS:
        raise ValidationError("shortcut", f"is longer than {SHORTCUT_MAX_CHARS} characters")
    return value


def validate_fields(body: dict[str, Any], partial: bool) -> CannedFields:
    """The fields of ``body`` checked and normalised (all of them for a new reply, the ones given
    for a change); `ValidationError` naming the first wrong one."""
    for name in body:
        if name not in FIELDS:
            raise ValidationError(name, "is not a field of a canned reply")
    out: dict[str, Any] = {}
    if not partial or "shortcut" in body:
        out["shortcut"] = _shortcut(body)
    if not partial or "text" in body:
        out["text"] = _text(body, "text", TEXT_MAX_CHARS, required=True)
    for name, limit in (("title", TITLE_MAX_CHARS), ("category", CATEGORY_MAX_CHARS)):
        if not partial or name in body:
            out[name] = _text(body, name, limit, required=False)
    if not partial or "scope" in body:
        scope = body.get("scope")
        if scope not in CANNED_SCOPES:
            raise ValidationError("scope", f"must be one of {', '.join(CANNED_SCOPES)}")
        out["scope"] = scope
    if "team_id" in body:
        team_id = body["team_id"]
        if team_id is not None and (not isinstance(team_id, str) or not team_id.strip()):
            raise ValidationError("team_id", "must be a team's id")
        out["team_id"] = team_id.strip() if isinstance(team_id, str) else None
    return cast(CannedFields, out)


def _check_owner(rec: dict[str, Any]) -> None:
    """A team reply names its team; only a team reply has one."""
    if rec.get("scope") == "team" and not rec.get("team_id"):
        raise ValidationError("team_id", "is required for a team reply")
    if rec.get("scope") != "team" and rec.get("team_id"):
        raise ValidationError("team_id", "is only for a team reply")


class CannedReplies:
    """Canned replies over a `store.base.Store` (``*_canned``, ``add_audit``, settings)."""

    def __init__(self, store: Store, clock: Callable[[], float], team_ids_of: TeamIds = no_teams,
                 supervised_team_ids: TeamIds = no_teams) -> None:
        self.store = store
        self.clock = clock
        self.team_ids_of = team_ids_of
        self.supervised_team_ids = supervised_team_ids

    # -- who ---------------------------------------------------------------------------------------
    async def _teams(self, user: PublicUser) -> tuple[set[str], set[str]]:
        """(teams the user uses replies of, teams the user writes replies of)."""
        member = set(await self.team_ids_of(user["id"]))
        supervised = set(await self.supervised_team_ids(user["id"])) if "supervisor" in roles_of(user) else set()
        return member | supervised, supervised

    @staticmethod
    def _may_write(user: PublicUser, rec: dict[str, Any], supervised: set[str]) -> bool:
        roles = roles_of(user)
        scope = rec.get("scope")
        if scope == "public":
            return "admin" in roles
        if scope == "team":
            return "admin" in roles or rec.get("team_id") in supervised
        return scope == "personal" and rec.get("owner_id") == user["id"] and bool(roles & PERSONAL_ROLES)

    def _refuse(self, rec: dict[str, Any]) -> Forbidden:
        scope = rec.get("scope")
        if scope == "public":
            return Forbidden("only an admin writes public canned replies")
        if scope == "team":
            return Forbidden("only an admin or a supervisor of that team writes its canned replies")
        return Forbidden("you may only write your own personal canned replies")

    def _with_editable(self, user: PublicUser, replies: Iterable[CannedReplyRecord],
                       supervised: set[str]) -> list[dict[str, Any]]:
        return [{**r, "editable": self._may_write(user, dict(r), supervised)} for r in replies]

    # -- reading -----------------------------------------------------------------------------------
    async def usable(self, user: PublicUser) -> dict[str, Any]:
        """``{"replies": [...]}``: what ``user`` may insert (public, their teams', their own),
        each with ``editable`` (whether the caller may change it)."""
        teams, supervised = await self._teams(user)
        owners = [CANNED_PUBLIC, *(canned_team_owner(t) for t in sorted(teams)), canned_user_owner(user["id"])]
        return {"replies": self._with_editable(user, await self.store.list_canned(owners), supervised)}

    async def manageable(self, user: PublicUser) -> dict[str, Any]:
        """What ``user`` may use or change: for an admin also every team's replies (the admin
        page's list); for everyone else the same as `usable`."""
        if "admin" not in roles_of(user):
            return await self.usable(user)
        _, supervised = await self._teams(user)
        replies = [r for r in await self.store.list_canned()
                   if r["scope"] != "personal" or r["owner_id"] == user["id"]]
        return {"replies": self._with_editable(user, replies, supervised)}

    async def _get(self, reply_id: str) -> CannedReplyRecord:
        rec = await self.store.get_canned(reply_id)
        if rec is None:
            raise NotFoundError("no such canned reply")
        return cast(CannedReplyRecord, rec)

    # -- changing ----------------------------------------------------------------------------------
    async def create(self, user: PublicUser, body: dict[str, Any]) -> dict[str, Any]:
        fields = validate_fields(body, partial=False)
        rec: dict[str, Any] = {**fields, "team_id": fields.get("team_id"),
                               "owner_id": user["id"] if fields["scope"] == "personal" else None}
        _check_owner(rec)
        _, supervised = await self._teams(user)
        if not self._may_write(user, rec, supervised):
            raise self._refuse(rec)
        rec.update(created_at=self.clock(), created_by=user["id"])
        try:
            stored = await self.store.create_canned(cast(NewCannedReply, rec))
        except DuplicateError:
            raise Exists(f"shortcut: /{rec['shortcut']} is already used in this scope") from None
        await self._audit(user, "canned.create", stored, {"reply": dict(stored)})
        return {**stored, "editable": True}

    async def update(self, user: PublicUser, reply_id: str, body: dict[str, Any]) -> dict[str, Any]:
        current = await self._get(reply_id)
        _, supervised = await self._teams(user)
        if not self._may_write(user, dict(current), supervised):
            raise self._refuse(dict(current))
        fields: dict[str, Any] = dict(validate_fields(body, partial=True))
        if "scope" in fields:
            # A reply moved to another scope takes that scope's owner: the caller for personal.
            fields["owner_id"] = user["id"] if fields["scope"] == "personal" else None
            if fields["scope"] != "team":
                fields.setdefault("team_id", None)
        changed = {k: v for k, v in fields.items() if current.get(k) != v}
        if not changed:
            return {**current, "editable": True}
        merged = {**current, **changed}
        _check_owner(merged)
        if not self._may_write(user, merged, supervised):
            raise self._refuse(merged)
        try:
            stored = await self.store.update_canned(reply_id, **cast(CannedFields, {
                **changed, "updated_at": self.clock(), "updated_by": user["id"]}))
        except DuplicateError:
            raise Exists(f"shortcut: /{merged['shortcut']} is already used in this scope") from None
        await self._audit(user, "canned.update", stored, {
            "before": {k: current.get(k) for k in changed}, "after": changed})
        return {**stored, "editable": True}

    async def delete(self, user: PublicUser, reply_id: str) -> dict[str, Any]:
        current = await self._get(reply_id)
        _, supervised = await self._teams(user)
        if not self._may_write(user, dict(current), supervised):
            raise self._refuse(dict(current))
        removed = await self.store.delete_canned(reply_id)
        await self._audit(user, "canned.delete", removed, {"reply": dict(removed)})
        return dict(removed)

    async def _audit(self, user: PublicUser, action: str, rec: CannedReplyRecord,
                     details: dict[str, Any]) -> None:
        await self.store.add_audit({"ts": self.clock(), "actor_id": user.get("id"), "action": action,
                                    "target": rec["id"], "details": {
                                        "scope": rec["scope"], "team_id": rec["team_id"],
                                        "shortcut": rec["shortcut"], **details}})
        log.info("canned reply changed", extra={"fields": {"action": action, "id": rec["id"],
                                                            "by": user.get("id")}})

    # -- earlier releases ----------------------------------------------------------------------------
    async def import_legacy(self) -> int:
        """Copy the replies earlier releases kept in the ``canned_replies`` setting (a list of
        ``{"shortcut", "text", "title"?}``) into public canned replies, once; a legacy entry that
        is not a valid reply (or whose shortcut is taken) is skipped with a warning. Returns how
        many were imported."""
        if await self.store.get_setting(LEGACY_IMPORTED_SETTING, False):
            return 0
        legacy = await self.store.get_setting(LEGACY_SETTING, None)
        imported = 0
        for entry in legacy if isinstance(legacy, list) else ():
            try:
                body = {k: entry[k] for k in ("shortcut", "title", "text", "category") if k in entry}
                fields = validate_fields({**body, "scope": "public"}, partial=False)
                await self.store.create_canned(cast(NewCannedReply, {
                    **fields, "created_at": self.clock(), "created_by": None}))
                imported += 1
            except (TypeError, ValidationError, DuplicateError) as exc:
                log.warning("legacy canned reply skipped", extra={"fields": {"reason": str(exc)}})
        if legacy is not None:
            await self.store.set_setting(LEGACY_IMPORTED_SETTING, True)
        return imported
