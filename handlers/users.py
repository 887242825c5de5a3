"""User administration: ``POST /api/users`` (admin), ``GET /api/users`` (admin, supervisor),
``GET``/``PATCH /api/users/{id}`` (admin). Validation and side effects live in `desk.accounts`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from desk.errors import NotFoundError
from handlers.base import APIError, APIHandler, roles
from handlers.openapi import BOOL, INT, STR, Op, array, obj, ref

NEW_USER = obj(("username", "password"), username=STR, password=STR, name=STR, roles=array(STR),
               skills=array(obj(name=STR, level=INT)), max_sessions=INT)

if TYPE_CHECKING:
    from server import Services


class UsersHandler(APIHandler):
    # QA reads the list too: reviews and transcripts name the agents (no password is ever in it).
    access = roles("admin", "supervisor", "qa")
    api_doc = {
        "get": Op("List the users", response=obj(("users",), users=array(ref("User"))), tags=("users",)),
        "post": Op("Create a user (never answers the password)", roles=("admin",), request=NEW_USER,
                   response=ref("User"), status=201, errors=(409,), tags=("users",)),
    }

    async def get(self) -> None:
        self.write_json({"users": await self.accounts.list_users()})

    async def post(self) -> None:
        if not self.has_role("admin"):
            raise APIError(403, "forbidden", "only an admin creates users")
        user = await self.accounts.create_user(self.json_body(), actor_id=self.current_user["id"])
        self.set_header("Location", f"/api/users/{user['id']}")
        self.write_json(user, status=201)


class UserHandler(APIHandler):
    access = roles("admin")
    api_path_params = ("user_id",)
    api_doc = {
        "get": Op("One user", response=ref("User"), tags=("users",)),
        "patch": Op("Change a user's fields (password, roles, skills, capacity, disabled)",
                    request=obj(name=STR, password=STR, roles=array(STR), skills=array(obj(name=STR, level=INT)),
                                max_sessions=INT, disabled=BOOL),
                    response=ref("User"), tags=("users",)),
    }

    async def get(self, user_id: str) -> None:
        user = await self.accounts.get_user(user_id)
        if user is None:
            raise NotFoundError("no such user")
        self.write_json(user)

    async def patch(self, user_id: str) -> None:
        user = await self.accounts.update_user(user_id, self.json_body(),
                                                        actor_id=self.current_user["id"])
        self.write_json(user)


def default_handlers(services: Services) -> list[tuple[str, type, dict[str, Any]]]:
    args = {"accounts": services.accounts}
    return [
        (r"/api/users", UsersHandler, args),
        (r"/api/users/([^/]+)", UserHandler, args),
    ]
