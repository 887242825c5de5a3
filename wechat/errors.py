"""Errors of the WeChat channel.

Inbound problems (a body that is not a WeChat message, a bad signature, a message for another
AppID) and outbound API errors. Every API error carries WeChat's numeric ``code`` and ``errmsg``
plus ``human``: a sentence an agent or an operator understands, shown in the console as the
reason a message could not be delivered.
"""

from __future__ import annotations


class MalformedMessage(ValueError):
    """The body is not a WeChat message we accept (not XML, DTD, wrong root, missing field...)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class InvalidSignature(ValueError):
    """The request's signature (or msg_signature) does not match our Token."""


class InvalidAppId(ValueError):
    """An encrypted message was sealed for another AppID."""


# Human sentences for the codes an agent meets in practice. Anything else falls back to a
# generic sentence that still names the code so an operator can look it up.
_HUMAN: dict[int, str] = {
    -1: "WeChat is busy right now; the message will be retried.",
    40001: "The WeChat access token was rejected; Kefu will fetch a new one.",
    40003: "This openid does not belong to the Official Account.",
    40013: "The AppID is not valid: check --wechat-appid.",
    40014: "The WeChat access token is malformed; Kefu will fetch a new one.",
    40125: "The AppSecret is wrong: check --wechat-secret.",
    40164: "This server's IP address is not on the Official Account's IP whitelist.",
    42001: "The WeChat access token has expired; Kefu will fetch a new one.",
    40037: "WeChat does not know this template_id: add the template to the Official Account first.",
    43004: "The customer has unfollowed the Official Account.",
    44002: "The message was empty.",
    45002: "The message is too long for WeChat.",
    45009: "The Official Account has reached today's API call limit.",
    47003: "WeChat refused a template field's value (too long, or not the field's kind).",
    45015: (
        "The customer's 48-hour reply window has closed: WeChat accepts no more messages "
        "until the customer writes again."
    ),
    45047: (
        "The reply limit for this customer is used up: WeChat accepts no more messages "
        "until the customer writes again."
    ),
    46003: "The Official Account has no custom menu.",
    47001: "WeChat could not read the request (data format error).",
    48001: "The Official Account is not authorised to use this WeChat API.",
    # Custom menu (menu/create): the button that WeChat refused.
    40016: "WeChat refused the menu: it needs 1 to 3 top-level buttons.",
    40017: "WeChat refused the menu: a top-level button has a type it does not accept.",
    40018: "WeChat refused the menu: a top-level button's name is empty or longer than 16 bytes.",
    40019: "WeChat refused the menu: a top-level button's key is empty or longer than 128 bytes.",
    40020: "WeChat refused the menu: a top-level button's link is empty or longer than 1024 bytes.",
    40023: "WeChat refused the menu: a button has more than 5 sub-buttons.",
    40024: "WeChat refused the menu: a sub-button has a type it does not accept.",
    40025: "WeChat refused the menu: a sub-button's name is empty or longer than 60 bytes.",
    40026: "WeChat refused the menu: a sub-button's key is empty or longer than 128 bytes.",
    40027: "WeChat refused the menu: a sub-button's link is empty or longer than 1024 bytes.",
    40054: "WeChat refused the menu: a sub-button links to a domain it does not accept.",
    40055: "WeChat refused the menu: a top-level button links to a domain it does not accept.",
}


class WeChatAPIError(Exception):
    """WeChat answered an API call with a non-zero errcode."""

    def __init__(self, code: int, errmsg: str = "") -> None:
        self.code = int(code)
        self.errmsg = errmsg or ""
        super().__init__(f"WeChat API error {self.code}: {self.errmsg}")

    @property
    def human(self) -> str:
        """A sentence a person understands, for the console and the logs."""
        return _HUMAN.get(self.code, f"WeChat refused the request (error {self.code}: {self.errmsg}).")


class WindowClosedError(WeChatAPIError):
    """45015: the 48-hour customer-service window is closed."""


class ReplyQuotaError(WeChatAPIError):
    """45047: the per-customer-message reply quota is used up."""


class WeChatBusyError(WeChatAPIError):
    """-1: WeChat's system is busy; worth retrying."""


class InvalidTokenError(WeChatAPIError):
    """40001 / 42001 / 40014: the access token is invalid, expired or malformed."""


class WeChatUnreachableError(WeChatAPIError):
    """No usable answer from WeChat at all (network error, timeout, HTTP error, not JSON).

    ``code`` is ``UNREACHABLE_CODE`` (-2, which WeChat itself never uses); whether the message
    reached WeChat is unknown, so the client does not retry sends on it.
    """

    def __init__(self, errmsg: str) -> None:
        super().__init__(UNREACHABLE_CODE, errmsg)

    @property
    def human(self) -> str:
        return f"Kefu could not reach WeChat ({self.errmsg}); the message may not have been delivered."


UNREACHABLE_CODE = -2


TOKEN_ERROR_CODES = frozenset({40001, 42001, 40014})

_BY_CODE: dict[int, type[WeChatAPIError]] = {
    45015: WindowClosedError,
    45047: ReplyQuotaError,
    -1: WeChatBusyError,
    **{code: InvalidTokenError for code in TOKEN_ERROR_CODES},
}


def api_error(code: int, errmsg: str = "") -> WeChatAPIError:
    """Build the most specific exception for a WeChat errcode."""
    cls = _BY_CODE.get(int(code), WeChatAPIError)
    return cls(code, errmsg)
