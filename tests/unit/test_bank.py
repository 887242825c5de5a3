"""bank/: masking (last four only), the demo bank's codes, the deadline on every call, the loader."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from bank.adapter import BankError, BankTimeout, NotACustomer
from bank.demo import CODE_TTL_SECS, DEMO_CUSTOMERS, DemoBank
from bank.loader import AdapterSpecError, load_adapter
from bank.masking import last4, mask_card, mask_id, mask_phone, tail_phrase
from bank.timed import TimedBank
from desk.self_service_answers import money


def test_numbers_are_masked_to_their_last_four() -> None:
    assert mask_card("6225880123456789") == "**** **** **** 6789"
    assert mask_card("6225 8801 2345 6789") == "**** **** **** 6789"  # separators do not count
    assert mask_card("6225-8801-2345-6789") == "**** **** **** 6789"
    assert mask_id("110101199003071234") == "*" * 14 + "1234"
    assert mask_id("11010119900307123X") == "*" * 14 + "123X"
    assert mask_phone("13800000001") == "*******0001"
    assert tail_phrase("6222021234567890") == "尾号7890"
    # Four characters or fewer: showing them would show all of it.
    for short in ("1234", "12", "", None):
        assert mask_card(short) == "****" and mask_id(short) == "****" and last4(short) == ""
    assert tail_phrase(None) == "尾号****"


def test_money_is_written_as_a_bank_writes_it() -> None:
    assert money(Decimal("3286.5")) == "¥3,286.50"
    assert money(Decimal("-56.80")) == "-¥56.80"
    assert money(Decimal("10"), "USD") == "USD 10.00"


@pytest.mark.gen_test
async def test_the_demo_bank_sends_deterministic_codes_that_bind_once() -> None:
    sms: list[tuple[str, str, str]] = []
    now = {"t": 1000.0}
    bank = DemoBank(sms=lambda phone, text, openid: sms.append((phone, text, openid)), clock=lambda: now["t"])
    zhang = DEMO_CUSTOMERS[0]
    challenge = await bank.send_verification_code(zhang.phone, "o1")
    [(phone, text, openid)] = sms
    code = bank.code_for(zhang.phone, 1)
    assert (phone, openid, challenge.sent_to) == (zhang.phone, "o1", zhang.phone) and code in text
    assert DemoBank().code_for(zhang.phone, 1) == code  # the same run, the same codes
    assert (await bank.verify_and_bind(challenge.challenge_id, "000000" if code != "000000" else "111111",
                                       "o1")).outcome == "wrong_code"
    assert (await bank.verify_and_bind(challenge.challenge_id, code, "o-other")).outcome == "expired"  # not theirs
    result = await bank.verify_and_bind(challenge.challenge_id, code, "o1")
    assert (result.outcome, result.customer_id, bank.bindings) == ("bound", zhang.customer_id, {"o1": "C0001"})
    assert (await bank.verify_and_bind(challenge.challenge_id, code, "o1")).outcome == "expired"  # used
    await bank.unbind(zhang.customer_id, "o1")
    assert bank.bindings == {}

    # An unknown phone gets a challenge too (no telling who is a customer), but no SMS and no code works.
    stranger = await bank.send_verification_code("13999999999", "o2")
    assert len(sms) == 1 and (await bank.verify_and_bind(stranger.challenge_id, "123456", "o2")).outcome == "wrong_code"
    # A code past its time is expired.
    late = await bank.send_verification_code(zhang.phone, "o3")
    now["t"] += CODE_TTL_SECS + 1
    assert (await bank.verify_and_bind(late.challenge_id, bank.code_for(zhang.phone, 3), "o3")).outcome == "expired"


@pytest.mark.gen_test
async def test_the_demo_banks_accounts() -> None:
    bank = DemoBank()
    bill = await bank.credit_card_bill("C0001")
    assert bill is not None and bill.statement_balance == Decimal("3286.50") and bill.credit_limit == Decimal("50000.00")
    assert await bank.credit_card_bill("C0003") is None  # 王芳 has no credit card
    assert await bank.debit_balance("C0002") is None  # 李娜 has no debit account
    items = await bank.recent_transactions("C0001", 3)
    assert [t.description for t in items] == ["美团外卖", "工资入账", "中国石化加油"]
    with pytest.raises(NotACustomer):
        await bank.customer("C9999")


class Hanging(DemoBank):
    async def debit_balance(self, customer_id: str):  # type: ignore[no-untyped-def]
        await asyncio.Event().wait()


class Broken(DemoBank):
    async def credit_card_bill(self, customer_id: str):  # type: ignore[no-untyped-def]
        raise RuntimeError("connection reset")


@pytest.mark.gen_test
async def test_every_call_has_a_deadline_and_failures_come_out_as_bank_errors() -> None:
    with pytest.raises(BankTimeout):
        await TimedBank(Hanging(), timeout_s=0.05).debit_balance("C0001")
    with pytest.raises(BankError) as failed:
        await TimedBank(Broken(), timeout_s=1).credit_card_bill("C0001")
    assert not isinstance(failed.value, BankTimeout)
    with pytest.raises(NotACustomer):  # the bank's own answer passes through as it is
        await TimedBank(DemoBank(), timeout_s=1).customer("nobody")
    assert (await TimedBank(DemoBank(), timeout_s=1).customer("C0002")).name == "李娜"


def test_the_loader_names_demo_none_or_a_class() -> None:
    assert load_adapter("", demo=False) is None
    assert isinstance(load_adapter("", demo=True), DemoBank)
    assert load_adapter("none", demo=True) is None
    assert isinstance(load_adapter("tests.unit.test_bank:Hanging", demo=False), Hanging)
    for spec, words in (("nonsense", "module:Class"), ("no_such_module_here:X", "cannot import"),
                        ("tests.unit.test_bank:money", "not a BankAdapter")):
        with pytest.raises(AdapterSpecError, match=words):
            load_adapter(spec, demo=False)


def test_the_bank_flags_are_read_and_checked() -> None:
    from kefu_config import ConfigError, parse_config

    config = parse_config(["--demo"], environ={"KEFU_BANK_ADAPTER": "mybank.adapter:CoreBank",
                                               "KEFU_BANK_TIMEOUT": "2.5"})
    assert (config.bank_adapter, config.bank_timeout) == ("mybank.adapter:CoreBank", 2.5)
    assert parse_config(["--demo", "--bank-adapter", "none"], environ={}).bank_adapter == "none"
    assert parse_config(["--demo"], environ={}).bank_timeout == 2.5
    for argv, words in ((["--bank-adapter", "my bank"], "--bank-adapter"), (["--bank-timeout", "0"], "--bank-timeout"),
                        (["--bank-timeout", "60"], "--bank-timeout"), (["--bank-timeout", "soon"], "a number")):
        with pytest.raises(ConfigError, match=words):
            parse_config(["--demo", *argv], environ={})


@pytest.mark.gen_test
async def test_the_demo_bank_forgets_challenges_past_their_time() -> None:
    """A demo server runs for weeks: every code asked for must not stay in memory for ever."""
    now = {"t": 1000.0}
    bank = DemoBank(clock=lambda: now["t"])
    for i in range(50):
        await bank.send_verification_code("13999999999", f"o{i}")
    now["t"] += CODE_TTL_SECS + 1
    await bank.send_verification_code("13999999999", "o-last")
    assert len(bank._pending) == 1
