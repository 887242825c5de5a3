"""Bot matching benchmark: how often the bot's first answer is right, and how long a question takes.

Owns the bot benchmark. ``bench/data/bot_kb.json`` is a bank's FAQ of 36 answers and
``bench/data/bot_pairs.json`` 160 customer questions written for it (4 paraphrases per answer and
16 that no answer covers), split dev/test (docs/bot-benchmark.md: how the set was made, and why
tuning looked at dev only). Each question goes through the bot's real matcher
(`desk.bot_matching.Matcher.decide`, the banking dictionary and synonyms included) and, as the
baseline measured in the same run, through a character-similarity matcher (difflib's ratio against
every stored question, the obvious thing to write without segmentation or BM25).

Per split it prints, for the questions an answer covers: **top-1** (answered outright with the
right answer), **did-you-mean coverage** (right outright, or the right answer among the choices
offered), wrong answers (answered outright with another one); for the out-of-scope ones, how many
got an answer anyway. Then the time per question (median and p95 of ``decide``, the index built
beforehand) and its ratio to the baseline's.

Run: ``python -m bench bot`` (or ``python -m bench.bench_bot``).
"""

from __future__ import annotations

import difflib
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.harness import percentile
from desk.bot_matching import Decision, Match, Matcher, Segmenter

DATA = Path(__file__).resolve().parent / "data"
REPEATS = 7  # each question timed this many times; its time is the median
BASELINE_THRESHOLD = 0.5  # the character matcher answers at this similarity


def load() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    kb = json.loads((DATA / "bot_kb.json").read_text("utf-8"))["answers"]
    pairs = json.loads((DATA / "bot_pairs.json").read_text("utf-8"))["pairs"]
    return kb, pairs


class CharacterMatcher:
    """The baseline: difflib's similarity of the raw texts, best stored question wins."""

    def __init__(self, answers: list[dict[str, Any]]) -> None:
        self.phrases = [(a["id"], p) for a in answers for p in [a["question"], *a.get("similar", [])]]

    def decide(self, question: str) -> Decision:
        best: dict[str, float] = {}
        for answer_id, phrase in self.phrases:
            ratio = difflib.SequenceMatcher(None, question, phrase).ratio()
            best[answer_id] = max(best.get(answer_id, 0.0), ratio)
        ranked = tuple(Match(a, r, r, (), "") for a, r in sorted(best.items(), key=lambda kv: -kv[1])[:3])
        top = ranked[0] if ranked and ranked[0].score >= BASELINE_THRESHOLD else None
        return Decision(top, (), ranked)


def score(decide: Callable[[str], Decision], pairs: list[dict[str, Any]]) -> dict[str, Any]:
    inside = [p for p in pairs if p["answer_id"]]
    outside = [p for p in pairs if not p["answer_id"]]
    top1 = covered = wrong = 0
    misses: list[str] = []
    for pair in inside:
        decision = decide(pair["question"])
        right = pair["answer_id"]
        if decision.answer is not None:
            if decision.answer.answer_id == right:
                top1 += 1
                covered += 1
            else:
                wrong += 1
                misses.append(f"{pair['question']} -> {decision.answer.answer_id} (want {right})")
        elif any(m.answer_id == right for m in decision.choices):
            covered += 1
        else:
            misses.append(f"{pair['question']} -> " + (f"choices {[m.answer_id for m in decision.choices]}"
                                                        if decision.choices else "nothing") + f" (want {right})")
    false_answers = sum(decide(p["question"]).answer is not None for p in outside)
    n = len(inside) or 1
    return {"questions": len(inside), "top1": top1 / n, "did_you_mean_coverage": covered / n,
            "wrong": wrong / n, "out_of_scope": len(outside),
            "out_of_scope_answered": false_answers / (len(outside) or 1), "misses": misses}


def timing(decide: Callable[[str], Decision], questions: list[str]) -> dict[str, float]:
    per_question = []
    for question in questions:
        runs = []
        for _ in range(REPEATS):
            started = time.perf_counter()
            decide(question)
            runs.append(time.perf_counter() - started)
        per_question.append(statistics.median(runs))
    return {"median_us": statistics.median(per_question) * 1e6, "p95_us": percentile(per_question, 95) * 1e6}


def main(show_misses: bool = False) -> dict[str, Any]:
    kb, pairs = load()
    started = time.perf_counter()
    segmenter = Segmenter()
    segmenter.words("预热")  # jieba loads its dictionary on first use (~1 s): not a question's cost
    bot = Matcher(kb, segmenter)
    index_s = time.perf_counter() - started
    baseline = CharacterMatcher(kb)
    print(f"knowledge base: {len(kb)} answers; questions: {len(pairs)} "
          f"({sum(p['split'] == 'dev' for p in pairs)} dev, {sum(p['split'] == 'test' for p in pairs)} test); "
          f"dictionary + index built in {index_s:.2f} s")
    results: dict[str, Any] = {}
    for split in ("dev", "test"):
        chosen = [p for p in pairs if p["split"] == split]
        ours, theirs = score(bot.decide, chosen), score(baseline.decide, chosen)
        results[split] = {"bot": {k: v for k, v in ours.items() if k != "misses"},
                          "baseline": {k: v for k, v in theirs.items() if k != "misses"}}
        print(f"\n[{split}] {ours['questions']} covered questions, {ours['out_of_scope']} out of scope")
        print(f"  {'':10} {'top-1':>7} {'did-you-mean':>13} {'wrong':>7} {'out-of-scope answered':>22}")
        for name, r in (("bot", ours), ("baseline", theirs)):
            print(f"  {name:10} {r['top1']:7.1%} {r['did_you_mean_coverage']:13.1%} {r['wrong']:7.1%} "
                  f"{r['out_of_scope_answered']:22.1%}")
        if show_misses and split == "dev":  # tuning looks at dev only (docs/bot-benchmark.md)
            for line in ours["misses"]:
                print("    miss:", line)
    questions = [p["question"] for p in pairs]
    ours_t, theirs_t = timing(bot.decide, questions), timing(baseline.decide, questions)
    ratio_median = ours_t["median_us"] / theirs_t["median_us"]
    ratio_p95 = ours_t["p95_us"] / theirs_t["p95_us"]
    print(f"\nanswer time per question ({len(questions)} questions, median of {REPEATS} runs each):")
    print(f"  bot       median {ours_t['median_us']:8.1f} µs   p95 {ours_t['p95_us']:8.1f} µs")
    print(f"  baseline  median {theirs_t['median_us']:8.1f} µs   p95 {theirs_t['p95_us']:8.1f} µs")
    print(f"  ratio bot/baseline: median {ratio_median:.2f}x, p95 {ratio_p95:.2f}x "
          f"(WeChat's budget is 5 s: {5.0 / (ours_t['p95_us'] / 1e6):,.0f}x the bot's p95)")
    results["time"] = {"bot": ours_t, "baseline": theirs_t, "ratio_median": ratio_median, "ratio_p95": ratio_p95}
    return results


if __name__ == "__main__":
    import sys

    main(show_misses="--misses" in sys.argv)
