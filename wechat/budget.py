"""WeChat's limits on customer-service messages to one customer, as pure bookkeeping.

Since 2023 an Official Account may send a customer at most 5 customer-service messages within
48 hours of that customer's last message (each new message from the customer starts a fresh
48 hours and a fresh count of 5), and at most 3 within one minute after the customer follows the
account, scans a QR code or clicks a menu. The desk keeps one ``ReplyBudget`` per customer to
tell an agent *before* sending whether WeChat will accept a message; the simulator enforces the
same rules with the same class, so the two never disagree.

A send is charged to every allowance that is open at that moment (conservative: the desk would
rather say "no replies left" once too early than have WeChat refuse a message an agent wrote).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# After a customer message: this long ...
MESSAGE_WINDOW_SECS = 48 * 3600
# ... for this many messages.
MESSAGE_QUOTA = 5
# After a follow, QR scan or menu click: this long ...
EVENT_WINDOW_SECS = 60
# ... for this many messages.
EVENT_QUOTA = 3
# Events that open the short allowance (WeChat's spelling, as normalised by wechat.messages).
ALLOWANCE_EVENTS = frozenset({"subscribe", "SCAN", "CLICK"})

WINDOW_CLOSED = "window_closed"
QUOTA_USED = "quota_used"


@dataclass
class ReplyBudget:
    """What WeChat will still accept for one customer. Times are epoch seconds."""

    last_message_at: float | None = None
    sent_since_message: int = 0
    last_event_at: float | None = None
    sent_since_event: int = 0

    # -- customer side -----------------------------------------------------------------------
    def on_customer_message(self, now: float) -> None:
        """The customer wrote: a fresh 48 hours and a fresh count of 5."""
        self.last_message_at = now
        self.sent_since_message = 0

    def on_customer_event(self, kind: str, now: float) -> None:
        """A follow, scan or click gives 3 messages within a minute; other events give nothing."""
        if kind in ALLOWANCE_EVENTS:
            self.last_event_at = now
            self.sent_since_event = 0

    # -- account side ------------------------------------------------------------------------
    def _message_open(self, now: float) -> bool:
        return self.last_message_at is not None and now < self.last_message_at + MESSAGE_WINDOW_SECS

    def _event_open(self, now: float) -> bool:
        return self.last_event_at is not None and now < self.last_event_at + EVENT_WINDOW_SECS

    def check(self, now: float) -> tuple[bool, str | None]:
        """``(True, None)`` when WeChat accepts a message now, else ``(False, reason code)``."""
        message_open = self._message_open(now)
        event_open = self._event_open(now)
        if not message_open and not event_open:
            return False, WINDOW_CLOSED
        if (message_open and self.sent_since_message < MESSAGE_QUOTA) or (
            event_open and self.sent_since_event < EVENT_QUOTA
        ):
            return True, None
        return False, QUOTA_USED

    def record_send(self, now: float) -> None:
        """Charge one delivered message to every allowance open now."""
        if self._message_open(now):
            self.sent_since_message += 1
        if self._event_open(now):
            self.sent_since_event += 1

    @property
    def window_ends_at(self) -> float | None:
        """When the later of the two allowances ends (None when the customer never wrote)."""
        ends = []
        if self.last_message_at is not None:
            ends.append(self.last_message_at + MESSAGE_WINDOW_SECS)
        if self.last_event_at is not None:
            ends.append(self.last_event_at + EVENT_WINDOW_SECS)
        return max(ends) if ends else None

    def replies_left(self, now: float) -> int:
        left = 0
        if self._message_open(now):
            left = max(left, MESSAGE_QUOTA - self.sent_since_message)
        if self._event_open(now):
            left = max(left, EVENT_QUOTA - self.sent_since_event)
        return max(left, 0)

    # -- serialisation -----------------------------------------------------------------------
    def to_public(self, now: float) -> dict[str, Any]:
        """What the console shows next to a session."""
        ok, reason = self.check(now)
        return {
            "window_ends_at": self.window_ends_at,
            "replies_left": self.replies_left(now),
            "replies_max": MESSAGE_QUOTA,
            "can_reply": ok,
            "reason": reason,
        }

    def to_dict(self) -> dict[str, Any]:
        # Spelled out rather than dataclasses.asdict: this runs on every customer message.
        return {
            "last_message_at": self.last_message_at,
            "sent_since_message": self.sent_since_message,
            "last_event_at": self.last_event_at,
            "sent_since_event": self.sent_since_event,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> ReplyBudget:
        d = d or {}
        return cls(
            last_message_at=d.get("last_message_at"),
            sent_since_message=int(d.get("sent_since_message", 0)),
            last_event_at=d.get("last_event_at"),
            sent_since_event=int(d.get("sent_since_event", 0)),
        )
