"""Matching a customer's question to the bot's knowledge base (客服机器人): pure, no I/O.

Chinese has no spaces, so the text is segmented with jieba (a private ``jieba.Tokenizer``, never
the library's global one) taught a user dictionary of banking terms (信用卡, 年费, 挂失...), so
that "信用卡年费" is two words and not four characters. Words are folded to a canonical form by a
small synonym table (丢了 → 挂失, 汇款 → 转账), function words are dropped, and each answer's
question, similar questions and keywords are indexed as documents ranked by Okapi BM25 (an
answer scores as its best document; its keywords are part of every one of its documents).

A match is kept only when it is confident: ``confidence`` is the share of the question's weight
(the IDF of its words; a word the knowledge base never uses weighs the most) that the best
document contains. Below ``threshold`` the bot does not answer outright: between
``suggest_threshold`` and ``threshold`` it offers the best two or three questions ("did you mean",
:meth:`Matcher.decide`), below it says it did not understand rather than guess.
:class:`Match` carries a readable explanation: ``matched 信用卡 年费 免 (score 4.12, 83%)``.
"""

from __future__ import annotations

import math
import re
import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

# Terms jieba must keep whole (its general dictionary splits or mis-joins some of them).
BANKING_TERMS = ("信用卡", "储蓄卡", "借记卡", "年费", "挂失", "补卡", "分期", "额度", "提额", "临时额度", "转账",
                 "还款", "最低还款", "账单", "账单日", "还款日", "手机银行", "网上银行", "网银", "密码", "激活",
                 "积分", "利率", "利息", "理财", "存款", "贷款", "房贷", "车贷", "余额", "流水", "限额", "销户",
                 "开户", "短信通知", "境外", "外币", "手续费", "逾期", "征信", "人工客服")
# Words a customer uses for the same thing, folded to the knowledge base's word.
SYNONYMS = {"丢": "挂失", "丢了": "挂失", "丢失": "挂失", "遗失": "挂失", "掉": "挂失", "掉了": "挂失",
            "免除": "免", "减免": "免", "免掉": "免", "免费": "免", "不收": "免",
            "汇款": "转账", "转钱": "转账", "打钱": "转账", "汇钱": "转账",
            "信用额度": "额度", "提高": "提额", "调高": "提额", "提升": "提额",
            "分期付款": "分期", "账单分期": "分期", "网上银行": "网银", "app": "手机银行", "手机app": "手机银行",
            "口令": "密码", "信用卡费": "年费", "卡费": "年费", "还钱": "还款", "开通": "激活",
            "如何": "怎么", "咋": "怎么",
            # Added from the benchmark's dev questions (docs/bot-benchmark.md), each a word bank
            # customers use: fees are the knowledge base's 手续费, another bank is 跨行, "the card
            # I can't find" is a lost card, "银行卡" is the everyday word for a debit card.
            "收费": "手续费", "费": "手续费", "要钱": "手续费", "收钱": "手续费",
            "别的银行": "跨行", "其他银行": "跨行", "他行": "跨行",
            "找不到": "挂失", "取消": "销户", "不想用": "销户", "注销": "销户", "国外": "境外",
            "还有多少钱": "余额", "剩多少钱": "余额", "还剩": "余额", "买房": "房贷", "购房": "房贷",
            "借钱": "贷款", "借点钱": "贷款", "借点": "贷款", "银行卡": "储蓄卡", "还": "还款"}
# Words that carry no meaning for matching (questions' scaffolding and particles).
STOPWORDS = frozenset("的 了 吗 呢 吧 啊 呀 我 我的 你 你们 您 请问 请 怎么 怎样 怎么样 什么 如何 是 在 有 要 想 能 可以 "
                      "能不能 可不可以 有没有 没有 不 不能 一下 这个 那个 和 与 就 都 也 会 么 嘛 哦 好 么 个 把 被 给 让 该 需要 "
                      # "what do I do" (not 办理, "to apply"); scaffolding of the dev questions
                      "怎么办 才能 这张 用 到".split())
_WORD = re.compile(r"\w", re.UNICODE)

# BM25's usual constants; the thresholds were chosen on the benchmark's dev half
# (bench/data/bot_pairs.json, docs/bot-benchmark.md) and checked on its test half.
K1 = 1.5
B = 0.75
DEFAULT_THRESHOLD = 0.4
DEFAULT_SUGGEST_THRESHOLD = 0.2
# A confident best match is still unsure when the runner-up scores nearly as well ("信用卡" alone
# fits every card answer): then the bot asks rather than picks.
AMBIGUOUS_RATIO = 0.8
MAX_CHOICES = 3


@dataclass(frozen=True)
class Match:
    answer_id: str
    score: float
    confidence: float
    matched: tuple[str, ...]
    phrase: str  # the stored question or similar question that matched best

    @property
    def explanation(self) -> str:
        return f"matched {' '.join(self.matched)} (score {self.score:.2f}, {round(self.confidence * 100)}%)"

    def to_public(self) -> dict[str, Any]:
        return {"answer_id": self.answer_id, "score": round(self.score, 3), "confidence": round(self.confidence, 3),
                "matched": list(self.matched), "phrase": self.phrase, "explanation": self.explanation}


