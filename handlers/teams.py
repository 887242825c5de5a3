"""Teams over HTTP: ``GET /api/teams`` (admin, supervisor), ``POST /api/teams``,
``GET``/``PATCH``/``DELETE /api/teams/{id}`` (admin). Rules, audit and the live effect are
`desk.teams.Teams`'."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from handlers.base import STAFF, APIError, APIHandler
from handlers.openapi import ANY_OBJ, Op, array, obj

if TYPE_CHECKING:
    from desk.accounts import Accounts
    from desk.teams import Teams
    from server import Services


class _TeamsHandler(APIHandler):
    access = STAFF  # reading; every change is the admin's (checked per method)

    def initialize(self, accounts: Accounts, teams: Teams) -> None:
        super().initialize(accounts)
        self.teams = teams

    def require_admin(self) -> None:
        if not self.has_role("admin"):
            raise APIError(403, "forbidden", "only an admin changes teams")


class TeamsHandler(_TeamsHandler):
    api_doc = {"get": Op("The teams (supervisors, members)", response=obj(teams=array(ANY_OBJ)), tags=("teams",)),
               "post": Op("Create a team", roles=("admin",), request=obj(("name",), name={"type": "string"}, supervisors=array({"type": "string"}), members=array({"type": "string"})), response=ANY_OBJ,
                          status=201, errors=(400, 409), tags=("teams",))}

    async def get(self) -> None:
        self.write_json({"teams": self.teams.all()})

    async def post(self) -> None:
        self.require_admin()
        team = await self.teams.create(self.current_user, self.json_body())
        self.set_header("Location", f"/api/teams/{team['id']}")
        self.write_json(team, status=201)


class TeamHandler(_TeamsHandler):
    api_path_params = ("team_id",)
    api_doc = {"get": Op("One team", response=ANY_OBJ, errors=(404,), tags=("teams",)),
               "patch": Op("Change a team", roles=("admin",), request=ANY_OBJ, response=ANY_OBJ,
                           errors=(400, 404, 409), tags=("teams",)),
               "delete": Op("Delete a team", roles=("admin",), status=204, errors=(404,), tags=("teams",))}

    async def get(self, team_id: str) -> None:
        self.write_json(self.teams.get(team_id))

    async def patch(self, team_id: str) -> None:
        self.require_admin()
        self.write_json(await self.teams.update(self.current_user, team_id, self.json_body()))

    async def delete(self, team_id: str) -> None:
        self.require_admin()
        await self.teams.delete(self.current_user, team_id)
        self.set_status(204)


def default_handlers(services: Services) -> list[tuple[str, type, dict[str, Any]]]:
    args = {"accounts": services.accounts, "teams": services.desk.teams}
    return [
        (r"/api/teams", TeamsHandler, args),
        (r"/api/teams/([^/]+)", TeamHandler, args),
    ]
