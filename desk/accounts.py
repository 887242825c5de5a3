"""Accounts: users, password hashes, login tokens (JWT), revocation and login throttling.

Passwords are hashed with scrypt (`desk.passwords`). Tokens are HS256 JWTs with ``sub``, ``roles``, ``iat``, ``exp``, ``jti`` and ``gen``;
decoding pins the algorithm. ``gen`` is the user's token generation, a random value that a new
password or disabling the user replaces: every token issued before no longer matches, however
close in time (a cut-off by ``iat`` in seconds let a token from the same second live on, and
re-enabling a user would have revived theirs). A logout revokes the ``jti`` and closes the
sockets opened with it; disabling a user or changing their roles closes all their sockets
(close code 4010).

Login throttling (the attempts still being checked count as failures) is `desk.login_throttle`.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import re
import secrets
import time
import uuid
from collections.abc import Callable
from typing import Any, cast

import jwt

from bus.base import Bus
from desk.errors import (  # re-exported: handlers import them from here
    AuthError,
    BadCredentials,
    Exists,
    NotFoundError,
    ThrottledError,
    ValidationError,
)
from desk.frames import CLOSE_REVOKED
from desk.login_throttle import LoginThrottle
from desk.passwords import DUMMY_HASH, hash_password, verify_password
from desk.roles import ROLES
from store.base import Store
from store.records import NewUser, PublicUser, UserRecord

__all__ = ["Accounts", "AuthError", "BadCredentials", "ThrottledError", "ValidationError",
           "hash_password", "verify_password", "ROLES"]

log = logging.getLogger("kefu.accounts")

USERNAME_RE = re.compile(r"^[A-Za-z0-9_.-]{3,32}$")
DEMO_USERNAME_RE = re.compile(r"^[a-z]{2}$")  # the demo's "qa" predates the 3-character rule
SKILL_RE = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")
MIN_PASSWORD_CHARS = 8
MAX_PASSWORD_CHARS = 1024  # scrypt of a megabyte password is a cheap way to burn our CPU
DEFAULT_SKILL_LEVEL = 3
DEFAULT_MAX_SESSIONS = 3
MAX_SESSIONS_LIMIT = 20
UPDATABLE_FIELDS = ("name", "password", "roles", "skills", "max_sessions", "disabled")

DEMO_USERS: list[dict[str, Any]] = [
    {"username": "admin", "password": "admin123", "name": "Admin", "roles": ["admin"]},
    {"username": "super", "password": "super123", "name": "Supervisor", "roles": ["supervisor"]},
    {"username": "alice", "password": "alice123", "name": "Alice", "roles": ["agent"],
     "skills": [{"name": "general", "level": 5}, {"name": "loans", "level": 3}], "max_sessions": 3},
    {"username": "bob", "password": "bob123", "name": "Bob", "roles": ["agent"],
     "skills": [{"name": "general", "level": 3}, {"name": "cards", "level": 5}], "max_sessions": 2},
    {"username": "carol", "password": "carol123", "name": "Carol", "roles": ["agent"],
     "skills": [{"name": "loans", "level": 4}, {"name": "cards", "level": 2}], "max_sessions": 2},
    {"username": "qa", "password": "qa123456", "name": "QA", "roles": ["qa"]},
]


class Accounts:
    """Users and tokens. ``store`` is a `store.base.Store`; ``bus`` a `bus.base.Bus`."""

    def __init__(self, store: Store, bus: Bus, secret: str, token_lifetime: int = 43200,
                 clock: Callable[[], float] = time.time) -> None:
        if not secret:
            raise ValueError("a JWT secret is required")
        self.store = store
        self.bus = bus
        self._secret = secret
        self.token_lifetime = int(token_lifetime)
        self._clock = clock
        self.throttle = LoginThrottle(clock)  # keyed by the casefolded username
        self._disabled_callbacks: list[Callable[[str], Any]] = []
        self._changed_callbacks: list[Callable[[dict[str, Any]], Any]] = []

    def on_user_disabled(self, callback: Callable[[str], Any]) -> None:
        """Await ``callback(user_id)`` after a user is disabled (the desk takes them offline at once)."""
        self._disabled_callbacks.append(callback)

    def on_user_changed(self, callback: Callable[[dict[str, Any]], Any]) -> None:
        """Await ``callback(user)`` (the stored record) after a user is changed (the desk gives
        the routing engine new skills and capacity at once)."""
        self._changed_callbacks.append(callback)

    # -- passwords (scrypt is ~50 ms of CPU: keep it off the event loop) --------------------------

    async def _hash(self, password: str) -> str:
        return await asyncio.get_running_loop().run_in_executor(None, hash_password, password)

    async def _verify(self, password: str, encoded: str | None) -> bool:
        return await asyncio.get_running_loop().run_in_executor(None, verify_password, password, encoded)

    # -- login / tokens ----------------------------------------------------------------------------

    async def login(self, username: str, password: str) -> dict[str, Any]:
        """``{"token", "expires_at", "user"}``; BadCredentials, or ThrottledError after repeated failures."""
        if not isinstance(username, str) or not isinstance(password, str):
            raise BadCredentials("wrong username or password")
        key = username.casefold()
        with self.throttle.attempt(key):  # ThrottledError when it must wait
            user = await self.store.get_user_by_username(username) if username else None
            ok = await self._verify(password[:MAX_PASSWORD_CHARS],
                                    user.get("password_hash") if user else DUMMY_HASH)
        if not ok or user is None or user.get("disabled"):
            failures = self.throttle.failed(key)
            # Never the password; the username is what an operator needs to spot an attack.
            log.warning("login failed", extra={"fields": {"username": username[:64], "failures": failures}})
            raise BadCredentials("wrong username or password")
        self.throttle.succeeded(key)
        token, expires_at = self.issue_token(user)
        log.info("login", extra={"fields": {"user_id": user["id"]}})
        return {"token": token, "expires_at": expires_at, "user": self.public(user)}

    def issue_token(self, user: UserRecord) -> tuple[str, float]:
        now = int(self._clock())
        expires_at = now + self.token_lifetime
        claims = {"sub": user["id"], "roles": list(user.get("roles") or []), "iat": now,
                  "exp": expires_at, "jti": uuid.uuid4().hex, "gen": user.get("token_generation") or ""}
        return jwt.encode(claims, self._secret, algorithm="HS256"), float(expires_at)

    def decode(self, token: str) -> dict[str, Any]:
        """Verify the signature (HS256 only) and the claims; AuthError with the reason otherwise."""
        if not isinstance(token, str) or not token:
            raise AuthError("invalid token")
        try:
            # exp is checked below against our clock (injectable); pyjwt checks the rest.
            claims = jwt.decode(token, self._secret, algorithms=["HS256"],
                                options={"require": ["exp", "iat", "sub", "jti"], "verify_exp": False,
                                         "verify_iat": False})
        except jwt.PyJWTError:
            raise AuthError("invalid token") from None
        exp, iat = claims.get("exp"), claims.get("iat")
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (exp, iat)):
            raise AuthError("invalid token")
        if not isinstance(claims.get("sub"), str) or not isinstance(claims.get("jti"), str):
            raise AuthError("invalid token")
        if float(exp) <= self._clock():  # type: ignore[arg-type]  # checked numeric above
            raise AuthError("token expired")
        return claims

    async def authenticate_token(self, token: str) -> tuple[PublicUser, dict[str, Any]]:
        """``(public user, claims)`` of a valid token of an enabled user; AuthError otherwise."""
        claims = self.decode(token)
        if await self.store.is_token_revoked(claims["jti"]):
            raise AuthError("token revoked")
        user = await self.store.get_user(claims["sub"])
        if user is None:
            raise AuthError("invalid token")
        if user.get("disabled"):
            raise AuthError("user disabled")
        if claims.get("gen", "") != (user.get("token_generation") or ""):
            raise AuthError("token revoked")
        # Records from before token generations carry this cut-off (whole seconds) instead.
        if claims["iat"] < (user.get("tokens_valid_after") or 0):
            raise AuthError("token revoked")
        return self.public(user), claims

    async def authenticate(self, token: str) -> PublicUser:
        """The public user of a valid token; AuthError ("token expired", "token revoked",
        "user disabled", "invalid token") otherwise."""
        user, _claims = await self.authenticate_token(token)
        return user

    async def logout(self, token: str) -> None:
        """Revoke the token and close every socket opened with it (4010)."""
        claims = self.decode(token)
        await self.store.revoke_token(claims["jti"], float(claims["exp"]))
        self.bus.disconnect_token(claims["jti"], CLOSE_REVOKED, "logged out")
        log.info("logout", extra={"fields": {"user_id": claims["sub"]}})

    # -- users ---------------------------------------------------------------------------------

    @staticmethod
    def public(user: UserRecord) -> PublicUser:
        """The user as the API shows it: never the password hash."""
        return {
            "id": user["id"],
            "username": user["username"],
            "name": user.get("name") or user["username"],
            "roles": list(user.get("roles") or []),
            "skills": [s.copy() for s in user.get("skills") or []],
            "max_sessions": user.get("max_sessions", DEFAULT_MAX_SESSIONS),
            "disabled": bool(user.get("disabled")),
            "created_at": user.get("created_at"),
        }

    @staticmethod
    def _validate(fields: dict[str, Any], creating: bool, allow_short_password: bool = False) -> dict[str, Any]:
        """Check every field; return the record fields (password not yet hashed)."""
        if not isinstance(fields, dict):
            raise ValidationError("body", "must be a JSON object")
        allowed = ("username",) + UPDATABLE_FIELDS if creating else UPDATABLE_FIELDS
        unknown = sorted(set(fields) - set(allowed))
        if unknown:
            raise ValidationError(unknown[0], "is not a field you can set here")
        out: dict[str, Any] = {}
        if creating or "username" in fields:
            username = fields.get("username")
            if not isinstance(username, str) or not (USERNAME_RE.match(username) or (
                    allow_short_password and DEMO_USERNAME_RE.match(username))):
                raise ValidationError("username", "3 to 32 letters, digits, '_', '.' or '-'")
            out["username"] = username
        if creating or "password" in fields:
            password = fields.get("password")
            if not isinstance(password, str) or not password:
                raise ValidationError("password", "is required")
            if len(password) < MIN_PASSWORD_CHARS and not allow_short_password:
                raise ValidationError("password", f"must be at least {MIN_PASSWORD_CHARS} characters")
            if len(password) > MAX_PASSWORD_CHARS:
                raise ValidationError("password", f"must be at most {MAX_PASSWORD_CHARS} characters")
            out["password"] = password
        if "name" in fields:
            name = fields["name"]
            if name is not None and (not isinstance(name, str) or not name.strip() or len(name) > 64):
                raise ValidationError("name", "1 to 64 characters")
            out["name"] = name.strip() if isinstance(name, str) else None
        if creating or "roles" in fields:
            roles = fields.get("roles", ["agent"] if creating and "roles" not in fields else None)
            if (not isinstance(roles, list) or not roles
                    or not all(isinstance(r, str) and r in ROLES for r in roles)):
                raise ValidationError("roles", f"a non-empty list of {', '.join(ROLES)}")
            out["roles"] = list(dict.fromkeys(roles))
        if creating or "skills" in fields:
            out["skills"] = Accounts._skills(fields.get("skills", []))
        if creating or "max_sessions" in fields:
            value = fields.get("max_sessions", DEFAULT_MAX_SESSIONS)
            if (not isinstance(value, int) or isinstance(value, bool)
                    or not 1 <= value <= MAX_SESSIONS_LIMIT):
                raise ValidationError("max_sessions", f"a whole number from 1 to {MAX_SESSIONS_LIMIT}")
            out["max_sessions"] = value
        if "disabled" in fields:
            if not isinstance(fields["disabled"], bool):
                raise ValidationError("disabled", "true or false")
            out["disabled"] = fields["disabled"]
        return out

    @staticmethod
    def _skills(skills: Any) -> list[dict[str, Any]]:
        if not isinstance(skills, list):
            raise ValidationError("skills", 'a list of "name" or {"name", "level"}')
        out: dict[str, dict[str, Any]] = {}
        name: Any
        level: Any
        for item in skills:
            if isinstance(item, str):
                name, level = item, DEFAULT_SKILL_LEVEL
            elif isinstance(item, dict) and set(item) <= {"name", "level"}:
                name, level = item.get("name"), item.get("level", DEFAULT_SKILL_LEVEL)
            else:
                raise ValidationError("skills", 'each skill is "name" or {"name", "level"}')
            if not isinstance(name, str) or not SKILL_RE.match(name):
                raise ValidationError("skills", "a skill name is 1 to 32 letters, digits, '_', '.' or '-'")
            if not isinstance(level, int) or isinstance(level, bool) or not 1 <= level <= 5:
                raise ValidationError("skills", f"the level of {name!r} must be 1 to 5")
            if name in out:
                raise ValidationError("skills", f"{name!r} is listed twice")
            out[name] = {"name": name, "level": level}
        return list(out.values())

    async def create_user(self, fields: dict[str, Any], *, actor_id: str | None = None,
                          _allow_short_password: bool = False) -> PublicUser:
        """Validate and create a user; ValidationError naming the field, Exists (409) when taken."""
        from store.base import DuplicateError

        record = self._validate(fields, creating=True, allow_short_password=_allow_short_password)
        record["password_hash"] = await self._hash(record.pop("password"))
        record.setdefault("name", None)
        record["name"] = record["name"] or record["username"]
        record["disabled"] = False
        record["created_at"] = self._clock()
        try:
            # _validate built it from the fields a NewUser has (checked one by one there).
            user = await self.store.create_user(cast(NewUser, record))
        except DuplicateError:
            raise Exists(f"the username {record['username']!r} is taken") from None
        await self._audit(actor_id, "user.create", user["id"], {"username": user["username"]})
        return self.public(user)

    async def update_user(self, user_id: str, fields: dict[str, Any], *,
                          actor_id: str | None = None) -> PublicUser:
        """Change a user; disabling, a role change or a new password closes their sockets (4010)."""
        from store.base import NotFound

        changes = self._validate(fields, creating=False)
        if not changes:
            raise ValidationError("body", "nothing to change")
        before = await self.store.get_user(user_id)
        if before is None:
            raise NotFoundError("no such user")
        if actor_id is not None and actor_id == user_id:
            # An admin who locks themselves out may leave nobody to let them back in.
            if changes.get("disabled"):
                raise ValidationError("disabled", "you cannot disable yourself")
            if "roles" in changes and "admin" in (before.get("roles") or ()) and "admin" not in changes["roles"]:
                raise ValidationError("roles", "you cannot take the admin role from yourself")
        if "password" in changes:
            changes["password_hash"] = await self._hash(changes.pop("password"))
        if "password_hash" in changes or (changes.get("disabled") and not before.get("disabled")):
            # A new password or disabling ends every token issued before, for good: re-enabling
            # the user later does not bring them back.
            changes["token_generation"] = secrets.token_hex(8)
        try:
            user = await self.store.update_user(user_id, **changes)
        except NotFound:
            raise NotFoundError("no such user") from None
        reason = None
        if changes.get("disabled") and not before.get("disabled"):
            reason = "user disabled"
        elif "roles" in changes and set(changes["roles"]) != set(before.get("roles") or []):
            reason = "roles changed"
        elif "password_hash" in changes:
            reason = "password changed"
        if reason:
            self.bus.disconnect_user(user_id, CLOSE_REVOKED, reason)
        if reason == "user disabled":
            for callback in self._disabled_callbacks:
                try:
                    result = callback(user_id)
                    if inspect.isawaitable(result):
                        await result
                except Exception:
                    log.exception("on_user_disabled callback failed")
        for changed in self._changed_callbacks:
            try:
                result = changed(dict(user))
                if inspect.isawaitable(result):
                    await result
            except Exception:  # the change is made; a listener failing must not undo it
                log.exception("on_user_changed callback failed")
        await self._audit(actor_id, "user.update", user_id,
                          {"fields": sorted(k for k in fields if k != "password") +
                           (["password"] if "password" in fields else [])})
        return self.public(user)

    async def get_user(self, user_id: str) -> PublicUser | None:
        user = await self.store.get_user(user_id)
        return self.public(user) if user else None

    async def list_users(self) -> list[PublicUser]:
        return [self.public(u) for u in await self.store.list_users()]

    async def ensure_bootstrap_admin(self, username: str, password: str) -> PublicUser | None:
        """Create an admin only when the store holds no user at all; the created user or None."""
        if await self.store.list_users():
            return None
        user = await self.create_user({"username": username, "password": password, "roles": ["admin"]})
        log.info("bootstrap admin created", extra={"fields": {"username": username}})
        return user

    async def seed_demo(self) -> list[PublicUser]:
        """Create the demo users that are missing (short demo passwords, and the two-letter
        username ``qa``, are allowed only here)."""
        created = []
        for spec in DEMO_USERS:
            if await self.store.get_user_by_username(spec["username"]) is None:
                created.append(await self.create_user(dict(spec), _allow_short_password=True))
        return created

    async def _audit(self, actor_id: str | None, action: str, target: str, details: dict[str, Any]) -> None:
        add_audit = getattr(self.store, "add_audit", None)
        if add_audit is None:
            return
        try:
            await add_audit({"actor_id": actor_id, "action": action, "target": target, "details": details})
        except Exception:  # the audit log must not undo a change that is already made
            log.exception("audit write failed")
