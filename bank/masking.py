"""Masking of card, account, ID and phone numbers: only the last four digits are ever shown.

One place, so customers' answers, the agent's panel, the audit log and the logs cannot disagree.
Separators (spaces, dashes) are ignored; anything four characters or shorter is masked whole,
because showing all of a short number shows too much.
"""

from __future__ import annotations

import re

_SEPARATORS = re.compile(r"[\s\-]")
SHOWN = 4


def last4(number: str | None) -> str:
    """The last four characters of ``number`` (separators removed), or "" when it is too short."""
    digits = _SEPARATORS.sub("", number or "")
    return digits[-SHOWN:] if len(digits) > SHOWN else ""


def mask_card(number: str | None) -> str:
    """``6225880123456789`` → ``**** **** **** 6789``; a short or empty number → ``****``."""
    tail = last4(number)
    return f"**** **** **** {tail}" if tail else "****"


def mask_id(number: str | None) -> str:
    """An ID number (身份证号, 18 characters) → ``**************1234``: as long as the original,
    so a reader sees what kind of number it is and nothing more."""
    digits = _SEPARATORS.sub("", number or "")
    tail = last4(digits)
    return "*" * (len(digits) - SHOWN) + tail if tail else "****"


def mask_phone(number: str | None) -> str:
    """A phone number → ``*******0001`` (last four digits only, like every other number)."""
    return mask_id(number)


def tail_phrase(number: str | None) -> str:
    """``尾号6789`` for a sentence to the customer."""
    tail = last4(number)
    return f"尾号{tail}" if tail else "尾号****"
