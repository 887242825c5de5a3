"""The demo bank: made-up customers, deterministic, in memory. Serves ``--demo`` and the tests.

Three customers, each with a phone number the demo's simulator customers can type
(:data:`DEMO_CUSTOMERS`). A verification code is six digits derived from the phone number and a
counter (the same run of a demo or a test sends the same codes) and is "sent by SMS" through the
``sms(phone, text, openid)`` callback: the simulator page shows it the way a phone shows a text.
A code is valid for :data:`CODE_TTL_SECS` and for one successful check.

Nothing here is a real person or a real card: the numbers follow the shape of Chinese cards and
IDs only so masking can be seen working.
"""

from __future__ import annotations

import hashlib
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from bank.adapter import (
    BankAdapter,
    BankCustomer,
    BindResult,
    Card,
    Challenge,
    CreditCardBill,
    DebitBalance,
    NotACustomer,
    Transaction,
)

CODE_TTL_SECS = 300
BANK_NAME = "Kefu 演示银行"

DEMO_CUSTOMERS: tuple[BankCustomer, ...] = (
    BankCustomer("C0001", "张伟", "财富客户", vip=True, vip_level="金卡", id_number="110101199003071234",
                 phone="13800000001", cards=(Card("6225880123456789", "credit", "白金信用卡"),
                                             Card("6222021234567890", "debit", "借记卡"))),
    BankCustomer("C0002", "李娜", "大众客户", vip=False, id_number="310104198811203328", phone="13800000002",
                 cards=(Card("4392260011223344", "credit", "标准信用卡"),)),
    BankCustomer("C0003", "王芳", "私人银行", vip=True, vip_level="钻石", id_number="440305197512250046",
                 phone="13800000003", cards=(Card("6217001234000003", "debit", "私人银行借记卡"),)),
)

_BILLS: dict[str, tuple[str, str, str, str, str, str]] = {
    # customer: statement date, due date, balance, minimum due, limit, available
    "C0001": ("2026-11-05", "2026-11-25", "3286.50", "328.65", "50000.00", "43120.18"),
    "C0002": ("2026-11-10", "2026-11-30", "12890.00", "1289.00", "20000.00", "6402.40"),
}
_BALANCES: dict[str, tuple[str, str]] = {
    "C0001": ("128560.32", "128060.32"),
    "C0003": ("3650000.00", "3650000.00"),
}
_TRANSACTIONS: dict[str, tuple[tuple[str, str, str, int], ...]] = {
    # date, description, amount, index of the card in the customer's cards
    "C0001": (("2026-11-28", "美团外卖", "-56.80", 0), ("2026-11-27", "工资入账", "18500.00", 1),
              ("2026-11-26", "中国石化加油", "-320.00", 0), ("2026-11-24", "京东商城", "-1299.00", 0),
              ("2026-11-22", "水电燃气缴费", "-186.45", 1), ("2026-11-20", "星巴克", "-38.00", 0)),
    "C0002": (("2026-11-29", "携程旅行", "-2680.00", 0), ("2026-11-25", "信用卡还款", "5000.00", 0)),
    "C0003": (("2026-11-15", "理财产品赎回", "500000.00", 0),),
}


@dataclass
class _Pending:
    phone: str
    code: str | None  # None: the phone is no customer's, so no code can match
    openid: str
    expires_at: float
    used: bool = False


class DemoBank(BankAdapter):
    name = "demo"

    def __init__(self, sms: Callable[[str, str, str], None] | None = None,
                 clock: Callable[[], float] = time.time,
                 customers: tuple[BankCustomer, ...] = DEMO_CUSTOMERS) -> None:
        self.sms = sms
        self.clock = clock
        self.customers = {c.customer_id: c for c in customers}
        self._by_phone = {c.phone: c for c in customers}
        self._pending: dict[str, _Pending] = {}
        self._serial = itertools.count(1)
        self.bindings: dict[str, str] = {}  # openid -> customer id: the bank's own record
        self.sent: list[tuple[str, str]] = []  # (phone, code) of every code sent, for tests and demos

    def code_for(self, phone: str, n: int) -> str:
        """The ``n``-th code sent in this run: six digits from the phone and the counter."""
        digest = hashlib.sha256(f"kefu-demo:{phone}:{n}".encode()).hexdigest()
        return f"{int(digest[:12], 16) % 1_000_000:06d}"

    async def send_verification_code(self, identity: str, openid: str) -> Challenge:
        n = next(self._serial)
        now = self.clock()
        for stale in [k for k, p in self._pending.items() if now > p.expires_at]:
            del self._pending[stale]  # past its time it only ever answers "expired": forgotten
        challenge_id = f"demo-{n}"
        customer = self._by_phone.get(identity)
        code = self.code_for(identity, n) if customer is not None else None
        self._pending[challenge_id] = _Pending(identity, code, openid, self.clock() + CODE_TTL_SECS)
        if code is not None:
            self.sent.append((identity, code))
            if self.sms is not None:
                self.sms(identity, f"【{BANK_NAME}】您的微信绑定验证码为 {code}，{CODE_TTL_SECS // 60} 分钟内有效。"
                                   "请勿将验证码告诉他人。", openid)
        return Challenge(challenge_id, identity, CODE_TTL_SECS)

    async def verify_and_bind(self, challenge_id: str, code: str, openid: str) -> BindResult:
        pending = self._pending.get(challenge_id)
        if pending is None or pending.used or pending.openid != openid or self.clock() > pending.expires_at:
            return BindResult("expired")
        if pending.code is None or code != pending.code:
            return BindResult("wrong_code")
        pending.used = True
        customer = self._by_phone[pending.phone]
        self.bindings[openid] = customer.customer_id
        return BindResult("bound", customer.customer_id)

    async def unbind(self, customer_id: str, openid: str) -> None:
        if self.bindings.get(openid) == customer_id:
            del self.bindings[openid]

    def _customer(self, customer_id: str) -> BankCustomer:
        customer = self.customers.get(customer_id)
        if customer is None:
            raise NotACustomer(f"no demo customer {customer_id!r}")
        return customer

    async def customer(self, customer_id: str) -> BankCustomer:
        return self._customer(customer_id)

    async def credit_card_bill(self, customer_id: str) -> CreditCardBill | None:
        customer = self._customer(customer_id)
        card = next((c for c in customer.cards if c.kind == "credit"), None)
        bill = _BILLS.get(customer_id)
        if card is None or bill is None:
            return None
        statement, due, balance, minimum, limit, available = bill
        return CreditCardBill(card.number, "CNY", statement, due, Decimal(balance), Decimal(minimum),
                              Decimal(limit), Decimal(available))

    async def debit_balance(self, customer_id: str) -> DebitBalance | None:
        customer = self._customer(customer_id)
        card = next((c for c in customer.cards if c.kind == "debit"), None)
        balance = _BALANCES.get(customer_id)
        if card is None or balance is None:
            return None
        return DebitBalance(card.number, "CNY", Decimal(balance[0]), Decimal(balance[1]))

    async def recent_transactions(self, customer_id: str, limit: int = 5) -> list[Transaction]:
        customer = self._customer(customer_id)
        return [Transaction(date, text, Decimal(amount), "CNY", customer.cards[card].number)
                for date, text, amount, card in _TRANSACTIONS.get(customer_id, ())[:limit]]
