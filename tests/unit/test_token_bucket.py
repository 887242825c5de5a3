"""desk/token_bucket.py: the socket's inbound rate, against an injected clock."""

from __future__ import annotations

from desk.token_bucket import TokenBucket


def test_a_bucket_gives_its_burst_then_refills_at_its_rate_never_above_the_burst() -> None:
    now = {"t": 0.0}
    bucket = TokenBucket(rate=2.0, burst=3.0, clock=lambda: now["t"])
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]
    now["t"] = 0.5  # one token back
    assert [bucket.take() for _ in range(2)] == [True, False]
    now["t"] = 100.0  # a long quiet spell refills to the burst, no more
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]
