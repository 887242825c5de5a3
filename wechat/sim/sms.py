"""Text messages (短信) the simulated customers' phones receive: the demo bank's verification codes.

Not part of WeChat: a bank sends its codes by SMS to the phone number it has on file. The
simulator page shows each one on the phone of the customer who asked for it, the way a phone
shows an incoming text (a banner and a list), so a person playing the customer can read the
code and type it back into the chat. Tests read :attr:`SmsInbox.messages` instead.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

# A demo that runs for days keeps only the newest texts.
MAX_MESSAGES = 500


class SmsInbox:
    def __init__(self, broadcast: Callable[[dict[str, Any]], None], clock: Callable[[], float] = time.time) -> None:
        self._broadcast = broadcast
        self._clock = clock
        self.messages: list[dict[str, Any]] = []

    def deliver(self, phone: str, text: str, openid: str) -> None:
        """A text to ``phone``, sent because the customer ``openid`` asked for it in the chat."""
        event = {"kind": "sms", "phone": phone, "text": text, "openid": openid, "ts": self._clock()}
        self.messages.append(event)
        del self.messages[:-MAX_MESSAGES]
        self._broadcast(event)

    def of(self, openid: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m["openid"] == openid]
