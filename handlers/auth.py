"""Login, logout and "who am I": ``POST /api/auth/login``, ``POST /api/auth/logout``, ``GET /api/me``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from handlers.base import AUTHENTICATED, PUBLIC, APIError, APIHandler
from handlers.openapi import NUM, STR, Op, obj, ref

if TYPE_CHECKING:
    from server import Services


class LoginHandler(APIHandler):
    access = PUBLIC
    api_doc = {"post": Op("Sign in: a bearer token for the other /api/ calls",
                          request=obj(("username", "password"), username=STR, password=STR),
                          response=obj(("token", "expires_at", "user"), token=STR, expires_at=NUM, user=ref("User")),
                          errors=(401, 429), tags=("auth",))}

    async def post(self) -> None:
        body = self.json_body()
        username, password = body.get("username"), body.get("password")
        if not isinstance(username, str) or not username:
            raise APIError(400, "bad_field", "username: is required")
        if not isinstance(password, str) or not password:
            raise APIError(400, "bad_field", "password: is required")
        # BadCredentials → 401, ThrottledError → 429 with Retry-After (handlers.base).
        self.write_json(await self.accounts.login(username, password))


class LogoutHandler(APIHandler):
    access = AUTHENTICATED
    api_doc = {"post": Op("Sign out: the token is revoked", status=204, tags=("auth",))}

    async def post(self) -> None:
        if self.token is None:  # prepare() sets it for every authenticated request
            raise APIError(401, "unauthorized", "a Bearer token is required")
        await self.accounts.logout(self.token)
        self.set_status(204)
        self.finish()


class MeHandler(APIHandler):
    access = AUTHENTICATED
    api_doc = {"get": Op("The signed-in user", response=ref("User"), tags=("auth",))}

    def get(self) -> None:
        self.write_json(self.current_user)


def default_handlers(services: Services) -> list[tuple[str, type, dict[str, Any]]]:
    args = {"accounts": services.accounts}
    return [
        (r"/api/auth/login", LoginHandler, args),
        (r"/api/auth/logout", LogoutHandler, args),
        (r"/api/me", MeHandler, args),
    ]
