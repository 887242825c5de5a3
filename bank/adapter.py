"""The one interface to the bank's systems, and the typed records it answers with.

An adapter is a class deriving from :class:`BankAdapter` that implements its abstract methods
(docs/bank-adapter.md has a worked example). Every method is a coroutine; the desk calls each
through `bank.timed.TimedBank`, so an adapter need not enforce a timeout itself, but it must not
block the event loop (use an async HTTP client, or run a blocking SDK in a thread).

Numbers are the bank's: records carry full card, account and ID numbers, and the desk masks them
(`bank.masking`) before any of them reaches a customer, an agent or a log.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal


class BankError(Exception):
    """The bank's systems could not answer (down, refused, timed out). The customer is told to
    try later; nothing in Kefu changes."""


class BankTimeout(BankError):
    """The bank's systems did not answer within the configured time (``--bank-timeout``)."""


class NotACustomer(BankError):
    """The bank knows no customer with that id (the binding outlived the bank's record)."""


@dataclass(frozen=True)
class Challenge:
    """A verification code the bank sent: what to quote when checking it, where it went."""

    challenge_id: str  # opaque to Kefu; handed back to `BankAdapter.verify_and_bind`
    sent_to: str  # where the code went (a phone number); the desk masks it before showing it
    expires_in_s: int = 300


VerifyOutcome = Literal["bound", "wrong_code", "expired"]


@dataclass(frozen=True)
class BindResult:
    """What checking a code did: ``bound`` (``customer_id`` set), ``wrong_code`` or ``expired``
    (the challenge is no longer valid: a new code is needed)."""

    outcome: VerifyOutcome
    customer_id: str | None = None


@dataclass(frozen=True)
class Card:
    number: str  # full number; masked by the desk
    kind: Literal["credit", "debit"]
    product: str = ""  # "白金信用卡", "借记卡"


@dataclass(frozen=True)
class BankCustomer:
    """The bound customer as agents see them (name, segment, VIP) and what the bank keeps."""

    customer_id: str
    name: str
    segment: str  # the bank's customer segment: "大众客户", "财富客户", "私人银行"…
    vip: bool = False
    vip_level: str | None = None  # "金卡", "钻石"…
    id_number: str = ""  # full ID number; masked by the desk
    phone: str = ""
    cards: tuple[Card, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class CreditCardBill:
    """A credit card's latest statement and its limit."""

    card_number: str
    currency: str
    statement_date: str  # ISO dates
    due_date: str
    statement_balance: Decimal  # owed on the statement
    minimum_due: Decimal
    credit_limit: Decimal
    available_credit: Decimal


@dataclass(frozen=True)
class DebitBalance:
    account_number: str
    currency: str
    balance: Decimal
    available: Decimal


@dataclass(frozen=True)
class Transaction:
    date: str  # ISO date (or date-time) of the posting
    description: str
    amount: Decimal  # negative: money out
    currency: str
    card_number: str  # the card or account it was on


class BankAdapter(abc.ABC):
    """What Kefu asks of the bank. ``name`` is shown to operators (``/healthz``-style logs)."""

    name: str = "custom"

    async def open(self) -> None:  # noqa: B027 (an optional hook, not an abstract method)
        """Called once at start-up, inside the running loop (open HTTP clients here)."""

    async def close(self) -> None:  # noqa: B027 (an optional hook)
        """Called once at shut-down."""

    @abc.abstractmethod
    async def send_verification_code(self, identity: str, openid: str) -> Challenge:
        """Send a code (by SMS) to the phone the bank has on file for ``identity`` (the phone
        number the customer typed). Answer a challenge even when ``identity`` is unknown (its
        code then never verifies), so the answer does not tell who is a customer."""

    @abc.abstractmethod
    async def verify_and_bind(self, challenge_id: str, code: str, openid: str) -> BindResult:
        """Check ``code`` against the challenge; when right, record that ``openid`` is bound to
        the customer (the bank keeps its own record of bindings) and say whose it is."""

    @abc.abstractmethod
    async def unbind(self, customer_id: str, openid: str) -> None:
        """Forget that ``openid`` is bound to the customer (idempotent)."""

    @abc.abstractmethod
    async def customer(self, customer_id: str) -> BankCustomer:
        """The customer's profile; `NotACustomer` if the bank knows none."""

    @abc.abstractmethod
    async def credit_card_bill(self, customer_id: str) -> CreditCardBill | None:
        """The main credit card's latest bill and limit; None: the customer has no credit card."""

    @abc.abstractmethod
    async def debit_balance(self, customer_id: str) -> DebitBalance | None:
        """The main debit account's balance; None: the customer has no debit account."""

    @abc.abstractmethod
    async def recent_transactions(self, customer_id: str, limit: int = 5) -> list[Transaction]:
        """The newest ``limit`` transactions over the customer's cards and accounts, newest first."""
