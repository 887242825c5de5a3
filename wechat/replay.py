"""Webhook replay protection: each signed ``(timestamp, nonce)`` is bound to one message.

Plain mode's ``signature`` covers only the token, ``timestamp`` and ``nonce``, not the body, so
anyone who sees one signed URL could post any message with it for as long as the timestamp is
fresh (``--wechat-max-skew``). :class:`NonceMemory` remembers, for that window, a digest of the
message each pair first carried: the same pair again with the same message is WeChat retrying
(accepted; the desk de-duplicates it), the same pair with another message is a forgery.

Memory is bounded: at most ``max_pairs`` pairs are kept (about 300 bytes each), and a pair is
dropped as soon as its timestamp leaves the window, so the memory held is the message rate times
the window. Past that the
oldest pairs are forgotten before their window ends, which re-opens replay for just those pairs;
the default bound covers 333 messages a second over a 300 s window. The memory is per process.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable

# 100,000 pairs: about 30 MB at most (measured ~290 B a pair), and 333 messages/s sustained
# over the default 300 s skew window before a pair is forgotten early.
DEFAULT_MAX_PAIRS = 100_000
# With --wechat-max-skew 0 (timestamps not checked) a pair is still remembered this long.
UNCHECKED_WINDOW_SECS = 300


class NonceMemory:
    """Remembers which message each ``(timestamp, nonce)`` carried, for the skew window."""

    def __init__(self, window_secs: int, clock: Callable[[], float], max_pairs: int = DEFAULT_MAX_PAIRS) -> None:
        self.window_secs = window_secs or UNCHECKED_WINDOW_SECS
        self.max_pairs = max_pairs
        self._clock = clock
        # "timestamp\nnonce" -> (digest of the message, time after which the pair is stale)
        self._pairs: OrderedDict[str, tuple[bytes, float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._pairs)

    def admit(self, timestamp: str, nonce: str, message: bytes) -> bool:
        """True when this pair is new (now remembered) or carried this same message before;
        False when it carried another message (a replayed signature with a forged body)."""
        now = self._clock()
        self._forget_stale(now)
        key = f"{timestamp}\n{nonce}"
        digest = hashlib.blake2b(message, digest_size=16).digest()
        seen = self._pairs.get(key)
        if seen is not None and seen[1] >= now:
            return seen[0] == digest
        # A pair is usable until its timestamp leaves the window; with no usable timestamp,
        # from now on (the skew check, when on, has already refused such a call).
        try:
            stale_after = float(int(timestamp)) + self.window_secs
        except (ValueError, OverflowError):
            stale_after = now + self.window_secs
        self._pairs[key] = (digest, max(stale_after, now + 1.0))
        self._pairs.move_to_end(key)
        while len(self._pairs) > self.max_pairs:
            self._pairs.popitem(last=False)
        return True

    def _forget_stale(self, now: float) -> None:
        # Pairs arrive roughly in timestamp order, so the stale ones gather at the front.
        pairs = self._pairs
        while pairs:
            key, (_, stale_after) = next(iter(pairs.items()))
            if stale_after >= now:
                return
            del pairs[key]
