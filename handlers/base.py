"""The handlers' base layer: access declarations, token authentication, JSON errors and bodies.

Every handler class declares ``access``: ``PUBLIC``, ``AUTHENTICATED`` or a frozenset of roles.
``make_app`` refuses to start when a handler does not (auth fails closed). API handlers answer
errors as ``{"error": {"code", "message"}}`` and never echo internals.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import tornado.web

from desk.roles import STAFF_ROLES
from kefu_json import InvalidJSON, parse_json

if TYPE_CHECKING:
    from desk.accounts import Accounts

log = logging.getLogger("kefu.handlers")

PUBLIC = "public"
AUTHENTICATED = "authenticated"


def roles(*names: str) -> frozenset[str]:
    return frozenset(names)


STAFF = STAFF_ROLES  # desk.roles defines the role sets once
ANY_ROLE = AUTHENTICATED


class APIError(tornado.web.HTTPError):
    """An error with a stable code and a message safe to show to the caller."""

    def __init__(self, status: int, code: str, message: str, retry_after: float | None = None,
                 extra: dict[str, Any] | None = None) -> None:
        super().__init__(status, reason=None)
        self.code = code
        self.message = message
        self.retry_after = retry_after  # seconds, answered as Retry-After (429)
        self.extra = dict(extra or {})  # more fields of the error object (``field``, ``errcode``)


def check_handler_access(routes: list[Any]) -> None:
    """Refuse to build an app in which a handler has not declared who may call it."""
    for route in routes:
        handler = route[1] if isinstance(route, (tuple, list)) else route.target
        if not isinstance(handler, type) or not issubclass(handler, tornado.web.RequestHandler):
            continue
        access = getattr(handler, "access", None)
        if access is None:
            raise RuntimeError(f"{handler.__name__} does not declare its access (PUBLIC, AUTHENTICATED or roles)")


def api_error_of(exc: Exception) -> APIError:
    """The HTTP answer to a desk/accounts error: its stable code, its status, its message."""
    from desk.errors import DeskError, wire_error

    if isinstance(exc, APIError):
        return exc
    if isinstance(exc, DeskError):
        code, message, status = wire_error(exc)  # the map the socket uses too
        return APIError(status, code, message, getattr(exc, "retry_after", None), exc.extra)
    raise TypeError(f"not an expected error: {exc!r}")


class BaseHandler(tornado.web.RequestHandler):
    """Authenticates a bearer token in ``prepare`` and enforces the class's ``access``.

    A `desk.errors.DeskError` escaping a handler method becomes its JSON error and HTTP status
    (``not_found`` 404, ``forbidden``/``not_your_session`` 403, ``invalid_state`` 409, …).
    """

    access: Any = None
    token: str | None = None
    accounts: Accounts

    def _handle_request_exception(self, e: BaseException) -> None:
        from desk.errors import DeskError

        if isinstance(e, DeskError) and e.code != "internal":
            e = api_error_of(e)  # for its status; write_error maps the body
        super()._handle_request_exception(e)

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        from desk.errors import DeskError

        if isinstance(value, DeskError) and value.code != "internal":
            value = api_error_of(value)
        if isinstance(value, APIError):
            # An expected answer: one line at debug, no traceback.
            log.debug("api error", extra={"fields": {"status": value.status_code, "code": value.code}})
            return
        super().log_exception(typ, value, tb)

    def _take_accounts(self, accounts: Accounts) -> None:
        self.accounts = accounts

    # Typed as Tornado types it: each handler's ``initialize`` takes the collaborators its route
    # passes (the accounts, plus e.g. the desk), so subclasses' signatures differ by design.
    initialize: Callable[..., None] = _take_accounts

    async def prepare(self) -> None:
        if self.access == PUBLIC:
            return
        token = self._bearer_token()
        if not token:
            raise APIError(401, "unauthorized", "a Bearer token is required")
        from desk.accounts import AuthError

        try:
            self.current_user = await self.accounts.authenticate(token)
        except AuthError as exc:
            raise APIError(401, "unauthorized", str(exc)) from None
        self.token = token
        if isinstance(self.access, frozenset) and not self.access & set(self.current_user["roles"]):
            raise APIError(403, "forbidden", "your role does not allow this")

    def _bearer_token(self) -> str | None:
        header = self.request.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
        return None

    def has_role(self, *names: str) -> bool:
        return bool(self.current_user and set(names) & set(self.current_user["roles"]))


class APIHandler(BaseHandler):
    """JSON in, JSON out."""

    def set_default_headers(self) -> None:
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.set_header("Cache-Control", "no-store")
        self.set_header("X-Content-Type-Options", "nosniff")

    def json_body(self, array_ok: bool = False) -> Any:
        """The body as a JSON object (or, with ``array_ok``, an array too), else 400."""
        body = self.json_value()
        if not isinstance(body, dict) and not (array_ok and isinstance(body, list)):
            raise APIError(400, "invalid_json", "the body must be a JSON object" + (" or array" if array_ok else ""))
        return body

    def json_value(self) -> Any:
        """The body as any JSON value (a setting may be a list); 400 ``invalid_json`` otherwise."""
        try:
            body = parse_json(self.request.body or b"null")
        except InvalidJSON as exc:
            log.warning("invalid json body", extra={"fields": {"path": self.request.path, "reason": exc.reason,
                                                              "bytes": len(self.request.body)}})
            raise APIError(400, "invalid_json", f"the body is not valid JSON ({exc.reason})") from None
        return body

    def get_json_argument(self, body: dict[str, Any], name: str, kind: type, required: bool = True) -> Any:
        """``body[name]`` checked for type; 400 ``bad_field`` naming the field otherwise."""
        value = body.get(name)
        if value is None:
            if required:
                raise APIError(400, "bad_field", f"{name}: is required")
            return None
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
            raise APIError(400, "bad_field", f"{name}: has the wrong type")
        return value

    def decode_argument(self, value: bytes, name: str | None = None) -> str:
        # Tornado refuses bytes that are not UTF-8 with a 400 naming no field; the contract's
        # bad_field names the query argument (or the path) that carried them.
        try:
            return super().decode_argument(value, name)
        except tornado.web.HTTPError:
            field = name or "path"
            raise APIError(400, "bad_field", f"{field}: is not valid UTF-8", extra={"field": field}) from None

    def write_json(self, value: Any, status: int = 200) -> None:
        self.set_status(status)
        self.finish(json.dumps(value, ensure_ascii=False, default=str))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        from desk.errors import DeskError

        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, DeskError) and exc.code != "internal":
            exc = api_error_of(exc)
        extra: dict[str, Any] = {}
        if isinstance(exc, APIError):
            code, message, extra = exc.code, exc.message, exc.extra
            if exc.retry_after is not None:  # set here: send_error clears headers before write_error
                self.set_header("Retry-After", str(max(1, round(exc.retry_after))))
        else:
            code = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
                    405: "method_not_allowed", 409: "conflict", 413: "too_large",
                    429: "too_many_attempts"}.get(status_code, "internal")
            message = self._reason if status_code < 500 else "internal error"
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        error = {**extra, "code": code, "message": message}
        self.finish(json.dumps({"error": error}, ensure_ascii=False))


class JSONNotFoundHandler(APIHandler):
    access = PUBLIC

    def initialize(self, *_: Any, **__: Any) -> None:
        pass  # needs nothing: it answers 404

    async def prepare(self) -> None:
        raise APIError(404, "not_found", f"no such path: {self.request.path}")