@dataclass(frozen=True)
class Decision:
    """What the bot makes of a question: an answer, or the choices to offer, or neither."""

    answer: Match | None
    choices: tuple[Match, ...]
    ranked: tuple[Match, ...]


class Segmenter:
    """jieba with the banking dictionary and the synonym table; loads its dictionary on first use."""

    def __init__(self, terms: Iterable[str] = BANKING_TERMS, synonyms: dict[str, str] | None = None) -> None:
        self.terms = tuple(terms)
        self.synonyms = dict(SYNONYMS if synonyms is None else synonyms)
        self._tokenizer: Any = None
        self._loading = threading.Lock()

    def _jieba(self) -> Any:
        if self._tokenizer is None:
            with self._loading:  # a warm-up thread may be loading it: wait for that one
                if self._tokenizer is None:
                    import jieba  # imported here: loading the dictionary costs ~1 s
                    jieba.setLogLevel(60)
                    tokenizer = jieba.Tokenizer()
                    tokenizer.initialize()
                    for term in {*self.terms, *self.synonyms, *self.synonyms.values()}:
                        tokenizer.add_word(term, freq=200000)
                    self._tokenizer = tokenizer
        return self._tokenizer

    def warm_up(self) -> None:
        """Load the dictionary in a thread, so that the first question does not stall the event
        loop for the second it takes (called when the bot gets a knowledge base)."""
        if self._tokenizer is None and not self._loading.locked():
            threading.Thread(target=self._jieba, name="jieba-warm-up", daemon=True).start()

    def words(self, text: str) -> list[str]:
        out = []
        for raw in self._jieba().lcut(text.lower()):
            word = raw.strip()
            if not word or not _WORD.search(word):
                continue
            word = self.synonyms.get(word, word)
            if word not in STOPWORDS:
                out.append(word)
        return out


@dataclass(frozen=True)
class _Doc:
    answer_id: str
    phrase: str
    terms: Counter[str]
    length: int


class Matcher:
    """BM25 over a knowledge base: ``[{"id", "question", "similar", "keywords", ...}]``."""

    def __init__(self, answers: Sequence[dict[str, Any]], segmenter: Segmenter,
                 threshold: float = DEFAULT_THRESHOLD, suggest_threshold: float = DEFAULT_SUGGEST_THRESHOLD) -> None:
        self.segmenter = segmenter
        self.threshold = threshold
        self.suggest_threshold = min(suggest_threshold, threshold)
        self.docs: list[_Doc] = []
        for answer in answers:
            keywords = [w for k in answer.get("keywords") or () for w in segmenter.words(k)]
            for phrase in [answer["question"], *(answer.get("similar") or ())]:
                terms = Counter(segmenter.words(phrase) + keywords)
                self.docs.append(_Doc(answer["id"], phrase, terms, sum(terms.values())))
        self.avg_length = (sum(d.length for d in self.docs) / len(self.docs)) if self.docs else 0.0
        frequency: Counter[str] = Counter(t for d in self.docs for t in d.terms)
        n = len(self.docs)
        self.idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in frequency.items()}
        # A word no document has says nothing about which answer fits; it weighs as a typical word
        # (the mean IDF), so one unfamiliar word does not sink a match the rest of the question makes.
        self.unknown_idf = (sum(self.idf.values()) / len(self.idf)) if self.idf else 1.0

    def _bm25(self, words: list[str], doc: _Doc) -> float:
        score = 0.0
        for word in words:
            tf = doc.terms.get(word, 0)
            if tf:
                norm = 1 - B + B * doc.length / (self.avg_length or 1)
                score += self.idf[word] * tf * (K1 + 1) / (tf + K1 * norm)
        return score

    def rank(self, question: str, limit: int = 3) -> list[Match]:
        """The best answers for ``question``, best first (one per answer), confident or not."""
        words = list(dict.fromkeys(self.segmenter.words(question)))
        if not words or not self.docs:
            return []
        weight = sum(self.idf.get(w, self.unknown_idf) for w in words)
        best: dict[str, Match] = {}
        for doc in self.docs:
            score = self._bm25(words, doc)
            if score <= 0:
                continue
            matched = tuple(w for w in words if w in doc.terms)
            confidence = sum(self.idf[w] for w in matched) / weight
            found = best.get(doc.answer_id)
            if found is None or (score, confidence) > (found.score, found.confidence):
                best[doc.answer_id] = Match(doc.answer_id, score, confidence, matched, doc.phrase)
        return sorted(best.values(), key=lambda m: (-m.score, -m.confidence))[:limit]

    def match(self, question: str) -> Match | None:
        """The best answer when it is confident enough (and not a near tie), else None."""
        return self.decide(question).answer

    def decide(self, question: str) -> Decision:
        """The answer when the best match is confident and clearly ahead of the runner-up; else
        the matches worth offering as "did you mean" (confidence at least ``suggest_threshold``,
        best first, at most :data:`MAX_CHOICES`); else nothing."""
        ranked = tuple(self.rank(question, limit=MAX_CHOICES))
        if ranked and ranked[0].confidence >= self.threshold and (
                len(ranked) == 1 or ranked[1].score < AMBIGUOUS_RATIO * ranked[0].score):
            return Decision(ranked[0], (), ranked)
        return Decision(None, tuple(m for m in ranked if m.confidence >= self.suggest_threshold), ranked)
