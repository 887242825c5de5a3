"""Bank adapters for the end-to-end tests, loaded the way an operator's would be
(``--bank-adapter tests.server.bank_fakes:Class``)."""

from __future__ import annotations

import asyncio

from bank.adapter import BankCustomer, BindResult, Challenge, CreditCardBill, DebitBalance, Transaction
from bank.demo import DemoBank


class HangingBank(DemoBank):
    """The demo bank whose account queries never answer (a core system that hangs)."""

    name = "hanging"

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    async def _hang(self) -> None:
        self.calls += 1
        await asyncio.Event().wait()  # never set: only the caller's timeout ends this

    async def debit_balance(self, customer_id: str) -> DebitBalance | None:
        await self._hang()
        raise AssertionError("unreachable")

    async def credit_card_bill(self, customer_id: str) -> CreditCardBill | None:
        await self._hang()
        raise AssertionError("unreachable")

    async def send_verification_code(self, identity: str, openid: str) -> Challenge:
        await self._hang()
        raise AssertionError("unreachable")

    # Kept as the demo's: binding in a test goes through the store directly.
    async def verify_and_bind(self, challenge_id: str, code: str, openid: str) -> BindResult:
        return await super().verify_and_bind(challenge_id, code, openid)

    async def customer(self, customer_id: str) -> BankCustomer:
        return await super().customer(customer_id)

    async def recent_transactions(self, customer_id: str, limit: int = 5) -> list[Transaction]:
        return await super().recent_transactions(customer_id, limit)


class NotAnAdapter:
    """Named by a test to see start-up refuse it."""
