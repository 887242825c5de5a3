"""What self-service tells the customer, in words, and the bound profile kept for agents.

Every number that identifies a card, an account or a person goes through `bank.masking` here
(last four only): the customer's answers, the profile stored on the customer record (which the
agent's panel shows) and the audit entries never carry a full number.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from bank.adapter import BankCustomer, CreditCardBill, DebitBalance, Transaction
from bank.masking import mask_card, mask_id, mask_phone, tail_phrase

BIND_ASK_PHONE = "请回复您在本行预留的 11 位手机号码，我们将向该号码发送短信验证码。回复“取消”可退出。"
BIND_BAD_PHONE = "手机号码格式不正确，请回复 11 位手机号码，或回复“取消”退出。"
BIND_BAD_CODE = "请回复短信中的 6 位数字验证码，或回复“取消”退出。"
BIND_CANCELLED = "已取消绑定。"
BIND_EXPIRED = "验证码已失效，请回复“绑定”重新获取验证码。"
TRY_LATER = "银行系统暂时无法响应，请稍后再试。"
NOT_BOUND = "您尚未绑定本行账户，请先回复“绑定”（或点击菜单“绑定账户”）完成绑定后再查询。"
UNBOUND = "已解除微信与本行账户的绑定。如需再次使用查询服务，请回复“绑定”。"
NO_CREDIT_CARD = "您名下暂无信用卡。"
NO_DEBIT = "您名下暂无借记账户。"
NO_TRANSACTIONS = "近期没有交易记录。"
UNAVAILABLE = "抱歉，自助服务暂未开通，请回复“人工”联系客服。"


def money(amount: Decimal, currency: str = "CNY") -> str:
    sign = "-" if amount < 0 else ""
    symbol = "¥" if currency == "CNY" else f"{currency} "
    return f"{sign}{symbol}{abs(amount):,.2f}"


def code_sent(sent_to: str, expires_in_s: int) -> str:
    minutes = max(1, expires_in_s // 60)
    return (f"验证码已发送至{tail_phrase(sent_to)}的手机（如该号码已在本行预留）。"
            f"请在 {minutes} 分钟内回复 6 位验证码。")


def wrong_code(left: int) -> str:
    return f"验证码错误，还可尝试 {left} 次。"


def locked(minutes: int) -> str:
    return f"验证码错误次数过多，绑定功能已锁定，请 {minutes} 分钟后再试。如有疑问请联系人工客服。"


def already_bound(profile: dict[str, Any]) -> str:
    return f"您已绑定本行账户（{profile.get('name') or '客户'}）。如需更换，请先回复“解绑”。"


def bound(profile: dict[str, Any]) -> str:
    name = profile.get("name") or "客户"
    return f"绑定成功！{name}，您好。现在可以回复“账单”“额度”“余额”“交易明细”查询。"


def profile_snapshot(customer: BankCustomer, now: float) -> dict[str, Any]:
    """The bound customer as stored on the customer record and shown to agents: masked numbers only."""
    return {
        "customer_id": customer.customer_id, "name": customer.name, "segment": customer.segment,
        "vip": customer.vip, "vip_level": customer.vip_level,
        "id_number": mask_id(customer.id_number) if customer.id_number else None,
        "phone": mask_phone(customer.phone) if customer.phone else None,
        "cards": [{"kind": c.kind, "product": c.product, "number": mask_card(c.number)} for c in customer.cards],
        "refreshed_at": now,
    }


def profile_text(profile: dict[str, Any]) -> str:
    lines = [f"姓名：{profile.get('name')}", f"客户类别：{profile.get('segment')}"]
    if profile.get("vip"):
        lines.append(f"VIP 等级：{profile.get('vip_level') or 'VIP'}")
    if profile.get("id_number"):
        lines.append(f"证件号码：{profile['id_number']}")
    for card in profile.get("cards") or ():
        lines.append(f"{card.get('product') or card.get('kind')}：{card.get('number')}")
    return "\n".join(lines)


def bill_text(bill: CreditCardBill) -> str:
    return "\n".join([
        f"信用卡 {mask_card(bill.card_number)} 本期账单",
        f"账单日：{bill.statement_date}",
        f"本期应还：{money(bill.statement_balance, bill.currency)}",
        f"最低还款：{money(bill.minimum_due, bill.currency)}",
        f"到期还款日：{bill.due_date}",
    ])


def limit_text(bill: CreditCardBill) -> str:
    return "\n".join([
        f"信用卡 {mask_card(bill.card_number)}",
        f"信用额度：{money(bill.credit_limit, bill.currency)}",
        f"可用额度：{money(bill.available_credit, bill.currency)}",
    ])


def balance_text(balance: DebitBalance) -> str:
    return "\n".join([
        f"账户 {mask_card(balance.account_number)}",
        f"账户余额：{money(balance.balance, balance.currency)}",
        f"可用余额：{money(balance.available, balance.currency)}",
    ])


def transactions_text(items: list[Transaction]) -> str:
    if not items:
        return NO_TRANSACTIONS
    lines = [f"最近 {len(items)} 笔交易："]
    for t in items:
        lines.append(f"{t.date} {t.description} {money(t.amount, t.currency)}（{tail_phrase(t.card_number)}）")
    return "\n".join(lines)
