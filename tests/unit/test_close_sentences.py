"""Every reason a session can end for reads as a whole sentence in both console languages
(a banner once read "会话已结束（已结束）" / "ended (ended)")."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Reasons of session_closed events and of a session's close_reason (docs/protocol.md): the desk's
# closes, the engine's requeues (routing/engine.py) and diversions, and what a restart reconciles.
CLOSE_REASONS = ("closed", "transferred", "idle", "reassigned", "requeued", "agent_lost", "agent_logged_out",
                 "transfer_returned", "outside_hours", "no_agents", "max_wait", "abandoned", "customer_left")
LANGS = ("zh-CN", "en")


def strings(lang: str) -> dict[str, str]:
    text = (ROOT / "static" / "i18n" / f"{lang}.js").read_text(encoding="utf-8")
    return dict(re.findall(r'^\s*"([^"]+)":\s*"((?:[^"\\]|\\.)*)",?\s*$', text, re.M))


@pytest.mark.parametrize("lang", LANGS)
def test_each_close_reason_has_a_sentence(lang: str) -> None:
    s = strings(lang)
    for reason in (*CLOSE_REASONS, "other"):
        sentence = s.get(f"closed.{reason}")
        assert sentence, f"{lang}: no sentence for close reason {reason!r}"
        assert "_" not in sentence and "{" not in sentence, sentence
        assert sentence.endswith("。" if lang == "zh-CN" else "."), f"{lang}: not a sentence: {sentence!r}"


@pytest.mark.parametrize("lang", LANGS)
def test_banners_wrap_the_sentence_without_repeating_it(lang: str) -> None:
    s = strings(lang)
    for key in ("conv.closed", "monitor.closed"):
        banner = s[key]
        assert "{sentence}" in banner and "{reason}" not in banner
        for reason in CLOSE_REASONS:
            text = banner.replace("{sentence}", s[f"closed.{reason}"])
            assert "（" not in text and "(" not in text, text
            # no word of the banner repeats the sentence (the "ended (ended)" defect)
            assert text.count(s[f"closed.{reason}"]) == 1


def test_both_languages_have_the_same_keys() -> None:
    zh, en = strings("zh-CN"), strings("en")
    assert set(zh) == set(en), sorted(set(zh) ^ set(en))
