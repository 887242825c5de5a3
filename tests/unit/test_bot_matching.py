"""The bot's matching (desk.bot_matching): Chinese paraphrases find the stored answer, unrelated
or vague questions find none, and the explanation names the matched words."""

from __future__ import annotations

import pytest

from desk.bot_matching import Matcher, Segmenter

KB = [
    {"id": "fee", "question": "信用卡年费怎么免", "similar": ["信用卡年费可以减免吗"], "keywords": ["年费"]},
    {"id": "lost", "question": "信用卡丢了怎么挂失", "similar": ["卡片遗失如何办理挂失"], "keywords": ["挂失"]},
    {"id": "split", "question": "账单可以分期吗", "similar": ["信用卡分期手续费多少"], "keywords": ["分期"]},
    {"id": "limit", "question": "怎么提高信用卡额度", "similar": ["申请提额"], "keywords": ["额度", "提额"]},
    {"id": "transfer", "question": "手机银行转账限额是多少", "similar": ["每天最多能转账多少钱"], "keywords": ["转账"]},
]


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher(KB, Segmenter())


def test_the_segmenter_keeps_banking_terms_whole_and_folds_synonyms() -> None:
    words = Segmenter().words("我的信用卡年费能减免吗？")
    assert words[:2] == ["信用卡", "年费"] and "免" in words and "吗" not in words and "？" not in words


@pytest.mark.parametrize("question, answer_id", [
    ("年费能不能免掉", "fee"),
    ("请问信用卡的年费可以免除吗", "fee"),
    ("我的卡掉了怎么办", "lost"),
    ("信用卡遗失了要挂失", "lost"),
    ("这个月账单想分期付款", "split"),
    ("信用额度能调高吗", "limit"),
    ("汇款有没有限额", "transfer"),
])
def test_a_paraphrase_finds_the_stored_answer(matcher: Matcher, question: str, answer_id: str) -> None:
    found = matcher.match(question)
    assert found is not None and found.answer_id == answer_id, matcher.rank(question)


@pytest.mark.parametrize("question", ["今天天气怎么样", "你好", "理财产品收益率", "？？？", ""])
def test_an_unrelated_question_finds_nothing(matcher: Matcher, question: str) -> None:
    assert matcher.match(question) is None


def test_the_explanation_names_the_words_and_the_score(matcher: Matcher) -> None:
    found = matcher.match("信用卡年费怎么免")
    assert found is not None
    assert found.explanation.startswith("matched 信用卡 年费 免 (score ")
    assert found.confidence == 1.0 and found.to_public()["phrase"] == "信用卡年费怎么免"


def test_an_empty_knowledge_base_matches_nothing() -> None:
    assert Matcher([], Segmenter()).match("信用卡年费") is None
