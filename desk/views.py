"""What consoles are shown of a session: its public record, its bundle (transcript, history) and offers.

Reads only (the store and the clock); every feature that sends a session to a console builds it
here, so an offer, a welcome, an accept and a monitor show the same fields.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from desk import handover as ho
from desk.transcripts import public_message
from store.base import Store
from store.records import SessionRecord
from wechat.budget import ReplyBudget

HISTORY_SESSIONS = 5
# A leave-message's offer carries the customer's latest messages, at most this many.
LEAVE_MESSAGE_PREVIEW = 20


def customer_brief(customer: Mapping[str, Any] | None, openid: str) -> dict[str, Any]:
    """The customer as events show them: who they are (name, avatar), beside their openid."""
    c: Mapping[str, Any] = customer or {}
    return {"openid": openid, "nickname": c.get("nickname"), "avatar_url": c.get("avatar_url"),
            "tags": c.get("tags") or []}


class SessionViews:
    def __init__(self, store: Store, clock: Callable[[], float]) -> None:
        self.store = store
        self.clock = clock

    async def public_session(self, session: SessionRecord, customer: Mapping[str, Any] | None = None) -> dict:
        # A customer not stored (yet) shows as just their openid.
        if customer is None:
            customer = await self.store.get_customer(session["openid"]) or {"openid": session["openid"]}
        budget = ReplyBudget.from_dict(customer.get("budget"))
        out = {k: v for k, v in session.items() if k not in ("_id",)}
        out["customer"] = {**customer_brief(customer, session["openid"]), "first_seen": customer.get("first_seen"),
                           "last_seen": customer.get("last_seen")}
        out["budget"] = budget.to_public(self.clock())
        return out

    async def bundle(self, session: SessionRecord, with_history: bool = False,
                     max_messages: int | None = None) -> dict[str, Any]:
        messages = await self.store.session_messages(session["id"])
        bundle: dict[str, Any] = {"session": await self.public_session(session)}
        if max_messages is not None:
            bundle["earlier"] = max(0, len(messages) - max_messages)  # older messages left out
            messages = messages[bundle["earlier"]:]
        bundle["messages"] = [public_message(m) for m in messages]
        if with_history:
            past = await self.store.customer_sessions(session["openid"], limit=HISTORY_SESSIONS + 1)
            bundle["history"] = [s for s in past if s["id"] != session["id"]][:HISTORY_SESSIONS]
        return bundle

    async def offer(self, session: SessionRecord, agent_id: str, skill: str, expires_in: float,
                    transfer_from: str | None) -> dict[str, Any]:
        """The ``offer`` event's data (docs/protocol.md)."""
        customer: Mapping[str, Any] = await self.store.get_customer(session["openid"]) or {}
        messages = await self.store.session_messages(session["id"])
        preview = next((m.get("text") for m in reversed(messages) if m["direction"] == "in"), None)
        data: dict[str, Any] = {
            "session_id": session["id"], "skill": skill, "expires_in": round(expires_in, 1),
            "customer": customer_brief(customer, session["openid"]),
            "waited_s": round(self.clock() - (session.get("queued_at") or session["created_at"]), 1),
            "preview": preview, "transfer_from": transfer_from, "transfer": None,
        }
        handover = session.get("handover")
        if handover and ho.applies_to(handover, agent_id):
            data["transfer"] = ho.offer_context(handover, await self.names(handover.get("from"), handover.get("by")))
        data["kind"] = "session"
        if lm := session.get("leave_message"):
            # A leave-message (留言, desk/leave_messages.py): what the console shows before accepting.
            now = self.clock()
            due = lm.get("due_at")
            data["kind"] = "leave_message"
            data["leave_message"] = {"created_at": lm.get("created_at"), "due_at": due, "reason": lm.get("reason"),
                                     "age_s": round(now - float(lm.get("created_at") or now), 1),
                                     "breached": due is not None and now > float(due)}
            data["messages"] = [public_message(m) for m in messages if m["direction"] == "in"][-LEAVE_MESSAGE_PREVIEW:]
        return data

    async def names(self, *user_ids: str | None) -> dict[str, str]:
        names = {}
        for user_id in {u for u in user_ids if u}:
            user = await self.store.get_user(user_id)
            if user is not None:
                names[user_id] = user.get("name") or user.get("username") or user_id
        return names
