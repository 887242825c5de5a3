"""Which adapter ``--bank-adapter`` names: ``demo``, ``none`` or ``module:Class``.

``module:Class`` imports ``module`` and builds ``Class()`` with no arguments: an adapter reads its
own configuration (a URL, credentials) from its environment, the way a bank's integration team
packages it. The class must derive from `bank.adapter.BankAdapter`.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable

from bank.adapter import BankAdapter

SPEC = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")


class AdapterSpecError(ValueError):
    """``--bank-adapter`` names nothing usable; the message says what to fix."""


def check_spec(spec: str) -> None:
    """Refuse a value that cannot name an adapter (before anything is imported)."""
    if spec not in ("", "demo", "none") and not SPEC.match(spec):
        raise AdapterSpecError(f"--bank-adapter must be demo, none or module:Class, not {spec!r}")


def load_adapter(spec: str, demo: bool,
                 sms: Callable[[str, str, str], None] | None = None) -> BankAdapter | None:
    """The adapter ``spec`` names (None: self-service is off). An empty spec means ``demo`` with
    ``--demo`` and ``none`` otherwise; ``sms(phone, text, openid)`` is where the demo bank's text
    messages go (the simulator shows them)."""
    check_spec(spec)
    spec = spec or ("demo" if demo else "none")
    if spec == "none":
        return None
    if spec == "demo":
        from bank.demo import DemoBank

        return DemoBank(sms=sms)
    module_name, _, class_name = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise AdapterSpecError(f"--bank-adapter {spec}: cannot import {module_name} ({exc})") from None
    cls = getattr(module, class_name, None)
    if not isinstance(cls, type) or not issubclass(cls, BankAdapter):
        raise AdapterSpecError(f"--bank-adapter {spec}: {class_name} is not a BankAdapter subclass in {module_name}")
    try:
        return cls()
    except Exception as exc:
        raise AdapterSpecError(f"--bank-adapter {spec}: {class_name}() failed: {exc}") from None
