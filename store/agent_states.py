"""How both stores cut an agent-state interval into the pieces they keep (reports, 运营报表)."""

from __future__ import annotations

import math

from .records import AGENT_STATE_PIECE_SECS


def pieces(start_at: float, end_at: float) -> list[tuple[float, float]]:
    """``[start_at, end_at)`` cut at multiples of `AGENT_STATE_PIECE_SECS`: a range's report
    then finds every piece that overlaps it among those starting at most one piece before it."""
    out = []
    while True:
        edge = (math.floor(start_at / AGENT_STATE_PIECE_SECS) + 1) * AGENT_STATE_PIECE_SECS
        if edge >= end_at:
            out.append((start_at, end_at))
            return out
        out.append((start_at, edge))
        start_at = edge
