"""One console socket's protocol: hello/auth, welcome and resume, envelopes, seq, limits, the writer.

Commands are not known here: each frame goes to the desk's one entry, ``desk.command(user, type,
frame, connection key)``, whose registry (`desk.commands`) checks roles and values.

`ConsoleConnection` knows nothing of Tornado: it is given ``send(data)`` (one text frame as
UTF-8 bytes; plain or returning an awaitable, awaited by its single writer task) and
``close(code, reason)``, so tests drive it with a list. The socket handler creates one per socket
and forwards ``on_message``/``on_close``.

Backpressure: the writer sends one frame at a time and waits until the socket took it, so what a
client has not read yet waits in this connection's queue, counted in bytes. Past
``outbound_max_bytes`` (or ``outbound_max_frames``) the socket is closed with 4009 and the queue
dropped: a client that stops reading costs a bounded amount of memory and never holds up others.

Ordering guarantees: the connection registers with the bus *before* it reads the user's seq and
the replay, and holds live events in a buffer until the welcome (and any replay) is queued; the
buffer is then flushed skipping every seq already sent. So an event published at any moment of
the handshake is delivered exactly once and in order.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from desk import frames
from desk.errors import AuthError, DeskError
from desk.token_bucket import TokenBucket
from kefu_json import InvalidJSON, parse_json
from store.records import PublicUser

log = logging.getLogger("kefu.socket")

@dataclass(frozen=True)
class ConnectionSettings:
    # The client must authenticate quickly; an idle unauthenticated socket is only a cost.
    hello_timeout_secs: float = 5.0
    # 20 frames/s sustained with bursts of 40: far above a person typing, far below a flood.
    rate_per_sec: float = 20.0
    rate_burst: float = 40.0
    # 1,000 frames is minutes of normal traffic; a client this far behind has stopped reading.
    outbound_max_frames: int = 1000
    # Bytes a socket may hold for a client that is not reading (the frame being written
    # included), past which it is closed with 4009. Without a byte bound, 1,000 frames of long
    # transcripts were 768 MiB for one socket. 4 MiB is thousands of ordinary events (a message
    # event is under 1 KiB) and several full monitor results, so a console that reads never
    # comes near it, and 8 sockets per user × 4 MiB stays small next to the process. A single
    # frame larger than this is still sent when nothing else waits (a welcome with long
    # transcripts must not lock an agent out).
    outbound_max_bytes: int = 4 * 1024 * 1024
    max_sockets_per_user: int = 8
    # The heartbeat the welcome asks of clients: a ping every 5 s, and a socket that brought no
    # frame for 15 s is dead. A cut network leaves a socket "open" in the browser for minutes
    # (TCP only notices on a write timeout), and an agent must know within seconds that what
    # they type is not reaching anyone.
    heartbeat_interval_secs: float = 5.0
    heartbeat_timeout_secs: float = 15.0
    clock: Callable[[], float] = field(default=time.monotonic)


# The one command the protocol answers itself (a heartbeat); every other goes to the desk.
PING = "ping"


# -- the connection ------------------------------------------------------------------------------

class ConsoleConnection:
    """The protocol of one console socket. States: waiting for hello → starting → live → closed."""

    def __init__(self, send: Callable[[bytes], Any], close: Callable[[int, str], Any], accounts: Any,
                 bus: Any, desk: Any, settings: ConnectionSettings | None = None, metrics: Any = None) -> None:
        self._send = send
        self._close_socket = close
        self.accounts = accounts
        self.bus = bus
        self.desk = desk
        self.settings = settings or ConnectionSettings()
        self.metrics = metrics  # desk.metrics.Metrics or None
        self.key = uuid.uuid4().hex  # this connection's id for desk subscriptions and monitors
        self.user: PublicUser | None = None
        self.jti: str | None = None
        self.closed = False
        self._hello_seen = False
        self._registered = False
        self._live = False
        self._last_seq = 0  # highest event seq queued to this client
        self._held: list[dict[str, Any]] = []  # live events that arrived during the handshake
        self._outbound: deque[bytes] = deque()
        self._outbound_bytes = 0  # bytes in _outbound plus the frame the writer is sending
        self._wakeup = asyncio.Event()
        self._ready = asyncio.Event()  # set once welcome is queued; commands wait for it
        self._bucket = TokenBucket(self.settings.rate_per_sec, self.settings.rate_burst, self.settings.clock)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._writer: asyncio.Task[None] | None = None
        self._hello_timer: asyncio.TimerHandle | None = None

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> None:
        """Call once the socket is open: starts the writer and the hello timer."""
        loop = asyncio.get_running_loop()
        self._writer = loop.create_task(self._write_loop())
        self._hello_timer = loop.call_later(self.settings.hello_timeout_secs, self._hello_timed_out)

    def _hello_timed_out(self) -> None:
        if not self._ready.is_set() and not self.closed:
            self.close_socket(frames.CLOSE_AUTH_FAILED, "no hello in time")

    def close_socket(self, code: int, reason: str) -> None:
        """Close the socket (bus callback too). Stops the writer at once: nothing waits for a slow client."""
        if self.closed:
            return
        self._shutdown()
        log.info("socket closed by server", extra={"fields": {"code": code, "reason": reason,
                                                               "user_id": self.user and self.user["id"]}})
        try:
            self._close_socket(code, reason)
        except Exception:
            log.exception("socket close failed")
        self._release_socket()

    def on_close(self) -> None:
        """The socket is gone (client closed, network, or after close_socket)."""
        if not self.closed:
            self._shutdown()
        self._release_socket()

    def _release_socket(self) -> None:
        # The socket handler and this connection point at each other; dropping our side lets
        # reference counting free both at once instead of leaving the pair to a full GC pass,
        # which with thousands of sockets open pauses the whole loop for a few hundred ms.
        self._send = self._close_socket = _socket_gone

    def _shutdown(self) -> None:
        self.closed = True
        if self._hello_timer is not None:
            self._hello_timer.cancel()
            self._hello_timer = None
        # The writer is woken to see `closed` and return, not cancelled: a cancelled task keeps
        # its CancelledError, whose traceback holds the writer's frame and so this connection,
        # in a reference cycle only the cyclic GC can free.
        self._wakeup.set()
        for task in list(self._tasks):
            if task is not _current_task():
                task.cancel()
        self._outbound.clear()
        self._outbound_bytes = 0
        self._held.clear()
        if self._registered and self.user is not None:
            self._registered = False
            self.bus.unregister(self.user["id"], self)
            user = self.user
            self._spawn(self._connection_closed(user), track=False)

    async def _connection_closed(self, user: PublicUser) -> None:
        try:
            await self.desk.connection_closed(user, self.key)
        except Exception:
            log.exception("desk.connection_closed failed")

    # -- outbound ---------------------------------------------------------------------------------

    @property
    def outbound_bytes(self) -> int:
        """Bytes waiting for this client (the frame being written included)."""
        return self._outbound_bytes

    def _queue(self, frame: dict[str, Any]) -> None:
        if self.closed:
            return
        data = frames.encode(frame).encode("utf-8")
        if len(self._outbound) >= self.settings.outbound_max_frames:
            self._too_slow(f"more than {self.settings.outbound_max_frames} frames waiting")
            return
        if self._outbound_bytes and self._outbound_bytes + len(data) > self.settings.outbound_max_bytes:
            self._too_slow(f"more than {self.settings.outbound_max_bytes} bytes waiting")
            return
        self._outbound.append(data)
        self._outbound_bytes += len(data)
        self._wakeup.set()

    def _too_slow(self, why: str) -> None:
        """The client stopped reading: close with 4009; `_shutdown` drops what was queued."""
        log.warning("socket too slow", extra={"fields": {"user_id": self.user and self.user["id"], "why": why,
                                                         "outbound_bytes": self._outbound_bytes}})
        if self.metrics is not None:
            self.metrics.socket_too_slow()
        self.close_socket(frames.CLOSE_TOO_SLOW, "client too slow: outbound queue full")

    def deliver(self, frame: dict[str, Any]) -> None:
        """Bus → client. Held during the handshake; de-duplicated by seq."""
        if self.closed:
            return
        if not self._live:
            if len(self._held) >= self.settings.outbound_max_frames:
                self._too_slow(f"more than {self.settings.outbound_max_frames} frames during the handshake")
                return
            self._held.append(frame)
            return
        if frame["seq"] <= self._last_seq:
            return
        self._last_seq = frame["seq"]
        self._queue(frame)

    async def _write_loop(self) -> None:
        try:
            while not self.closed:
                while self._outbound:
                    data = self._outbound.popleft()
                    result = self._send(data)
                    if inspect.isawaitable(result):
                        await result  # the socket took it: the client is reading
                    if self.closed:  # closed while the client held up that write (4009)
                        return
                    self._outbound_bytes -= len(data)
                    del data
                self._wakeup.clear()
                if not self._outbound:
                    await self._wakeup.wait()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the socket went away under us (WebSocketClosedError, …)
            log.debug("socket write failed", extra={"fields": {"error": type(exc).__name__}})
            self.on_close()

    # -- inbound ----------------------------------------------------------------------------------

    def on_message(self, text: str | bytes) -> None:
        """One client frame. Never raises; each command runs as its own task."""
        if self.closed:
            return
        if not self._hello_seen:
            self._hello_seen = True
            msg = _parse(text)
            if not isinstance(msg, dict) or msg.get("type") != "hello":
                self.close_socket(frames.CLOSE_AUTH_FAILED, "the first frame must be hello")
                return
            self._spawn(self._hello(msg))
            return
        if not self._bucket.take():
            msg = _parse(text)
            frame_id = msg.get("id") if isinstance(msg, dict) and _is_id(msg.get("id")) else None
            self._queue(frames.result_error(frame_id, "rate_limited", "too many frames; slow down"))
            return
        msg = _parse(text)
        if isinstance(msg, _Invalid):
            log.warning("invalid json frame", extra={"fields": {"reason": msg.reason, "chars": len(text)}})
            self._queue(frames.result_error(None, "invalid_json", f"the frame is not valid JSON ({msg.reason})"))
            return
        if not isinstance(msg, dict):
            self._queue(frames.result_error(None, "bad_request", "a frame is a JSON object"))
            return
        frame_id = msg.get("id")
        if not isinstance(frame_id, int) or isinstance(frame_id, bool):
            self._queue(frames.result_error(None, "bad_request", "id is required and must be a whole number"))
            return
        kind = msg.get("type")
        if not isinstance(kind, str) or not kind:
            self._queue(frames.result_error(frame_id, "bad_request", "type is required"))
            return
        self._spawn(self._run(kind, frame_id, msg))

    async def _run(self, kind: str, frame_id: int, msg: dict[str, Any]) -> None:
        await self._ready.wait()  # frames sent right behind hello wait for the welcome
        user = self.user
        assert user is not None
        try:
            if kind == PING:
                result: Any = {"ts": time.time()}
            else:  # the desk's one entry: its registry checks roles and values (desk.commands)
                result = await self.desk.command(user, kind, msg, self.key)
            frame = frames.result_ok(frame_id, result if isinstance(result, dict) else {})
        except asyncio.CancelledError:
            raise
        except DeskError as exc:
            frame = frames.result_of_exception(frame_id, exc)
        except Exception as exc:
            log.exception("command failed", extra={"fields": {"type": kind, "user_id": user["id"]}})
            frame = frames.result_of_exception(frame_id, exc)
        self._queue(frame)

    async def _hello(self, msg: dict[str, Any]) -> None:
        resume = msg.get("resume")
        try:
            user, claims = await self.accounts.authenticate_token(msg.get("token"))
        except AuthError as exc:
            self.close_socket(frames.CLOSE_AUTH_FAILED, exc.message)
            return
        if self.closed:
            return
        self.user, self.jti = user, claims["jti"]
        user_id = user["id"]
        if self.bus.connection_count(user_id) >= self.settings.max_sockets_per_user:
            self.close_socket(frames.CLOSE_TOO_MANY_SOCKETS,
                              f"at most {self.settings.max_sockets_per_user} sockets per user")
            return
        # Register first: from here every new event is held in self._held, so none is lost
        # between the seq/replay snapshot below and going live.
        self.bus.register(user_id, self)
        self._registered = True
        seq = await self.bus.current_seq(user_id)
        replayed: list[dict[str, Any]] | None = []
        if isinstance(resume, int) and not isinstance(resume, bool):
            replayed = await self.bus.replay(user_id, resume)
        body = await self.desk.welcome(user)
        if self.closed:
            return
        welcome = frames.welcome(user, seq, body or {})
        welcome["heartbeat"] = {"interval_s": self.settings.heartbeat_interval_secs,
                                "timeout_s": self.settings.heartbeat_timeout_secs}
        self._queue(welcome)
        self._last_seq = seq
        if replayed is None:
            self._queue(frames.resync(seq, welcome))
        else:
            for frame in replayed:
                if frame["seq"] > resume:  # type: ignore[operator]
                    self._queue(frame)
            if replayed:
                self._last_seq = max(seq, replayed[-1]["seq"])
        held, self._held = self._held, []
        self._live = True
        for frame in held:
            self.deliver(frame)
        self._ready.set()
        log.info("socket authenticated", extra={"fields": {"user_id": user_id, "seq": seq,
                                                            "resume": resume, "replayed":
                                                            None if replayed is None else len(replayed)}})

    def _spawn(self, coro: Awaitable[Any], track: bool = True) -> None:
        task = asyncio.ensure_future(coro)
        if track:
            self._tasks.add(task)
            task.add_done_callback(self._task_done)
        else:
            _background.add(task)
            task.add_done_callback(_background.discard)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            log.error("socket task failed", exc_info=exc)
            self.close_socket(1011, "internal error")


@dataclass(frozen=True)
class _Invalid:
    """What ``_parse`` returns for a frame that is not JSON."""

    reason: str
_background: set[asyncio.Task[Any]] = set()


def _is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)  # JSON true is not a number


def _parse(text: str | bytes) -> Any:
    try:
        return parse_json(text)
    except InvalidJSON as exc:
        return _Invalid(exc.reason)


def _socket_gone(*args: Any) -> None:
    """What a closed connection's send and close become."""
    return None


def _current_task() -> asyncio.Task[Any] | None:
    try:
        return asyncio.current_task()
    except RuntimeError:
        return None
