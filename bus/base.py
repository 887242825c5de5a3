"""The bus: how events reach the console connections of a user, wherever those connections live.

A bus numbers every event to a user with that user's next ``seq`` (1, 2, 3 … across reconnects),
keeps the recent ones for resume, and hands the envelope
``{"type": "event", "seq", "event", "data"}`` to every connection of that user (all tabs).
`bus.local.LocalBus` is the in-process bus; a Redis bus implements the same interface for several
processes. The desk only ever calls this interface.

A connection registered with a bus is a `BusConnection`: ``deliver`` must not block (it queues,
and the connection itself cuts off a client that stops reading), ``close_socket`` closes it.
"""

from __future__ import annotations

import abc
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Literal, Protocol, TypedDict

# How long and how many events a user's stream keeps for resume (docs/protocol.md).
RETENTION_SECS = 600.0
RETENTION_MAX_EVENTS = 1000

UserCallback = Callable[[str], Awaitable[None] | None]


class EventFrame(TypedDict):
    """The envelope of one event to one user, as the socket sends it (docs/protocol.md)."""

    type: Literal["event"]
    seq: int  # the user's stream position: 1, 2, 3 … across reconnects
    event: str  # e.g. "session_offered", "message"
    data: dict[str, Any]  # the event's payload, the desk's to shape


class BusConnection(Protocol):
    """What a bus needs of a connection."""

    #: id of the token the connection authenticated with (for logout/revocation), or None
    jti: str | None

    def deliver(self, frame: EventFrame) -> None:
        """Queue an event envelope for the client; never blocks."""

    def close_socket(self, code: int, reason: str) -> None:
        """Close the connection with a WebSocket close code."""


class Bus(abc.ABC):
    """Per-user event streams with sequence numbers, retention and fan-out to connections."""

    @abc.abstractmethod
    async def publish(self, user_ids: Iterable[str], event: str, data: dict[str, Any]) -> None:
        """Give the event the next seq of each user, retain it, deliver it to their connections."""

    @abc.abstractmethod
    def register(self, user_id: str, conn: BusConnection) -> int:
        """Attach a connection; from now on it receives the user's events. Returns the user's
        current seq as of the moment of registration (snapshot and subscribe are one step)."""

    @abc.abstractmethod
    def unregister(self, user_id: str, conn: BusConnection) -> None:
        """Detach the connection if it is still registered; a no-op otherwise."""

    @abc.abstractmethod
    async def current_seq(self, user_id: str) -> int:
        """The seq of the last event published to the user (0 if none yet)."""

    @abc.abstractmethod
    async def replay(self, user_id: str, after_seq: int) -> list[EventFrame] | None:
        """Retained envelopes with seq > ``after_seq``, in order; ``None`` when events after
        ``after_seq`` are no longer all retained (or the cursor is from the future): resync."""

    @abc.abstractmethod
    def disconnect_user(self, user_id: str, code: int, reason: str) -> int:
        """Close every connection of the user; returns how many."""

    @abc.abstractmethod
    def disconnect_token(self, jti: str, code: int, reason: str) -> int:
        """Close every connection opened with that token id; returns how many."""

    @abc.abstractmethod
    def close_all(self, code: int, reason: str) -> int:
        """Close every connection (shutdown); returns how many."""

    @abc.abstractmethod
    def connection_count(self, user_id: str | None = None) -> int:
        """Open connections of the user, or of everyone when ``user_id`` is None."""

    @abc.abstractmethod
    def online_user_ids(self) -> set[str]:
        """Users with at least one open connection."""

    @abc.abstractmethod
    def on_user_gone(self, callback: UserCallback) -> None:
        """Call ``callback(user_id)`` when a user's last connection closes."""

    @abc.abstractmethod
    def on_user_back(self, callback: UserCallback) -> None:
        """Call ``callback(user_id)`` when a user's first connection opens."""
