"""The survey's answer rules and the wall's CSAT tally, with no server."""

from __future__ import annotations

import pytest

from desk.satisfaction import HOUR_SECS, CsatTally, local_midnight, parse_answer


@pytest.mark.parametrize(("text", "answer"), [
    ("5", (5, None)), ("1", (1, None)), (" 3 ", (3, None)), ("４", (4, None)), ("5分", (5, None)),
    ("5。", (5, None)), ("非常满意", (5, None)), ("满意", (4, None)), ("一般", (3, None)),
    ("不满意", (2, None)), ("非常不满意", (1, None)), ("满意！", (4, None)),
    ("4 回复很快", (4, "回复很快")), ("2，等太久了", (2, "等太久了")), ("非常满意，谢谢", (5, "谢谢")),
])
def test_answers(text: str, answer: tuple[int, str | None]) -> None:
    assert parse_answer(text) == answer


@pytest.mark.parametrize("text", ["0", "6", "10", "12345", "好", "我不满意你们的服务态度", "满意度是什么", "",
                                  None, "5号能办吗", "3d"])
def test_not_answers(text: str | None) -> None:
    assert parse_answer(text) is None


def test_the_tally_counts_today_and_the_last_hour_per_skill() -> None:
    noon = local_midnight(1_800_000_000.0) + 12 * HOUR_SECS
    now = {"t": noon}
    tally = CsatTally(lambda: now["t"])
    tally.add({"id": "s1", "skill": "general", "csat": {"score": 5, "at": noon - 10}})  # type: ignore[typeddict-item]
    tally.add({"id": "s2", "skill": "general", "csat": {"score": 2, "at": noon - 2 * HOUR_SECS}})  # type: ignore[typeddict-item]
    tally.add({"id": "s3", "skill": "cards", "csat": {"score": 4, "at": noon - 13 * HOUR_SECS}})  # type: ignore[typeddict-item]  # yesterday
    tally.add({"id": "s4", "skill": "cards"})  # type: ignore[typeddict-item]  # not rated: ignored
    figures = tally.figures()
    assert figures["general"] == {"today": {"avg": 3.5, "count": 2}, "hour": {"avg": 5.0, "count": 1}}
    assert "cards" not in figures  # only yesterday's score
    tally.add({"id": "s1", "skill": "general", "csat": {"score": 3, "at": noon - 5}})  # type: ignore[typeddict-item]  # the same session again
    assert tally.figures()["general"]["today"] == {"avg": 2.5, "count": 2}
    now["t"] = noon + 2 * HOUR_SECS
    assert tally.figures()["general"]["hour"] == {"avg": None, "count": 0}
    now["t"] = noon + 30 * HOUR_SECS  # a day later: all forgotten
    assert tally.figures() == {}


def test_the_tally_forgets_old_scores_with_no_wall_looking() -> None:
    """Scores are forgotten as they are added too, not only when a wall is drawn: a desk no
    supervisor watches must not keep every score since it started."""
    now = {"t": 1_800_000_000.0}
    tally = CsatTally(lambda: now["t"])
    for day in range(5):
        for i in range(1000):
            tally.add({"id": f"s{day}-{i}", "skill": "general",  # type: ignore[typeddict-item]
                       "csat": {"score": 5, "at": now["t"]}})
        now["t"] += 2 * 86400.0
    assert len(tally._scores) <= 2000
