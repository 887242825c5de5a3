"""The bot's small parts with no server: passive replies (an offer lands only while the webhook
waits; a late one is refused so it goes by API), "did you mean" on a near tie, and the import's
spreadsheet column names."""

from __future__ import annotations

import asyncio

import pytest

from desk.bot_import import column_letter, parse
from desk.bot_matching import Matcher, Segmenter
from desk.errors import ValidationError
from desk.passive import PassiveReplies


@pytest.mark.gen_test
async def test_an_offer_lands_only_while_the_webhook_waits() -> None:
    passive = PassiveReplies(wait_secs=5)
    passive.expect("k1")
    waiting = asyncio.ensure_future(passive.wait("k1"))
    assert passive.offer("k1", "答案", "s1") is True
    assert await waiting == ("答案", "s1")
    assert passive.offer("k1", "again") is False  # over: the next text goes by API

    passive.expect("k2")
    waiting = asyncio.ensure_future(passive.wait("k2"))
    passive.release("k2")  # processed without a bot answer: "success" at once
    assert await waiting is None and passive.offer("k2", "late") is False

    late = PassiveReplies(wait_secs=0.01)
    late.expect("k3")
    assert await late.wait("k3") is None  # nothing came in time
    assert late.offer("k3", "too late") is False
    assert PassiveReplies(wait_secs=0).offer(None, "no key") is False


def test_a_near_tie_asks_instead_of_picking() -> None:
    kb = [{"id": "fee", "question": "信用卡年费怎么免"}, {"id": "lost", "question": "信用卡丢了怎么挂失"},
          {"id": "rate", "question": "定期存款利率是多少"}]
    matcher = Matcher(kb, Segmenter())
    vague = matcher.decide("信用卡")
    assert vague.answer is None and {m.answer_id for m in vague.choices} == {"fee", "lost"}
    sure = matcher.decide("信用卡年费能免吗")
    assert sure.answer is not None and sure.answer.answer_id == "fee" and sure.choices == ()
    assert matcher.decide("今天天气怎么样").choices == ()


def test_column_letters_and_a_header_only_file() -> None:
    assert [column_letter(i) for i in (0, 3, 25, 26, 27, 701, 702)] == ["A", "D", "Z", "AA", "AB", "ZZ", "AAA"]
    with pytest.raises(ValidationError) as refused:
        parse(b"question,answer\n\n", "csv")
    assert refused.value.field == "file"
    assert parse("Question , ANSWER\n年费,免\n".encode(), "csv") == [
        {"question": "年费", "similar": [], "keywords": [], "answer": "免", "skills": []}]
