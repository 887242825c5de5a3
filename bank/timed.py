"""Every call to the bank with a deadline: `TimedBank` wraps an adapter and gives up on time.

A core-banking system that hangs must not hang the customer's conversation: the desk processes a
customer's messages in order, so one call that never returns would hold every later message of
that customer. Each call runs under ``asyncio.wait_for`` (the adapter's coroutine is cancelled
when the time is up) and any failure of the adapter — its own errors, a bug, a dropped
connection — comes out as `bank.adapter.BankError`, which the desk turns into "try later".
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import TypeVar

from bank.adapter import (
    BankAdapter,
    BankCustomer,
    BankError,
    BankTimeout,
    BindResult,
    Challenge,
    CreditCardBill,
    DebitBalance,
    NotACustomer,
    Transaction,
)

log = logging.getLogger("kefu.bank")

T = TypeVar("T")

# Long enough for a core-banking round trip, short enough that even "try later" is ready while
# the webhook still waits for a passive reply (desk.passive, 3 s), inside WeChat's 5 s.
DEFAULT_TIMEOUT_SECS = 2.5


class TimedBank(BankAdapter):
    """``adapter`` with a timeout of ``timeout_s`` seconds on each call."""

    def __init__(self, adapter: BankAdapter, timeout_s: float = DEFAULT_TIMEOUT_SECS) -> None:
        self.adapter = adapter
        self.timeout_s = timeout_s
        self.name = adapter.name

    async def _call(self, what: str, call: Awaitable[T]) -> T:
        try:
            return await asyncio.wait_for(call, self.timeout_s)
        except TimeoutError:
            log.warning("bank call timed out", extra={"fields": {"call": what, "adapter": self.name,
                                                                 "timeout_s": self.timeout_s}})
            raise BankTimeout(f"{what}: no answer within {self.timeout_s} s") from None
        except (NotACustomer, BankTimeout):
            raise
        except BankError as exc:
            log.warning("bank call failed", extra={"fields": {"call": what, "adapter": self.name, "error": str(exc)}})
            raise
        except Exception as exc:  # an adapter's bug must not reach the customer as silence
            log.exception("bank adapter raised", extra={"fields": {"call": what, "adapter": self.name}})
            raise BankError(f"{what}: {type(exc).__name__}") from exc

    async def open(self) -> None:
        await self.adapter.open()

    async def close(self) -> None:
        await self.adapter.close()

    async def send_verification_code(self, identity: str, openid: str) -> Challenge:
        return await self._call("send_verification_code", self.adapter.send_verification_code(identity, openid))

    async def verify_and_bind(self, challenge_id: str, code: str, openid: str) -> BindResult:
        return await self._call("verify_and_bind", self.adapter.verify_and_bind(challenge_id, code, openid))

    async def unbind(self, customer_id: str, openid: str) -> None:
        await self._call("unbind", self.adapter.unbind(customer_id, openid))

    async def customer(self, customer_id: str) -> BankCustomer:
        return await self._call("customer", self.adapter.customer(customer_id))

    async def credit_card_bill(self, customer_id: str) -> CreditCardBill | None:
        return await self._call("credit_card_bill", self.adapter.credit_card_bill(customer_id))

    async def debit_balance(self, customer_id: str) -> DebitBalance | None:
        return await self._call("debit_balance", self.adapter.debit_balance(customer_id))

    async def recent_transactions(self, customer_id: str, limit: int = 5) -> list[Transaction]:
        return await self._call("recent_transactions", self.adapter.recent_transactions(customer_id, limit))
