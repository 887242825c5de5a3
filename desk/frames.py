"""Every frame the console socket sends, built in one place, and the one exception → error mapping.

Envelopes (docs/protocol.md): ``result`` (ok or error, answering a client ``id``), ``event``
(a push with the user's ``seq``) and ``welcome`` (the answer to ``hello``). Close codes are
named here so the connection, the bus and the accounts agree on them.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from desk.errors import INTERNAL_MESSAGE, DeskError, wire_error
from store.records import PublicUser

log = logging.getLogger("kefu.frames")

CLOSE_GOING_AWAY = 1001  # server shutting down
CLOSE_TOO_BIG = 1009  # frame over the size limit (Tornado closes with it by itself)
CLOSE_AUTH_FAILED = 4001  # no hello in time, bad/expired/revoked token, disabled user
CLOSE_TOO_MANY_SOCKETS = 4008
CLOSE_TOO_SLOW = 4009  # the outbound queue overflowed: the client stopped reading
CLOSE_REVOKED = 4010  # logged out, token revoked, user disabled or roles changed

# A console's own id for a message it sends (a UUID is 36): long enough for any scheme, short
# enough that it never weighs on a frame.
CLIENT_ID_MAX_CHARS = 64


def result_ok(frame_id: int | None, result: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"type": "result", "id": frame_id, "ok": True, "result": result if result is not None else {}}


__all__ = ["INTERNAL_MESSAGE", "error_of", "result_of_exception"]


def result_error(frame_id: int | None, code: str, message: str) -> dict[str, Any]:
    return {"type": "result", "id": frame_id, "ok": False, "error": {"code": code, "message": message}}


def event(seq: int, name: str, data: dict[str, Any]) -> dict[str, Any]:
    return {"type": "event", "seq": seq, "event": name, "data": data}


def welcome(user: PublicUser, seq: int, body: dict[str, Any]) -> dict[str, Any]:
    """``body`` is what ``desk.welcome(user)`` returned: sessions, presence, offers."""
    frame: dict[str, Any] = {"type": "welcome", "user": user, "seq": seq}
    frame.update({k: v for k, v in body.items() if k not in frame})
    frame.setdefault("sessions", [])
    return frame


def resync(seq: int, welcome_frame: dict[str, Any]) -> dict[str, Any]:
    """The event that tells a resuming client its cursor fell out of retention."""
    return event(seq, "resync", {k: v for k, v in welcome_frame.items() if k != "type"})


def error_of(exc: BaseException) -> tuple[str, str]:
    """The stable (code, message) of an exception; anything unexpected is ``internal``."""
    code, message, _status = wire_error(exc)
    return code, message


def result_of_exception(frame_id: int | None, exc: BaseException) -> dict[str, Any]:
    code, message = error_of(exc)
    frame = result_error(frame_id, code, message)
    if isinstance(exc, DeskError) and exc.extra:  # a program reads them: the bad field, the alternatives
        frame["error"].update({k: v for k, v in exc.extra.items() if k not in ("code", "message")})
    return frame


def encode(frame: dict[str, Any]) -> str:
    return json.dumps(frame, ensure_ascii=False, separators=(",", ":"), default=str)
