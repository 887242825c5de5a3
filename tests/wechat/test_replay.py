"""The webhook's memory of signed (timestamp, nonce) pairs: binding, expiry and its bound."""

from __future__ import annotations

from wechat.replay import NonceMemory


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_a_pair_is_bound_to_its_first_message() -> None:
    memory = NonceMemory(300, Clock(1_700_000_000))
    assert memory.admit("1700000000", "n1", b"<xml>a</xml>")
    assert memory.admit("1700000000", "n1", b"<xml>a</xml>")  # WeChat's retry
    assert not memory.admit("1700000000", "n1", b"<xml>b</xml>")
    assert memory.admit("1700000000", "n2", b"<xml>b</xml>")  # another nonce is another pair
    assert memory.admit("1700000001", "n1", b"<xml>b</xml>")  # and so is another timestamp


def test_a_pair_is_forgotten_once_its_timestamp_leaves_the_window() -> None:
    clock = Clock(1_700_000_000)
    memory = NonceMemory(300, clock)
    memory.admit("1700000000", "n1", b"a")
    clock.now += 300
    assert not memory.admit("1700000000", "n1", b"b")  # still inside the window
    clock.now += 1
    memory.admit("1700000301", "n9", b"c")
    assert len(memory) == 1  # the stale pair was dropped (the skew check refuses its timestamp now)


def test_memory_is_bounded_and_forgets_the_oldest_pairs_first() -> None:
    memory = NonceMemory(300, Clock(1_700_000_000), max_pairs=3)
    for n in range(5):
        assert memory.admit("1700000000", f"n{n}", b"first")
    assert len(memory) == 3
    assert memory.admit("1700000000", "n0", b"other")  # forgotten early: the documented gap
    assert not memory.admit("1700000000", "n4", b"other")  # the newest are still bound


def test_timestamps_that_are_not_numbers_are_remembered_for_the_window() -> None:
    clock = Clock(1_700_000_000)
    memory = NonceMemory(0, clock)  # --wechat-max-skew 0: timestamps unchecked
    assert memory.admit("not-a-number", "n", b"a")
    assert memory.admit("9" * 400, "n", b"a")
    assert not memory.admit("not-a-number", "n", b"b")
