"""Self-service through the bank adapter: binding (绑定/解绑) and card and account queries.

An inbound stage (`desk.pipeline.InboundPipeline`, after "identify", before the bot) that takes
a message when it asks for a self-service action — a menu CLICK with a ``self:<action>`` key,
or a text `desk.self_service_intents` recognises while the customer is not talking to an agent —
or when the customer is in the middle of binding. It answers in the webhook's own answer when that is
still open (a passive reply, `desk.passive`: the webhook waits for messages :meth:`SelfService.may_answer`
says are self-service), else through the customer-service API (`desk.replies.Replies.system_notice`:
WeChat's reply budget applies). Nothing enters a session transcript.

Binding: 绑定 → the customer types the phone number the bank has → the bank sends a code by SMS
(`bank.adapter.BankAdapter.send_verification_code`) → the customer types the code → the bank
checks it and records the binding (``verify_and_bind``). Kefu keeps the binding on the customer
record (``customer.bank``: the bank's customer id and a masked profile for the agents' panel) and
the flow's state in ``customer.self_service`` (step, challenge, wrong codes, lock). Wrong codes
count across codes; after ``max_code_attempts`` (setting ``self_service``) binding is locked for
``lock_minutes``, and so it is when a customer asks for more codes than that (each one texts a
phone: unlimited codes would let anyone text a stranger's phone through the account). Every wrong code, lock, binding, unbinding and query is audited (target: the
openid; numbers masked).

Every bank call has a deadline (`bank.timed.TimedBank`); a call that fails or times out tells the
customer to try later and changes nothing, and the customer's next message is processed as usual.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from bank.adapter import BankAdapter, BankError, NotACustomer
from desk import self_service_answers as say
from desk.errors import ValidationError
from desk.inbound import Processed
from desk.passive import PassiveReplies
from desk.self_service_intents import Action, action_of_key, action_of_text, is_cancel, is_self_service_key
from desk.settings import Settings, SettingSpec
from store.base import Store
from store.records import CustomerRecord
from wechat.messages import InboundMessage

if TYPE_CHECKING:
    from desk.pipeline import InboundWork

log = logging.getLogger("kefu.desk.self_service")

SETTING_KEY = "self_service"
DEFAULTS = {"max_code_attempts": 5, "lock_minutes": 30}
LIMITS = {"max_code_attempts": (1, 10), "lock_minutes": (1, 24 * 60)}
# A binding left half-way (no phone, no code typed) is forgotten after this long, so a customer
# who walked away is not answered "that is not a code" a day later.
FLOW_TTL_SECS = 600
TRANSACTIONS_SHOWN = 5
PHONE = re.compile(r"^1\d{10}$")
CODE = re.compile(r"^\d{4,8}$")
_DIGITS_ONLY = re.compile(r"[\s\-]")


def validate_settings(value: Any, current: Any) -> dict[str, int]:
    if not isinstance(value, dict):
        raise ValidationError(SETTING_KEY, "must be an object with max_code_attempts and lock_minutes")
    out = {**DEFAULTS, **(current or {})}
    for key, item in value.items():
        if key not in LIMITS:
            raise ValidationError(str(key)[:40], "is not a self-service setting (max_code_attempts, lock_minutes)")
        low, high = LIMITS[key]
        if isinstance(item, bool) or not isinstance(item, int) or not low <= item <= high:
            raise ValidationError(key, f"must be a whole number from {low} to {high}")
        out[key] = item
    return out


class SelfService:
    def __init__(self, store: Store, settings: Settings, notify: Callable[[str, str], Awaitable[None]],
                 bank: BankAdapter | None, clock: Callable[[], float],
                 customer_changed: Callable[[CustomerRecord], Awaitable[None]] | None = None,
                 passive: PassiveReplies | None = None) -> None:
        self.store = store
        self.settings = settings
        self.notify = notify  # Replies.system_notice: tells the customer, within WeChat's budget
        self.bank = bank  # a TimedBank (every call with its deadline), or None: self-service is off
        self.clock = clock
        self.customer_changed = customer_changed  # consoles showing the customer repaint its profile
        self.passive = passive  # the webhook's answer, while it waits
        # Customers half-way through binding, so the webhook waits for the answer to their phone
        # number or code too (in memory: after a restart those answers go by the API instead).
        self._in_flow: set[str] = set()
        settings.define(SettingSpec(SETTING_KEY, default=lambda: dict(DEFAULTS), validate=validate_settings))

    async def close(self) -> None:
        """Shut-down: the adapter closes its connections to the bank."""
        if self.bank is not None:
            try:
                await self.bank.close()
            except Exception:  # shutting down: logged, never in the way of the rest
                log.exception("bank adapter did not close cleanly")

    def may_answer(self, message: InboundMessage) -> bool:
        """Whether the webhook should wait for this stage's answer (sync, from the message alone)."""
        if message.is_event:
            return message.event == "CLICK" and is_self_service_key(message.event_key)
        if self.bank is None:
            return False
        return message.openid in self._in_flow or action_of_text(message.content or message.recognition) is not None

    # -- the inbound stage -----------------------------------------------------------------------
    async def stage(self, work: InboundWork) -> Processed | None:
        """Take the message (answered; returns what became of it) or pass it on (None)."""
        message = work.message
        known: dict[str, Any] = dict(work.known or {})
        flow = self._flow(known, work.now)
        if flow is None:
            self._in_flow.discard(work.openid)  # a flow walked away from ran out: not waited for
        action: Action | None = None
        if message.is_event:
            if message.event != "CLICK" or not is_self_service_key(message.event_key):
                return None
            action = action_of_key(message.event_key)
        else:
            # A voice message counts by WeChat's recognition of it ("查余额"), as the bot reads it.
            text = (message.content or message.recognition or "").strip()
            if not text:
                return None
            if flow is None and (work.session is not None or self.bank is None):
                return None  # talking to an agent (or no bank): the words are the agent's
            # Another action's words during a binding ("账单") start that action instead.
            action = action_of_text(text)
            if action is None and flow is None:
                return None
        customer = await self.store.upsert_customer(work.openid, seen_at=work.now, **work.changes)
        if self.bank is None or (action is None and flow is None):
            answer = say.UNAVAILABLE
        elif action is not None:
            answer = await self._act(customer, action)
        else:
            answer = await self._continue(customer, flow or {}, (message.content or message.recognition or "").strip())
        if self.passive is None or not self.passive.offer(work.key, answer):
            await self.notify(work.openid, answer)
        return Processed(None)

    def _flow(self, customer: dict[str, Any], now: float) -> dict[str, Any] | None:
        state = customer.get("self_service") or {}
        if state.get("step") and now - float(state.get("started_at") or 0) < FLOW_TTL_SECS:
            return dict(state)
        return None

    # -- actions ---------------------------------------------------------------------------------
    async def _act(self, customer: CustomerRecord, action: Action) -> str:
        openid = customer["openid"]
        binding = customer.get("bank") or None
        if action == "bind":
            return await self._start_binding(customer, binding)
        state = dict(customer.get("self_service") or {})
        if state.get("step"):  # another action ends a binding left half-way
            await self._save_state(openid, {**state, "step": None, "challenge_id": None})
        if not binding:
            return say.NOT_BOUND
        assert self.bank is not None
        customer_id = str(binding["customer_id"])
        try:
            if action == "unbind":
                await self.bank.unbind(customer_id, openid)
                updated = await self.store.update_customer(openid, bank=None)
                await self._audit("bank_unbound", openid, {"customer_id": customer_id})
                await self._changed(updated)
                return say.UNBOUND
            answer = await self._query(customer, customer_id, action)
        except NotACustomer:
            updated = await self.store.update_customer(openid, bank=None)
            await self._audit("bank_unbound", openid, {"customer_id": customer_id, "reason": "not_a_customer"})
            await self._changed(updated)
            return say.NOT_BOUND
        except BankError:
            return say.TRY_LATER
        await self._audit("bank_query", openid, {"customer_id": customer_id, "query": action})
        return answer

    async def _query(self, customer: CustomerRecord, customer_id: str, action: Action) -> str:
        assert self.bank is not None
        if action in ("bill", "limit"):
            bill = await self.bank.credit_card_bill(customer_id)
            if bill is None:
                return say.NO_CREDIT_CARD
            return say.bill_text(bill) if action == "bill" else say.limit_text(bill)
        if action == "balance":
            balance = await self.bank.debit_balance(customer_id)
            return say.NO_DEBIT if balance is None else say.balance_text(balance)
        if action == "transactions":
            return say.transactions_text(await self.bank.recent_transactions(customer_id, TRANSACTIONS_SHOWN))
        # profile: asked of the bank again, so the agents' panel shows it fresh too
        profile = say.profile_snapshot(await self.bank.customer(customer_id), self.clock())
        updated = await self.store.update_customer(customer["openid"], bank={**(customer.get("bank") or {}), **profile})
        await self._changed(updated)
        return say.profile_text(profile)

    # -- binding ---------------------------------------------------------------------------------
    async def _start_binding(self, customer: CustomerRecord, binding: dict[str, Any] | None) -> str:
        if binding:
            return say.already_bound(binding)
        state = dict(customer.get("self_service") or {})
        locked = self._locked_minutes(state)
        if locked:
            return say.locked(locked)
        await self._save_state(customer["openid"], {**self._unlocked(state), "step": "phone",
                                                     "challenge_id": None, "started_at": self.clock()})
        return say.BIND_ASK_PHONE

    async def _continue(self, customer: CustomerRecord, flow: dict[str, Any], text: str) -> str:
        openid = customer["openid"]
        if is_cancel(text):
            await self._save_state(openid, {**flow, "step": None, "challenge_id": None})
            return say.BIND_CANCELLED
        typed = _DIGITS_ONLY.sub("", text)
        assert self.bank is not None
        if flow["step"] == "phone":
            if not PHONE.match(typed):
                return say.BIND_BAD_PHONE
            limits = await self.settings.get(SETTING_KEY)
            sent = int(flow.get("codes_sent") or 0)
            if sent >= limits["max_code_attempts"]:
                # As many codes as wrong guesses allowed: more would let anyone text a stranger's
                # phone again and again through this account.
                return await self._lock(openid, flow, "too_many_codes")
            try:
                challenge = await self.bank.send_verification_code(typed, openid)
            except BankError:
                # Ended: "try later" means start again later, not "type your number again now".
                await self._save_state(openid, {**flow, "step": None, "challenge_id": None})
                return say.TRY_LATER
            await self._save_state(openid, {**flow, "step": "code", "challenge_id": challenge.challenge_id,
                                            "started_at": self.clock(), "codes_sent": sent + 1})
            return say.code_sent(challenge.sent_to, challenge.expires_in_s)
        if not CODE.match(typed):
            return say.BIND_BAD_CODE
        try:
            result = await self.bank.verify_and_bind(str(flow.get("challenge_id")), typed, openid)
        except BankError:
            return say.TRY_LATER  # not counted: the bank did not say the code was wrong
        if result.outcome == "expired":
            await self._save_state(openid, {**flow, "step": None, "challenge_id": None})
            return say.BIND_EXPIRED
        if result.outcome == "wrong_code" or not result.customer_id:
            return await self._wrong_code(openid, flow)
        return await self._bound(openid, result.customer_id)

    async def _wrong_code(self, openid: str, flow: dict[str, Any]) -> str:
        limits = await self.settings.get(SETTING_KEY)
        failures = int(flow.get("failures") or 0) + 1
        await self._audit("self_service_code_wrong", openid, {"failures": failures})
        if failures < limits["max_code_attempts"]:
            await self._save_state(openid, {**flow, "failures": failures})
            return say.wrong_code(limits["max_code_attempts"] - failures)
        return await self._lock(openid, {**flow, "failures": failures}, "wrong_codes")

    async def _lock(self, openid: str, flow: dict[str, Any], reason: str) -> str:
        limits = await self.settings.get(SETTING_KEY)
        until = self.clock() + 60 * limits["lock_minutes"]
        failures = int(flow.get("failures") or 0)
        await self._save_state(openid, {**flow, "step": None, "challenge_id": None, "locked_until": until})
        await self._audit("self_service_locked", openid, {"failures": failures, "codes_sent": flow.get("codes_sent"),
                                                          "reason": reason, "locked_until": until})
        log.warning("self-service binding locked", extra={"fields": {"openid": openid, "reason": reason}})
        return say.locked(limits["lock_minutes"])

    async def _bound(self, openid: str, customer_id: str) -> str:
        assert self.bank is not None
        now = self.clock()
        binding: dict[str, Any] = {"customer_id": customer_id, "bound_at": now}
        try:
            binding.update(say.profile_snapshot(await self.bank.customer(customer_id), now))
        except BankError:
            pass  # bound all the same; the profile is fetched at the next "我的信息"
        fresh = {"step": None, "failures": 0, "codes_sent": 0}  # a binding forgives what came before
        updated = await self.store.update_customer(openid, bank=binding, self_service=fresh)
        self._in_flow.discard(openid)
        await self._audit("bank_bound", openid, {"customer_id": customer_id})
        await self._changed(updated)
        return say.bound(binding)

    # -- state -------------------------------------------------------------------------------------
    def _locked_minutes(self, state: dict[str, Any]) -> int:
        left = float(state.get("locked_until") or 0) - self.clock()
        return math.ceil(left / 60) if left > 0 else 0

    @staticmethod
    def _unlocked(state: dict[str, Any]) -> dict[str, Any]:
        """A lock that ran out forgives the wrong codes that caused it."""
        if state.get("locked_until"):
            return {**state, "locked_until": None, "failures": 0, "codes_sent": 0}
        return state

    async def _save_state(self, openid: str, state: dict[str, Any]) -> None:
        await self.store.update_customer(openid, self_service=state)
        if state.get("step"):
            self._in_flow.add(openid)
        else:
            self._in_flow.discard(openid)

    async def _audit(self, action: str, openid: str, details: dict[str, Any]) -> None:
        await self.store.add_audit({"ts": self.clock(), "actor_id": None, "action": action, "target": openid,
                                    "details": details})

    async def _changed(self, customer: CustomerRecord) -> None:
        if self.customer_changed is not None:
            await self.customer_changed(customer)
