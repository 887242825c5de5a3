"""The REST API described as OpenAPI 3.1, built from the routes the app really has.

Each handler declares its operations beside its methods, as a class attribute::

    class AuditHandler(APIHandler):
        access = roles("admin")
        api_doc = {"get": Op("List audit entries", query=(Query("action"), ...),
                             response=obj(entries=array(ref("AuditEntry"))))}

`build_document` walks the application's router (``app.wildcard_router``), keeps every ``/api/``
route, turns its regex into a path template (groups named by the handler's ``api_path_params``)
and writes one operation per declared method: summary, who may call it (``x-kefu-roles``, and
``security: []`` for public ones), query parameters, request and response schemas, and the
standard error answers. Nothing is written by hand twice: a route that is not declared is not in
the document, and ``tests/handlers/test_openapi.py`` fails naming it (and any declaration whose
method the handler does not implement).

``GET /api/openapi.json`` is public: it describes shapes, never data, and a client needs it before
it has a token (the login endpoint is in it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import tornado.routing
import tornado.web

from handlers.base import AUTHENTICATED, PUBLIC, APIHandler

if TYPE_CHECKING:
    from server import Services

OPENAPI_VERSION = "3.1.0"
HTTP_METHODS = ("get", "post", "put", "patch", "delete")


# -- declaring ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Query:
    """A query parameter: its name, JSON type (``string``, ``integer``, ``number``, ``boolean``)
    and what it means."""

    name: str
    kind: str = "string"
    description: str = ""
    required: bool = False


@dataclass(frozen=True)
class Op:
    """One operation of a handler. ``roles``: who may call it when narrower than the handler's
    ``access`` (e.g. a POST only admins may make on a route supervisors may read). ``request`` /
    ``response``: JSON Schemas of the body and of the answer with ``status``."""

    summary: str
    description: str = ""
    roles: tuple[str, ...] | None = None
    query: tuple[Query, ...] = ()
    request: dict[str, Any] | None = None
    response: dict[str, Any] | None = None
    status: int = 200
    errors: tuple[int, ...] = ()
    tags: tuple[str, ...] = field(default=())


def obj(required: tuple[str, ...] = (), **props: dict[str, Any]) -> dict[str, Any]:
    """A JSON object schema with these properties (``required``: the ones always there)."""
    schema: dict[str, Any] = {"type": "object", "properties": props}
    if required:
        schema["required"] = list(required)
    return schema


def array(items: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": items}


def ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


STR: dict[str, Any] = {"type": "string"}
INT: dict[str, Any] = {"type": "integer"}
NUM: dict[str, Any] = {"type": "number"}
BOOL: dict[str, Any] = {"type": "boolean"}
ANY_OBJ: dict[str, Any] = {"type": "object"}


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


# Shapes several operations share.
COMPONENTS: dict[str, dict[str, Any]] = {
    "Error": obj(("error",), error=obj(
        ("code", "message"), code=STR, message=STR,
        field={"type": "string", "description": "bad_field: the field that was refused"},
        errcode={"type": "integer", "description": "wechat_error: WeChat's errcode"})),
    "User": obj(("id", "name", "roles"), id=STR, username=STR, name=STR, roles=array(STR),
                skills=array(obj(name=STR, level=INT)), max_sessions=INT, disabled=BOOL),
    "Message": obj(("id", "direction", "ts"), id=STR, direction={"enum": ["in", "out"]}, text=STR,
                   media=ANY_OBJ, ts=NUM, status=STR),
    "Session": obj(("id", "openid", "state"), id=STR, openid=STR, skill=nullable(STR), state=STR,
                   agent_id=nullable(STR), created_at=NUM, queued_at=nullable(NUM)),
    "AuditEntry": obj(("id", "ts", "action"), id=STR, ts=NUM, actor_id=nullable(STR), action=STR,
                      session_id=nullable(STR), target=nullable(STR), details=ANY_OBJ),
    "SettingEnvelope": obj(("key", "value", "version"), key=STR, value={}, version=INT,
                           updated_at=nullable(NUM), updated_by=nullable(STR)),
    "MenuButton": obj(("name",), name=STR, type={"enum": ["click", "view"]}, key=STR, url=STR,
                      sub_button=array(obj(("name", "type"), name=STR, type={"enum": ["click", "view"]},
                                           key=STR, url=STR))),
    "Menu": obj(("button",), button=array(ref("MenuButton"))),
}

_ERROR_TEXT = {400: "bad input (bad_field names the field)", 401: "no valid token",
               403: "the role does not allow it", 404: "no such thing", 409: "conflict",
               429: "too many attempts", 502: "WeChat refused or did not answer"}


# -- building ----------------------------------------------------------------------------------
def implemented_methods(handler: type) -> set[str]:
    """The HTTP methods ``handler`` answers (the ones it overrides from RequestHandler)."""
    return {m for m in HTTP_METHODS
            if getattr(handler, m, None) is not getattr(tornado.web.RequestHandler, m)}


def path_template(regex: str, names: tuple[str, ...]) -> tuple[str, list[str]]:
    """``/api/users/([^/]+)`` → ``/api/users/{user_id}`` with ``names``; unnamed groups become
    ``param1``, ``param2``…"""
    pattern = regex.rstrip("$")
    found: list[str] = []

    def name(_: re.Match[str]) -> str:
        found.append(names[len(found)] if len(found) < len(names) else f"param{len(found) + 1}")
        return "{" + found[-1] + "}"

    template = re.sub(r"\((?!\?)[^)]*\)", name, pattern)
    return re.sub(r"\\(.)", r"\1", template), found  # an escaped "." is a plain dot


def api_routes(app: tornado.web.Application) -> list[tuple[str, type]]:
    """``(regex, handler class)`` of every ``/api/`` route of ``app``, in routing order."""
    found: list[tuple[str, type]] = []
    for rule in app.wildcard_router.rules:
        matcher, target = rule.matcher, rule.target
        if not isinstance(matcher, tornado.routing.PathMatches) or not isinstance(target, type):
            continue
        regex = matcher.regex.pattern
        if regex.startswith("/api/"):
            found.append((regex, target))
    return found


def _roles_of(handler: type, op: Op) -> list[str] | str:
    if op.roles is not None:
        return list(op.roles)
    access = getattr(handler, "access", None)
    if access in (PUBLIC, AUTHENTICATED):
        return str(access)
    return sorted(access or ())


def _operation(handler: type, method: str, op: Op, params: list[str]) -> dict[str, Any]:
    roles = _roles_of(handler, op)
    who = {"public": "Public.", "authenticated": "Any signed-in role."}.get(roles, "") if isinstance(roles, str) \
        else f"Roles: {', '.join(roles)}."
    out: dict[str, Any] = {
        "operationId": f"{handler.__name__}.{method}",
        "summary": op.summary,
        "description": " ".join(p for p in (op.description, who) if p),
        "x-kefu-roles": roles,
        "responses": {str(op.status): {"description": op.summary,
                                       **({"content": {"application/json": {"schema": op.response}}}
                                          if op.response is not None else {})}},
    }
    if op.tags:
        out["tags"] = list(op.tags)
    parameters = [{"name": p, "in": "path", "required": True, "schema": STR} for p in params]
    parameters += [{"name": q.name, "in": "query", "required": q.required, "schema": {"type": q.kind},
                    **({"description": q.description} if q.description else {})} for q in op.query]
    if parameters:
        out["parameters"] = parameters
    if op.request is not None:
        out["requestBody"] = {"required": True, "content": {"application/json": {"schema": op.request}}}
    errors = set(op.errors) | ({400} if op.request is not None or op.query else set())
    if roles != "public":
        out["security"] = [{"bearer": []}]
        errors |= {401} if roles == "authenticated" else {401, 403}
    else:
        out["security"] = []
    if params:
        errors.add(404)
    for status in sorted(errors):
        out["responses"][str(status)] = {"description": _ERROR_TEXT.get(status, "error"),
                                         "content": {"application/json": {"schema": ref("Error")}}}
    return out


def build_document(app: tornado.web.Application, version: str = "2") -> dict[str, Any]:
    """The OpenAPI document of ``app``'s ``/api/`` routes, from their handlers' ``api_doc``."""
    paths: dict[str, dict[str, Any]] = {}
    for regex, handler in api_routes(app):
        declared: dict[str, Op] = getattr(handler, "api_doc", {}) or {}
        template, params = path_template(regex, tuple(getattr(handler, "api_path_params", ())))
        item = paths.setdefault(template, {})
        for method, op in declared.items():
            item[method] = _operation(handler, method, op, params)
    return {
        "openapi": OPENAPI_VERSION,
        "info": {"title": "Kefu API", "version": version,
                 "description": "Kefu's REST API (docs/protocol.md). Errors are "
                                "{\"error\": {\"code\", \"message\"}}."},
        "paths": {p: ops for p, ops in paths.items() if ops},
        "components": {"schemas": COMPONENTS,
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}},
    }


class OpenAPIHandler(APIHandler):
    access = PUBLIC
    api_doc = {"get": Op("This description of the REST API (OpenAPI 3.1)", response=ANY_OBJ, tags=("meta",))}

    def initialize(self, **_: Any) -> None:
        pass  # needs nothing: the document is built from the application's own router

    async def get(self) -> None:
        # Built on each request from the running app's own router: cheap, and never stale.
        self.write_json(build_document(self.application))


def default_handlers(services: Services) -> list[tuple[str, type, dict[str, Any]]]:
    return [(r"/api/openapi\.json", OpenAPIHandler, {})]
