"""The desk's errors: one exception family with stable wire codes and words a person understands.

Every error the desk raises on purpose is a :class:`DeskError` carrying ``code`` (one of the
stable codes of docs/protocol.md) and ``message`` (safe to show to the user; never internals).
The socket answers it as ``{"ok": false, "error": {"code", "message"}}`` and the REST layer as
``{"error": {"code", "message"}}`` with an HTTP status; both take code, message and status from
the one map :func:`wire_error` (through :data:`HTTP_STATUS`).
"""

from __future__ import annotations

# The socket's error codes (docs/protocol.md, "Envelopes") plus the HTTP-only ones.
ERROR_CODES = frozenset({
    "invalid_json", "bad_request", "unknown_type", "forbidden", "not_found", "not_your_session", "not_your_customer",
    "invalid_state", "reply_window_closed", "reply_quota_used", "rate_limited", "internal",
    "unauthorized", "bad_credentials", "too_many_attempts", "bad_field", "exists", "wechat_error",
    "customer_unsubscribed",  # notifications: WeChat's 43004, the customer unfollowed the account
})

# What each code answers over HTTP. Anything not listed is a 400.
HTTP_STATUS: dict[str, int] = {
    "invalid_json": 400, "bad_request": 400, "bad_field": 400, "unknown_type": 400,
    "unauthorized": 401, "bad_credentials": 401,
    "forbidden": 403, "not_your_session": 403, "not_your_customer": 403,
    "not_found": 404,
    "invalid_state": 409, "exists": 409, "reply_window_closed": 409, "reply_quota_used": 409,
    "agent_away": 409, "agent_offline": 409, "agent_busy": 409,  # the agent cannot take it now (REST assign)
    "customer_unsubscribed": 409,
    "too_many_attempts": 429, "rate_limited": 429,
    "internal": 500,
    "wechat_error": 502,  # WeChat refused or did not answer a call made for the caller
}


# What a caller is told of a failure that was not expected: never the internals.
INTERNAL_MESSAGE = "something went wrong on the server; it has been logged"


def wire_error(exc: BaseException) -> tuple[str, str, int]:
    """The one map from an exception to what the socket and HTTP answer: ``(code, message,
    HTTP status)``. Anything that is not a `DeskError` is ``internal``."""
    if isinstance(exc, DeskError):
        return exc.code, exc.message, exc.http_status
    return "internal", INTERNAL_MESSAGE, 500


class DeskError(Exception):
    """An expected failure with a stable ``code`` and a human ``message``; ``extra``: more fields
    of the wire error for a program to read (``field`` of a ``bad_field``, WeChat's ``errcode``)."""

    code: str = "internal"
    extra: dict[str, object] = {}  # noqa: RUF012 - read only; instances set their own

    def __init__(self, code: str | None = None, message: str = "") -> None:
        if code is not None:
            self.code = code
        self.message = message or self.code.replace("_", " ")
        super().__init__(self.message)

    @property
    def http_status(self) -> int:
        return HTTP_STATUS.get(self.code, 400)


class _Coded(DeskError):
    """Base of the subclasses whose code is fixed: construct them with the message only."""

    def __init__(self, message: str = "") -> None:
        super().__init__(None, message)


class BadRequest(_Coded):
    code = "bad_request"


class Forbidden(_Coded):
    code = "forbidden"


class NotFoundError(_Coded):
    code = "not_found"


class NotYourSession(_Coded):
    code = "not_your_session"


class InvalidState(_Coded):
    code = "invalid_state"


class ReplyWindowClosed(_Coded):
    code = "reply_window_closed"


class ReplyQuotaUsed(_Coded):
    code = "reply_quota_used"


class RateLimited(_Coded):
    code = "rate_limited"


class Exists(_Coded):
    """A record with that unique value (a username) already exists (HTTP 409)."""

    code = "exists"


class AuthError(_Coded):
    """The token or the credentials are not acceptable (HTTP 401, socket close 4001)."""

    code = "unauthorized"


class BadCredentials(AuthError):
    code = "bad_credentials"


class ValidationError(DeskError):
    """A field of a request is missing or wrong; ``field`` names it."""

    code = "bad_field"

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.extra = {"field": field}
        super().__init__(None, f"{field}: {message}")


class WeChatRefused(DeskError):
    """WeChat answered an API call made for the caller with an error (HTTP 502): ``errcode`` is
    WeChat's code, the message says what it means."""

    code = "wechat_error"

    def __init__(self, errcode: int, message: str) -> None:
        self.errcode = errcode
        self.extra = {"errcode": errcode}
        super().__init__(None, message)


class ThrottledError(DeskError):
    """Too many failed logins for that username; try again after ``retry_after`` seconds."""

    code = "too_many_attempts"

    def __init__(self, retry_after: float) -> None:
        self.retry_after = max(0.0, float(retry_after))
        super().__init__(None, f"too many failed attempts; try again in {max(1, round(self.retry_after))} s")
