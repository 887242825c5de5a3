"""Decoding JSON that comes from outside (request bodies, socket frames): one place, one error.

``json.loads`` fails in more ways than ``ValueError``: a body of 100,000 ``[`` nests past the
interpreter's recursion limit and raises ``RecursionError``, which used to escape as a 500 with a
traceback (or drop a socket without a close frame). :func:`parse_json` turns every way the text
can fail into :class:`InvalidJSON`, which callers answer as bad input.
"""

from __future__ import annotations

import json
from typing import Any


class InvalidJSON(ValueError):
    """The text is not JSON Kefu can take; ``reason`` is short and safe to show to the sender."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def parse_json(text: str | bytes | bytearray) -> Any:
    """The decoded value of ``text``; InvalidJSON when it is not valid JSON, not UTF-8, or
    nested too deeply to decode."""
    try:
        return json.loads(text)
    except RecursionError:
        raise InvalidJSON("nested too deeply") from None
    except UnicodeDecodeError:
        raise InvalidJSON("not UTF-8") from None
    except (ValueError, TypeError):
        # ValueError covers JSONDecodeError and ints over the interpreter's digit limit.
        raise InvalidJSON("not valid JSON") from None
